"""``thresher eval NAME``: route to one evaluator, once its packages are known to be installed."""

from __future__ import annotations

import importlib
import sys

from thresher_eval import EVALUATORS, require


def cli(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in EVALUATORS:
        names = ", ".join(sorted(EVALUATORS)) or "(none yet)"
        asked_help = bool(argv) and argv[0] in ("-h", "--help")
        problem = "" if asked_help else ("no evaluator given\n" if not argv else f"unknown evaluator {argv[0]!r}\n")
        print(f"{'thresher eval: ' + problem if problem else ''}usage: thresher eval NAME --data DIR [...]\n"
              f"evaluators: {names}", file=sys.stdout if asked_help else sys.stderr)
        return 0 if asked_help else 2
    target, needs = EVALUATORS[argv[0]]
    if not require(f"thresher eval {argv[0]}", needs):
        return 2
    module, _, func = target.partition(":")
    return int(getattr(importlib.import_module(module), func)(argv[1:]) or 0)
