#!/usr/bin/env bash
# Rebuilds requirements/fuzz-lock.txt (the exact environment of .venv-fuzz) from requirements/fuzz.in.
exec "$(dirname "$0")/tool-lock.sh" fuzz schemathesis
