"""datatrove side of ``bench/bench_classify.py``; runs under the datatrove venv, never imports thresher.

    /work/dt-venv/bin/python bench/_datatrove_classify.py MODEL CORPUS.jsonl OUT.jsonl

Scores every document of CORPUS (JSONL with ``id`` and ``text``) with datatrove's
``FastTextClassifierFilter`` (keep ``hq`` at 0.5, whole documents, newlines replaced by a space so that
fastText sees the same words as thresher's DCLM normalisation) and writes one line per document: the
``hq`` score and the keep decision. A final line ``{"_speed": {"cpu_s": ...}}`` holds the CPU seconds of
the scoring loop (the model load is not timed, as on thresher's side).
"""

from __future__ import annotations

import argparse
import json
import os
import time

from datatrove.data import Document
from datatrove.io import strip_protocol
from datatrove.pipeline.filters import FastTextClassifierFilter
from huggingface_hub import cached_assets_path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("corpus")
    ap.add_argument("out")
    args = ap.parse_args()
    docs = [json.loads(line) for line in open(args.corpus, encoding="utf-8")]
    # datatrove copies a model into its asset cache under the model's path and reuses that copy: drop a
    # stale copy first, or a retrained model at the same path would not be the one scored
    cached = os.path.join(cached_assets_path(library_name="datatrove", namespace="filters", subfolder="fasttext"),
                          strip_protocol(args.model).replace("/", "_"))
    for stale in (cached, cached + ".completed"):
        if os.path.exists(stale):
            os.remove(stale)
    step = FastTextClassifierFilter(model_url=args.model, keep_labels=("hq", 0.5), newline_replacement=" ")
    step.filter(Document(text="warm up the model", id="warm"))
    rows = []
    start = time.process_time()
    for d in docs:
        doc = Document(text=d["text"], id=d["id"])
        keep = step.filter(doc)
        rows.append({"id": d["id"], "hq": float(doc.metadata["__label__hq"]), "keep": bool(keep)})
    cpu_s = time.process_time() - start
    with open(args.out, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row) + "\n")
        fh.write(json.dumps({"_speed": {"cpu_s": cpu_s}}) + "\n")


if __name__ == "__main__":
    main()
