"""Run reports: ``report.html`` (written at the end of every complete run, or by ``thresher report``)
and ``thresher inspect`` for one document, one rule's removals, or the funnel as a table."""

from __future__ import annotations

import sys
from pathlib import Path

from thresher.report.html import render
from thresher.report.html import write_report as _write_report


def write_report(run_dir: str | Path) -> Path | None:
    """Write ``RUN_DIR/report.html``; the engine calls this at the end of every complete run. A failure
    here must not fail the run (its outputs are complete): it is reported on stderr and the report can be
    rebuilt with ``thresher report RUN_DIR``."""
    try:
        return _write_report(run_dir)
    except Exception as exc:  # noqa: BLE001 - the run's outputs stand; only the page is missing
        print(f"thresher: report.html not written ({type(exc).__name__}: {exc}); "
              f"rebuild it with: thresher report {run_dir}", file=sys.stderr)
        return None


__all__ = ["render", "write_report"]
