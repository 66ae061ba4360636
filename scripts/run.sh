#!/usr/bin/env bash
# The main job: run the default scenario and print its summary (the dashboard takes over
# this command once it exists). Extra arguments go to `contagion run`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/contagion run --force "$@"
