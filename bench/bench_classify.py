"""fastText quality classification: thresher's ``classify`` step vs datatrove's FastTextClassifierFilter,
same model, same 4 KB documents, one run.

    python bench/bench_classify.py [--data ../shared/data] [--out bench/out/classify] [--docs 10000]
                                   [--model MODEL.bin] [--dt-python /work/dt-venv/bin/python]

- Model: unless ``--model`` is given, ``thresher train classifier`` makes one with DCLM's settings
  (bigrams, dim 100, 2M hash buckets: about 800 MB, the shape of DCLM's released classifier) from
  ``DATA/quality/dclm-human-dev.jsonl`` (good against bad). Its quality is beside the point here; its
  size is what costs.
- Documents: WCXB dev pages' gold main content, lines concatenated into documents of 4,096 UTF-8 bytes
  (each starting at a different line, cut at a space), ``--docs`` of them.
- Speed: CPU seconds (process time: the machine may be shared) of the scoring loop only, model load
  excluded on both sides; one process each; the two sides alternate over ``--chunks`` chunks so that a
  busy neighbour slows both alike. thresher scores batches of 32 (the engine's batch) through
  ``Classify.process_batch``; datatrove calls ``filter`` per document, as its pipeline does.
- Agreement: the ``hq`` probability of every document on both sides, and the keep decision at 0.5.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from thresher.document import Document
from thresher.filters.classify import Classify

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
DOC_BYTES = 4096


def build_corpus(data: Path, out: Path, n_docs: int) -> None:
    lines: list[str] = []
    for path in sorted((data / "wcxb-dev" / "ground-truth").glob("*.json")):
        text = (json.loads(path.read_text(encoding="utf-8")).get("ground_truth") or {}).get("main_content") or ""
        lines += [line for line in text.splitlines() if line.strip()]
    with out.open("w", encoding="utf-8") as fh:
        for i in range(n_docs):
            at = (i * 7919) % len(lines)   # a different starting line for each document
            parts: list[str] = []
            size = 0
            while size < DOC_BYTES:
                parts.append(lines[at % len(lines)])
                size += len(parts[-1].encode("utf-8")) + 1
                at += 1
            raw = "\n".join(parts).encode("utf-8")[:DOC_BYTES]
            text = raw.decode("utf-8", "ignore").rsplit(" ", 1)[0]
            fh.write(json.dumps({"id": str(i), "text": text}, ensure_ascii=False) + "\n")


def train_model(data: Path, out: Path) -> None:
    from thresher.train import train_classifier

    good, bad = out.parent / "good.jsonl", out.parent / "bad.jsonl"
    rows = [json.loads(line) for line in (data / "quality" / "dclm-human-dev.jsonl").open(encoding="utf-8")]
    for path, label in ((good, 1), (bad, 0)):
        with path.open("w", encoding="utf-8") as fh:
            for i, row in enumerate(rows):
                if int(row["label"]) == label:
                    fh.write(json.dumps({"id": str(i), "text": row["text"]}) + "\n")
    train_classifier([str(good)], [str(bad)], out)


def thresher_scores(step: Classify, docs: list[dict]) -> tuple[list[dict], float]:
    rows = []
    start = time.process_time()
    for i in range(0, len(docs), 32):
        batch = [Document(id=d["id"], text=d["text"]) for d in docs[i:i + 32]]
        for doc in step.process_batch(batch):
            rows.append({"hq": doc.signals["m_hq"], "keep": doc.reason is None})
    return rows, time.process_time() - start


def main(argv: list[str] | None = None) -> int:
    from common import run_on_chunk

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT / ".." / "shared" / "data")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "classify")
    ap.add_argument("--docs", type=int, default=10_000)
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--dt-python", default="/work/dt-venv/bin/python")
    ap.add_argument("--chunks", type=int, default=4)
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    model = args.model or args.out / "model.bin"
    if not model.exists():
        train_model(args.data, model)
    corpus = args.out / f"corpus-{args.docs}.jsonl"
    if not corpus.exists():
        build_corpus(args.data, corpus, args.docs)
    docs = [json.loads(line) for line in corpus.open(encoding="utf-8")]

    step = Classify(model=str(model), name="m", threshold=0.5)
    step.setup()
    step.process_batch([Document(id="warm", text="warm up the model")])
    ours: list[dict] = []
    theirs: list[dict] = []
    ours_s = theirs_s = 0.0
    size = -(-len(docs) // args.chunks)
    for i in range(0, len(docs), size):
        chunk = docs[i:i + size]
        rows = run_on_chunk([args.dt_python, str(ROOT / "bench" / "_datatrove_classify.py"), str(model)], chunk,
                            args.out)
        theirs_s += rows.pop()["_speed"]["cpu_s"]
        theirs += rows
        rows, secs = thresher_scores(step, chunk)
        ours += rows
        ours_s += secs

    n = len(docs)
    max_diff = max(abs(a["hq"] - b["hq"]) for a, b in zip(ours, theirs))
    same_keep = sum(a["keep"] == b["keep"] for a, b in zip(ours, theirs))
    kept = sum(a["keep"] for a in ours)
    mean_bytes = sum(len(d["text"].encode("utf-8")) for d in docs) / n
    print(f"{n:,} documents of {mean_bytes:,.0f} bytes on average ({corpus}); model {model} "
          f"({model.stat().st_size / 1e6:,.0f} MB); fastText binding: {_binding()}\n")
    print("| | thresher classify | datatrove FastTextClassifierFilter |")
    print("|---|---:|---:|")
    print(f"| CPU seconds (scoring loop) | {ours_s:.2f} | {theirs_s:.2f} |")
    print(f"| docs/s per core | {n / ours_s:,.0f} | {n / theirs_s:,.0f} |")
    print(f"\nspeed ratio (datatrove CPU / thresher CPU): {theirs_s / ours_s:.2f}x")
    print(f"agreement: same keep decision at hq >= 0.5 for {same_keep:,}/{n:,}; max |hq difference| "
          f"{max_diff:.2g}; kept {kept:,}")
    target = 5000
    print(f"target >= {target:,} docs/s per core: {'met' if n / ours_s >= target else 'NOT met'} "
          f"({n / ours_s:,.0f})")
    return 0


def _binding() -> str:
    from importlib.metadata import PackageNotFoundError, version

    for dist in ("fasttext-numpy2-wheel", "fasttext-predict", "fasttext-numpy2", "fasttext"):
        try:
            return f"{dist} {version(dist)}"
        except PackageNotFoundError:
            continue
    return "?"


if __name__ == "__main__":
    sys.exit(main())
