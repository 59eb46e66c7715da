"""datatrove side of ``bench/bench_lang_pii.py``; runs under the datatrove venv, never imports thresher.

    /work/dt-venv/bin/python bench/_datatrove_lang_pii.py CORPUS.jsonl OUT.jsonl

For every document of CORPUS (JSONL with ``id`` and ``text``) it writes one line to OUT: the language and
score of datatrove's ``LanguageFilter`` (FT176LID, whatever lid.176 file sits in its asset cache) and the
text after ``PIIFormatter`` with single fixed replacements (so both sides' outputs can be compared).
A final line ``{"_speed": {...}}`` holds the CPU seconds each component took over all documents.
"""

from __future__ import annotations

import argparse
import json
import time

from datatrove.data import Document
from datatrove.pipeline.filters import LanguageFilter
from datatrove.pipeline.formatters import PIIFormatter

EMAIL, IP = "<EMAIL>", "<IP>"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus")
    ap.add_argument("out")
    args = ap.parse_args()
    docs = [json.loads(line) for line in open(args.corpus, encoding="utf-8")]
    lid = LanguageFilter(languages=["en"], language_threshold=0.65)
    pii = PIIFormatter(email_replacement=EMAIL, ip_replacement=IP)

    lid.filter(Document(text="warm up the model", id="warm"))   # model load is not part of the timing
    langs = []
    start = time.process_time()
    for d in docs:
        doc = Document(text=d["text"], id=d["id"])
        keep = lid.filter(doc)
        langs.append((doc.metadata["language"], doc.metadata["language_score"], bool(keep)))
    lid_s = time.process_time() - start

    texts = []
    start = time.process_time()
    for d in docs:
        texts.append(pii.format(d["text"]))
    pii_s = time.process_time() - start

    with open(args.out, "w", encoding="utf-8") as out:
        for d, (lang, score, keep), text in zip(docs, langs, texts):
            out.write(json.dumps({"id": d["id"], "language": lang, "language_score": score, "keep_en": keep,
                                  "pii_text": text}, ensure_ascii=False) + "\n")
        out.write(json.dumps({"_speed": {"lid_s": lid_s, "pii_s": pii_s, "docs": len(docs)}}) + "\n")


if __name__ == "__main__":
    main()
