from __future__ import annotations

import importlib
import sys

from thresher.eval import EVALUATORS


def cli(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in EVALUATORS:
        names = ", ".join(sorted(EVALUATORS)) or "(none yet)"
        asked_help = bool(argv) and argv[0] in ("-h", "--help")
        problem = "" if asked_help else ("no evaluator given\n" if not argv else f"unknown evaluator {argv[0]!r}\n")
        print(f"{'thresher eval: ' + problem if problem else ''}usage: thresher eval NAME --data DIR [...]\n"
              f"evaluators: {names}", file=sys.stdout if asked_help else sys.stderr)
        return 0 if asked_help else 2
    module, _, func = EVALUATORS[argv[0]].partition(":")
    return int(getattr(importlib.import_module(module), func)(argv[1:]) or 0)
