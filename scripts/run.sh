#!/usr/bin/env bash
# The main job: start the dashboard on the default scenario at http://127.0.0.1:8050
# (extra arguments go to `contagion dashboard`, e.g. --port 8051 or --host 0.0.0.0).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/contagion dashboard "$@"
