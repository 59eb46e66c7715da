"""Run reports: ``report.html`` (written at the end of every complete run, or by ``thresher report``)
and ``thresher inspect`` for one document, one rule's removals, or the funnel as a table."""

from thresher.report.html import render, write_report

__all__ = ["render", "write_report"]
