"""``thresher report RUN_DIR``: (re)build a run directory's report.html."""

from __future__ import annotations

import argparse
import sys


def cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="thresher report", description=(
        "Write RUN_DIR/report.html: one self-contained page (opens offline) with the funnel, drop reasons, "
        "text lengths, languages, duplicate clusters, sites, and samples of removed documents and lines. "
        "A complete run writes it by itself; this rebuilds it (also for an unfinished run)."))
    parser.add_argument("run_dir", metavar="RUN_DIR")
    parser.add_argument("-o", "--output", help="write the page here instead of RUN_DIR/report.html")
    args = parser.parse_args(argv)

    from thresher.report.html import render, write_report

    try:
        if args.output:
            with open(args.output, "w", encoding="utf-8") as fh:
                fh.write(render(args.run_dir))
            path = args.output
        else:
            path = write_report(args.run_dir)
    except FileNotFoundError as exc:
        print(f"thresher report: {exc}", file=sys.stderr)
        return 2
    print(path)
    return 0
