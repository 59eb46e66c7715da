"""datatrove side of ``bench/bench_filters.py``; runs under the datatrove venv, never imports thresher.

    /work/dt-venv/bin/python bench/_datatrove_filters.py CORPUS.jsonl OUT.jsonl [--speed-n N]

For every document of CORPUS (JSONL with ``id`` and ``text``) it writes one line to OUT: each filter's
decision on the original text (``null`` = kept, else datatrove's reason), applied independently. Then it
times the FineWeb recipe's filter chain (Gopher repetition, Gopher quality, C4 without the terminal
punctuation rule, FineWeb quality; C4 edits the text the next filter sees) on the first N documents and
writes one final line ``{"_speed": {...}}``.
"""

from __future__ import annotations

import argparse
import json
import time

from datatrove.data import Document
from datatrove.pipeline.filters import (
    C4QualityFilter,
    FineWebQualityFilter,
    GopherQualityFilter,
    GopherRepetitionFilter,
)


def decide(flt, text: str, doc_id: str) -> str | None:
    doc = Document(text=text, id=doc_id)
    try:
        out = flt.filter(doc)
    except Exception as exc:  # noqa: BLE001 - a crash is a result worth reporting
        return f"error:{type(exc).__name__}"
    if out is True:
        return None
    return out[1] if isinstance(out, tuple) else "dropped"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus")
    ap.add_argument("out")
    ap.add_argument("--speed-n", type=int, default=0)
    ap.add_argument("--no-parity", action="store_true")
    args = ap.parse_args()
    docs = [json.loads(line) for line in open(args.corpus, encoding="utf-8")]
    filters = {
        "gopher_quality": GopherQualityFilter(),
        "gopher_repetition": GopherRepetitionFilter(),
        "c4": C4QualityFilter(),
        "c4_fineweb": C4QualityFilter(filter_no_terminal_punct=False),
        "fineweb_quality": FineWebQualityFilter(),
    }
    with open(args.out, "w", encoding="utf-8") as out:
        if not args.no_parity:
            for d in docs:
                row = {"id": d["id"]}
                for name, flt in filters.items():
                    row[name] = decide(flt, d["text"], d["id"])
                out.write(json.dumps(row) + "\n")
        if args.speed_n:
            chain = [GopherRepetitionFilter(), GopherQualityFilter(),
                     C4QualityFilter(filter_no_terminal_punct=False), FineWebQualityFilter()]
            subset = docs[: args.speed_n]
            # warm-up: load spaCy and its tables outside the timed loop
            for flt in chain:
                flt.filter(Document(text="Warm up the tokenizer. " * 20, id="warm"))
            kept = 0
            start, cpu = time.perf_counter(), time.process_time()
            for d in subset:
                doc = Document(text=d["text"], id=d["id"])
                for flt in chain:
                    res = flt.filter(doc)
                    if res is not True:
                        break
                else:
                    kept += 1
            elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
            out.write(json.dumps({"_speed": {"docs": len(subset), "seconds": elapsed, "cpu_seconds": cpu,
                                             "kept": kept}}) + "\n")


if __name__ == "__main__":
    main()
