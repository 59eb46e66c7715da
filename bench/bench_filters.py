"""Parity and speed of thresher's recipe filters against datatrove's, on the same real documents, in one run.

    python bench/bench_filters.py [--data ../shared/data] [--out /tmp/filters/bench] [--speed-n 1000]
                                  [--dt-python /work/dt-venv/bin/python] [--limit N]

Corpus (built once, cached in OUT/corpus.jsonl): every WCXB dev page as resiliparse main-content text and
as whole-page text (WET-like, boilerplate included), plus the warc2text output of the HPLT crawl sample.

Parity: each filter decides on each document's original text, independently, on both sides; the table is
the share of documents where keep/drop agrees (and the drop counts). Disagreements are written to
OUT/disagreements.jsonl with our signals, for the classes explained in bench/README.md.

Speed: the FineWeb recipe's filter chain on already-extracted text (Gopher repetition, Gopher quality, C4
without the terminal-punctuation rule, FineWeb quality), one process each, same documents, docs/s ratio.
datatrove's side runs in its own venv as a subprocess (bench/_datatrove_filters.py).
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import time
from pathlib import Path

from thresher.document import Document
from thresher.filters.c4 import C4Lines
from thresher.filters.fineweb import FineWebQuality
from thresher.filters.gopher import GopherQuality, GopherRepetition
from thresher.runner import run_steps

ROOT = Path(__file__).resolve().parent.parent


def build_corpus(data: Path, path: Path, limit: int | None) -> list[dict]:
    if path.exists():
        docs = [json.loads(line) for line in path.open(encoding="utf-8")]
        return docs[:limit] if limit else docs
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.encoding import bytes_to_str, detect_encoding

    docs = []
    for page in sorted((data / "wcxb-dev" / "html").glob("*.html.gz")):
        raw = gzip.decompress(page.read_bytes())
        html = bytes_to_str(raw, detect_encoding(raw))
        stem = page.name.split(".")[0]
        docs.append({"id": f"wcxb-main-{stem}", "text": extract_plain_text(html, main_content=True)})
        docs.append({"id": f"wcxb-page-{stem}", "text": extract_plain_text(html, main_content=False)})
    for part in ("CC", "wide"):
        for f in sorted((data / "crawl" / "hplt-sample100" / "two" / "sample100" / part).glob("*.warc2text")):
            docs.append({"id": f"hplt-{part}-{f.stem}", "text": f.read_text(encoding="utf-8", errors="replace")})
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for d in docs:
            out.write(json.dumps(d, ensure_ascii=False) + "\n")
    return docs[:limit] if limit else docs


def our_filters() -> dict[str, object]:
    return {
        "gopher_quality": GopherQuality(),
        "gopher_repetition": GopherRepetition(),
        "c4": C4Lines(),
        "c4_fineweb": C4Lines(filter_no_terminal_punct=False),
        "fineweb_quality": FineWebQuality(),
    }


def our_decisions(docs: list[dict]) -> list[dict]:
    filters = our_filters()
    rows = []
    for d in docs:
        row: dict = {"id": d["id"], "signals": {}}
        for name, step in filters.items():
            doc = step.process(Document(id=d["id"], text=d["text"]))
            row[name] = doc.reason.rule if doc.reason else None
            row["signals"].update(doc.signals)
        rows.append(row)
    return rows


def our_speed(docs: list[dict]) -> dict:
    chain = [GopherRepetition(), GopherQuality(), C4Lines(filter_no_terminal_punct=False), FineWebQuality()]
    kept = 0
    start, cpu = time.perf_counter(), time.process_time()
    for doc in run_steps(chain, (Document(id=d["id"], text=d["text"]) for d in docs), on_error=None):
        kept += doc.reason is None
    return {"docs": len(docs), "seconds": time.perf_counter() - start, "cpu_seconds": time.process_time() - cpu,
            "kept": kept}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "filters"))
    ap.add_argument("--dt-python", default="/work/dt-venv/bin/python")
    ap.add_argument("--speed-n", type=int, default=1000, help="documents timed for the speed ratio")
    ap.add_argument("--limit", type=int, default=None, help="use only the first N corpus documents")
    ap.add_argument("--reuse", action="store_true",
                    help="reuse datatrove's decisions from an earlier run (OUT/datatrove.jsonl); speed is always re-timed")
    args = ap.parse_args(argv)
    out = Path(args.out)
    docs = build_corpus(Path(args.data), out / "corpus.jsonl", args.limit)
    corpus = out / ("corpus.jsonl" if not args.limit else f"corpus-{args.limit}.jsonl")
    if args.limit:
        corpus.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs), encoding="utf-8")
    print(f"{len(docs)} documents", file=sys.stderr)

    # datatrove's decisions (slow: ~12 min for 3,000 pages on one core); --reuse keeps an earlier file
    dt_out = out / "datatrove.jsonl"
    script = str(ROOT / "bench" / "_datatrove_filters.py")
    if not (args.reuse and dt_out.exists()):
        subprocess.run([args.dt_python, script, str(corpus), str(dt_out)], check=True)
    dt_rows = {row["id"]: row for row in map(json.loads, dt_out.open(encoding="utf-8")) if "_speed" not in row}
    # speed: both sides timed now, one after the other, on the same documents
    dt_speed = speed = None
    if args.speed_n:
        speed_out = out / "datatrove-speed.jsonl"
        subprocess.run([args.dt_python, script, str(corpus), str(speed_out), "--no-parity",
                        "--speed-n", str(args.speed_n)], check=True)
        dt_speed = json.loads(speed_out.read_text(encoding="utf-8").splitlines()[-1])["_speed"]
        speed = our_speed(docs[: args.speed_n])
    ours = our_decisions(docs)

    names = list(our_filters())
    lines = ["| filter | docs | agree | agreement | dropped (datatrove) | dropped (thresher) | datatrove errors |",
             "|---|---|---|---|---|---|---|"]
    with (out / "disagreements.jsonl").open("w", encoding="utf-8") as dis:
        for name in names:
            agree = n = dt_drop = our_drop = errors = 0
            for row in ours:
                ref = dt_rows.get(row["id"])
                if ref is None:
                    continue
                if (ref[name] or "").startswith("error:"):  # datatrove crashed on this page: not compared
                    errors += 1
                    continue
                n += 1
                dt_drop += ref[name] is not None
                our_drop += row[name] is not None
                if (ref[name] is None) == (row[name] is None):
                    agree += 1
                else:
                    dis.write(json.dumps({"filter": name, "id": row["id"], "datatrove": ref[name],
                                          "thresher": row[name], "signals": row["signals"]}) + "\n")
            lines.append(f"| {name} | {n} | {agree} | {agree / max(n, 1):.2%} | {dt_drop} | {our_drop} | {errors} |")
    print("\n".join(lines))
    if speed and dt_speed:
        # CPU seconds of each process (docs/s per core), which a shared machine's load disturbs far less
        # than wall time; wall time is reported too
        print(f"\nFineWeb filter chain on {speed['docs']} pages, one process each (kept: thresher {speed['kept']}, "
              f"datatrove {dt_speed['kept']}):")
        print("| clock | thresher docs/s | datatrove docs/s | ratio |\n|---|---|---|---|")
        for label, key in (("CPU time", "cpu_seconds"), ("wall time", "seconds")):
            ours_rate, dt_rate = speed["docs"] / speed[key], dt_speed["docs"] / dt_speed[key]
            print(f"| {label} | {ours_rate:.1f} | {dt_rate:.1f} | {ours_rate / dt_rate:.1f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
