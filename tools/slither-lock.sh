#!/usr/bin/env bash
# Rebuilds requirements/slither-lock.txt (the exact environment of .venv-slither) from requirements/slither.in.
exec "$(dirname "$0")/tool-lock.sh" slither Slither
