#!/usr/bin/env bash
# Install thresher into .venv and run the default pipeline on the bundled sample (the README's main command).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -e .
.venv/bin/thresher run sample/ -o runs/sample --restart
echo "kept documents: runs/sample/kept/   report: runs/sample/report.html"
