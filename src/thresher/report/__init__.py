"""Run reports: ``report.html`` (written at the end of every complete run, or by ``thresher report``)
and ``thresher inspect`` for one document, one rule's removals, or the funnel as a table."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from thresher.atomic import read_json
from thresher.pipeline import Pipeline
from thresher.report.card import write_card
from thresher.report.html import render
from thresher.report.html import write_report as _write_report
from thresher.rundir import RunDir
from thresher.schema import Schema


def write_report(run_dir: str | Path) -> Path | None:
    """Write ``RUN_DIR/report.html``. A failure here must not fail the run (its outputs are complete): it
    is reported on stderr and the report can be rebuilt with ``thresher report RUN_DIR``."""
    try:
        return _write_report(run_dir)
    except Exception as exc:  # noqa: BLE001 - the run's outputs stand; only the page is missing
        print(f"thresher: report.html not written ({type(exc).__name__}: {exc}); "
              f"rebuild it with: thresher report {run_dir}", file=sys.stderr)
        return None


def write_card_and_report(run_dir: str | Path, summary: dict[str, Any], pipeline: Pipeline) -> None:
    """What a complete run gets last: its dataset card (``README.md``) and ``report.html``. The commands
    call this (``thresher.run.run``, ``thresher.refilter``), not the engines, which know nothing of reports."""
    rd = RunDir(run_dir)
    write_card(rd.path, summary, read_json(rd.plan_path), Schema.of(pipeline.steps),
               pipeline.writer.get("format", "jsonl.zst"))
    write_report(rd.path)


__all__ = ["render", "write_card_and_report", "write_report"]
