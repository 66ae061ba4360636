#!/usr/bin/env bash
# The whole test suite: lint (ruff), types (mypy), then pytest (unit, property, reference-vector, CLI tests and
# doctests). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/mypy
exec .venv/bin/python -m pytest "$@"
