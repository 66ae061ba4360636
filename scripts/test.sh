#!/usr/bin/env bash
# The whole test suite: lint (ruff), types (mypy), then pytest (unit, property, reference
# vectors, CLI, doctests, and browser tests of the dashboard in Debian's headless Chromium,
# installed here when missing). Pytest runs on every core (pytest-xdist; set
# CONTAGION_TEST_WORKERS=0 for one process). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1; then
  echo "installing Debian's chromium for the browser tests..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/mypy
exec .venv/bin/python -m pytest -n "${CONTAGION_TEST_WORKERS:-auto}" --dist worksteal "$@"
