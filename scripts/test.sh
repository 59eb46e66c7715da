#!/usr/bin/env bash
# Install thresher with its test extras into .venv and run the tests (the README's test command).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -e '.[dev]'
.venv/bin/ruff check src tests bench
.venv/bin/python -m pytest -q
