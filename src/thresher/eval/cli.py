from __future__ import annotations

import importlib
import sys

from thresher.eval import EVALUATORS


def cli(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in EVALUATORS:
        names = ", ".join(sorted(EVALUATORS)) or "(none yet)"
        print(f"usage: thresher eval NAME --data DIR [...]\nevaluators: {names}",
              file=sys.stderr if argv and argv[0] not in ("-h", "--help") else sys.stdout)
        return 0 if not argv or argv[0] in ("-h", "--help") else 2
    module, _, func = EVALUATORS[argv[0]].partition(":")
    return int(getattr(importlib.import_module(module), func)(argv[1:]) or 0)
