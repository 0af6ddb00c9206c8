#!/usr/bin/env bash
# Create .venv/ at the repository root and install Undertow into it (CPU torch 2.13.0).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[dev,ray]'
echo "installed: $(.venv/bin/undertow --version)"
