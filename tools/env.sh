# Source this to use the project's tools by hand, as `make` does:  . tools/env.sh
# (then e.g. `brownie compile`, `brownie console --network kyoso-test`, `pytest tests/... --network kyoso-test`)
_kyoso_root=$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)
export SOLCX_BINARY_PATH="$_kyoso_root/.solcx"
export PATH="$_kyoso_root/.venv/bin:$_kyoso_root/.bin:$_kyoso_root/node_modules/.bin:$PATH"
unset _kyoso_root
