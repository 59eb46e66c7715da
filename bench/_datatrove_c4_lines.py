"""datatrove side of ``bench/bench_clean.py``; runs under the datatrove venv, never imports thresher.

    /work/dt-venv/bin/python bench/_datatrove_c4_lines.py TEXTS.json

Times datatrove's ``C4QualityFilter`` (its line-level cleaning: terminal punctuation, short lines,
javascript/policy lines; page-level drops kept at their defaults) over the texts, best of 3 passes, and
prints documents per CPU second as the last word of its output.
"""

from __future__ import annotations

import json
import sys
import time

from datatrove.data import Document
from datatrove.pipeline.filters import C4QualityFilter


def main() -> None:
    texts = json.load(open(sys.argv[1], encoding="utf-8"))
    flt = C4QualityFilter(filter_no_terminal_punct=True)
    flt.filter(Document(text=texts[0], id="warm"))
    best = float("inf")
    for _ in range(3):
        t0 = time.process_time()
        for i, t in enumerate(texts):
            flt.filter(Document(text=t, id=str(i)))
        best = min(best, time.process_time() - t0)
    print(f"docs_per_cpu_s {len(texts) / best:.1f}")


if __name__ == "__main__":
    main()
