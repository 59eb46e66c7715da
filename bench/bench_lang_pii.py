"""Language ID and PII redaction: thresher vs datatrove on the same real documents, in one run.

    python bench/bench_lang_pii.py [--data ../shared/data] [--out bench/out/lang_pii] [--corpus FILE]
                                   [--model ../shared/data/lid/lid.176.ftz] [--dt-python /work/dt-venv/bin/python]

Corpus: the one ``bench/bench_filters.py`` builds (WCXB dev pages as main-content and whole-page text, and
the HPLT crawl sample's warc2text output), built into OUT/corpus.jsonl when no ``--corpus`` is given.

- LID parity: thresher's ``lid`` (fasttext backend, same lid.176 file) against datatrove's LanguageFilter
  (FT176LID): same top label, score difference, same keep/drop for English at 0.65. The cld2 backend is
  compared too (a different model: agreement, not parity).
- PII parity: thresher's ``pii`` with phones off (datatrove has no phone rule) against datatrove's
  PIIFormatter, both with fixed replacement tokens: identical output text per document. The differing
  spans go to OUT/pii_disagreements.jsonl.
- Speed: CPU seconds (process time: the machine may be shared) over all documents, one process each,
  docs/s and the ratio.

datatrove's model must be in its asset cache (see bench/README.md, ``setup_datatrove.sh``); its timing
excludes the model load, as ours does.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
import time
from pathlib import Path

from thresher.document import Document
from thresher.filters.lang import _LETTER, LanguageFilter, LanguageID, normalize_code
from thresher.filters.pii import PIIRedact

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))


def timed_lid(step: LanguageID, docs: list[dict]) -> tuple[list[tuple[str, float, bool]], float]:
    step.setup()
    keep = LanguageFilter(languages=["en"], min_score=0.65)
    out = []
    start = time.process_time()
    for d in docs:
        doc = step.map(Document(id=d["id"], text=d["text"]))
        out.append((doc.meta["language"], doc.meta["language_score"], keep.filter(doc) is None))
    return out, time.process_time() - start


def timed_pii(docs: list[dict]) -> tuple[list[str], float]:
    step = PIIRedact(phones=False, email_replacement="<EMAIL>", ip_replacement="<IP>", ipv6_replacement="<IP>")
    out = []
    start = time.process_time()
    for d in docs:
        out.append(step.map(Document(id=d["id"], text=d["text"])).text)
    return out, time.process_time() - start


def diff_spans(a: str, b: str, context: int = 30) -> list[dict]:
    spans = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            spans.append({"thresher": a[max(0, i1 - context):i2 + context],
                          "datatrove": b[max(0, j1 - context):j2 + context]})
    return spans


def main(argv: list[str] | None = None) -> int:
    from common import run_on_chunk

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT / ".." / "shared" / "data")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "lang_pii")
    ap.add_argument("--corpus", type=Path, default=None)
    ap.add_argument("--model", type=Path, default=None, help="lid.176 for thresher (default: DATA/lid/lid.176.ftz)")
    ap.add_argument("--dt-python", default="/work/dt-venv/bin/python")
    ap.add_argument("--chunks", type=int, default=8, help="alternate the two sides over this many chunks")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    corpus = args.corpus or args.out / "corpus.jsonl"
    if not corpus.exists():
        from bench_filters import build_corpus

        build_corpus(args.data, corpus, None)
    docs = [json.loads(line) for line in corpus.open(encoding="utf-8")]
    model = args.model or args.data / "lid" / "lid.176.ftz"

    # Alternate the two sides chunk by chunk, so that a busy neighbour on a shared machine slows both
    # alike (whole-corpus runs one after the other gave ratios from 0.5x to 1.5x for the same model).
    ft_step, cld2_step = LanguageID(backend="fasttext", model_path=str(model)), LanguageID(backend="cld2")
    dt_rows: list[dict] = []
    dt_speed = {"lid_s": 0.0, "pii_s": 0.0}
    ft, cld2, pii_texts = [], [], []
    ft_s = cld2_s = pii_s = 0.0
    size = -(-len(docs) // args.chunks)
    for i in range(0, len(docs), size):
        chunk = docs[i:i + size]
        rows = run_on_chunk([args.dt_python, str(ROOT / "bench" / "_datatrove_lang_pii.py")], chunk, args.out)
        speed = rows.pop()["_speed"]
        dt_rows += rows
        dt_speed["lid_s"] += speed["lid_s"]
        dt_speed["pii_s"] += speed["pii_s"]
        out, secs = timed_lid(ft_step, chunk)
        ft += out
        ft_s += secs
        out, secs = timed_lid(cld2_step, chunk)
        cld2 += out
        cld2_s += secs
        out, secs = timed_pii(chunk)
        pii_texts += out
        pii_s += secs

    n = len(docs)

    # thresher answers "un" for a text without letters (empty pages); fastText answers its prior, "en" 0.12
    has_letters = [bool(_LETTER.search(d["text"])) for d in docs]
    n_letters = sum(has_letters)

    def agreement(ours: list[tuple[str, float, bool]]) -> tuple[float, float, float, float]:
        same = [o[0] == normalize_code(r["language"]) for o, r in zip(ours, dt_rows)]
        same_label = sum(same) / n
        same_label_letters = sum(s for s, h in zip(same, has_letters) if h) / n_letters
        same_keep = sum(o[2] == r["keep_en"] for o, r in zip(ours, dt_rows)) / n
        max_diff = max(abs(o[1] - r["language_score"]) for o, r, s in zip(ours, dt_rows, same) if s)
        return same_label, same_label_letters, same_keep, max_diff

    ft_agree, cld2_agree = agreement(ft), agreement(cld2)
    pii_same = 0
    with (args.out / "pii_disagreements.jsonl").open("w", encoding="utf-8") as fh:
        for d, ours, row in zip(docs, pii_texts, dt_rows):
            if ours == row["pii_text"]:
                pii_same += 1
            else:
                fh.write(json.dumps({"id": d["id"], "spans": diff_spans(ours, row["pii_text"])},
                                    ensure_ascii=False) + "\n")
    with (args.out / "lid_disagreements.jsonl").open("w", encoding="utf-8") as fh:
        for d, o, row in zip(docs, ft, dt_rows):
            if o[0] != row["language"] or o[2] != row["keep_en"]:
                fh.write(json.dumps({"id": d["id"], "thresher": o, "datatrove": [row["language"], row["language_score"],
                                     row["keep_en"]], "text": d["text"][:300]}, ensure_ascii=False) + "\n")

    print(f"{n} documents ({corpus}); datatrove LanguageFilter(FT176LID) and PIIFormatter; model {model}\n")
    print("| component | agreement with datatrove | thresher docs/s | datatrove docs/s | speed ratio |")
    print("|---|---|---:|---:|---:|")
    dt_lid = n / dt_speed["lid_s"]
    print(f"| lid fasttext | label {ft_agree[0]:.2%} ({ft_agree[1]:.2%} of the {n_letters} texts with letters), "
          f"keep-en@0.65 {ft_agree[2]:.2%}, max score diff {ft_agree[3]:.2g} "
          f"| {n / ft_s:,.0f} | {dt_lid:,.0f} | {dt_speed['lid_s'] / ft_s:.1f}x |")
    print(f"| lid cld2 (other model) | label {cld2_agree[0]:.2%} ({cld2_agree[1]:.2%} with letters), "
          f"keep-en@0.65 {cld2_agree[2]:.2%} "
          f"| {n / cld2_s:,.0f} | {dt_lid:,.0f} | {dt_speed['lid_s'] / cld2_s:.1f}x |")
    print(f"| pii (emails + IPs) | identical text {pii_same / n:.2%} ({n - pii_same} differ) "
          f"| {n / pii_s:,.0f} | {n / dt_speed['pii_s']:,.0f} | {dt_speed['pii_s'] / pii_s:.1f}x |")
    print(f"\ndocs/s from CPU time (process_time), same documents, one run, the sides alternating over {args.chunks} chunks")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
