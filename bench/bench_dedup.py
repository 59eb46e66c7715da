"""MinHash dedup, thresher vs datatrove, on the same documents, one worker each, in one run.

    python bench/bench_dedup.py [--data ../shared/data] [--docs 100000] [--work /tmp/dedup-bench]

Input: ``--docs`` real-ish documents built from real text (``bench/dedup_corpus.py``: paragraphs of the
1,497 wcxb-dev ground-truth pages, 10% of words replaced per paragraph, page lengths from the real
distribution x 0.4), of which about 10% are injected near-duplicates (word swaps / insertions / deletions
/ boilerplate at 1-10% edit rates) of earlier documents: the ground truth. Written once as one JSONL file.

thresher: ``thresher run --workers 1`` with a pipeline of just ``minhash_dedup`` (read JSONL, index,
resolve, apply, write kept/rejected as jsonl.zst). datatrove (its own venv): JsonlReader +
MinhashDedupSignature, MinhashDedupBuckets (one task per bucket, run one after another), MinhashDedupCluster,
JsonlReader + MinhashDedupFilter + JsonlWriter (zstd), each stage a LocalPipelineExecutor with one worker.
Same settings for both: 5-word shingles, 14 bands x 8 rows.

Quality, the same definition for both: an injected pair counts as found when the two documents do not both
survive; a false positive is a removed document that is in no injected pair.
"""

from __future__ import annotations

import argparse
import glob
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import orjson
import zstandard

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from dedup_corpus import Corpus, write_jsonl  # noqa: E402

DT_PYTHON = "/work/dt-venv/bin/python"


def run_timed(cmd: list[str], env: dict | None = None) -> tuple[float, float, int, str]:
    """(wall seconds, CPU seconds of the process tree, peak RSS MB of the largest process, stdout)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0,):
        print(proc.stdout[-3000:], proc.stderr[-3000:], file=sys.stderr)
        raise SystemExit(f"failed: {' '.join(cmd)}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, after.ru_maxrss // 1024, proc.stdout


def read_jsonl_any(path: str) -> list[dict]:
    raw = open(path, "rb").read()
    if path.endswith(".zst"):
        raw = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(raw)).read()
    elif path.endswith(".gz"):
        import gzip
        raw = gzip.decompress(raw)
    return [orjson.loads(line) for line in raw.splitlines() if line.strip()]


def quality(removed: set[str], truth: list[dict], n_docs: int) -> dict:
    in_pair = {t["id"] for t in truth} | {t["dup_of"] for t in truth}
    found = [t for t in truth if t["id"] in removed or t["dup_of"] in removed]
    by_rate: Counter[str] = Counter()
    total_rate: Counter[str] = Counter()
    for t in truth:
        rate = t["edit"].split("@")[1]
        total_rate[rate] += 1
        by_rate[rate] += t["id"] in removed or t["dup_of"] in removed
    fp = [r for r in removed if r not in in_pair]
    return {"removed": len(removed), "pairs": len(truth), "recall": len(found) / max(1, len(truth)),
            "recall_by_rate": {r: by_rate[r] / total_rate[r] for r in sorted(total_rate, key=float)},
            "false_positives": len(fp), "fp_rate": len(fp) / max(1, n_docs - len(in_pair))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(HERE.parent.parent / "shared" / "data"))
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--work", default="/tmp/dedup-bench")
    parser.add_argument("--ngram", type=int, default=5)
    parser.add_argument("--bands", type=int, default=14)
    parser.add_argument("--rows", type=int, default=8)
    parser.add_argument("--skip-datatrove", action="store_true")
    args = parser.parse_args()
    work = Path(args.work)
    inp = work / "input"
    docs_path, truth_path = inp / "docs.jsonl", work / "truth.jsonl"
    stamp = work / f"corpus-{args.docs}.done"
    if not stamp.exists():
        shutil.rmtree(work, ignore_errors=True)
        inp.mkdir(parents=True)
        t = time.perf_counter()
        write_jsonl(Corpus(Path(args.data)), args.docs, docs_path, truth_path)
        stamp.write_text("ok")
        print(f"built {args.docs} documents in {time.perf_counter() - t:.0f}s", file=sys.stderr)
    truth = [orjson.loads(x) for x in truth_path.read_bytes().splitlines()]
    size_mb = docs_path.stat().st_size / 1e6
    print(f"input: {args.docs} documents, {size_mb:.0f} MB JSONL, {len(truth)} injected near-duplicates")
    results = {}

    # ---- thresher
    run_dir = work / "thresher-run"
    shutil.rmtree(run_dir, ignore_errors=True)
    cfg = work / "minhash.yaml"
    cfg.write_text(f"name: bench-minhash\nsteps:\n  - minhash_dedup: {{ngram: {args.ngram}, bands: {args.bands}, "
                   f"rows: {args.rows}}}\nwriter: {{format: jsonl.zst}}\n")
    thresher = str(Path(sys.executable).with_name("thresher"))
    wall, cpu, rss, _ = run_timed([thresher, "run", "-q", "-o", str(run_dir), "--config", str(cfg), "--workers", "1",
                                   str(docs_path)])
    removed = set()
    for path in glob.glob(str(run_dir / "rejected" / "*.jsonl.zst")):
        removed |= {d["id"] for d in read_jsonl_any(path)}
    results["thresher"] = {"wall": wall, "cpu": cpu, "peak_rss_mb": rss, **quality(removed, truth, args.docs)}

    # ---- datatrove
    if not args.skip_datatrove:
        dt_work = work / "datatrove"
        shutil.rmtree(dt_work, ignore_errors=True)
        env = {**os.environ, "HF_HUB_OFFLINE": "1"}
        wall, cpu, rss, out = run_timed([DT_PYTHON, str(HERE / "_datatrove_minhash.py"), str(inp), str(dt_work),
                                         str(args.ngram), str(args.bands), str(args.rows)], env=env)
        stages = json.loads(out.strip().splitlines()[-1])
        removed = set()
        for path in glob.glob(str(dt_work / "removed" / "*")):
            removed |= {d["id"] for d in read_jsonl_any(path)}
        results["datatrove"] = {"wall": wall, "cpu": cpu, "peak_rss_mb": rss, "stages": stages,
                                **quality(removed, truth, args.docs)}

    print("\n| tool | wall s | docs/s | CPU s | recall | FP | recall by edit rate |")
    print("|---|---|---|---|---|---|---|")
    for tool, r in results.items():
        rates = ", ".join(f"{k}: {v:.3f}" for k, v in r["recall_by_rate"].items())
        print(f"| {tool} | {r['wall']:.1f} | {args.docs / r['wall']:.0f} | {r['cpu']:.1f} | {r['recall']:.4f} | "
              f"{r['false_positives']} | {rates} |")
    if "datatrove" in results:
        ratio = results["datatrove"]["wall"] / results["thresher"]["wall"]
        print(f"\nthresher / datatrove docs/s: {ratio:.2f}x (wall); "
              f"{results['datatrove']['cpu'] / results['thresher']['cpu']:.2f}x (CPU time)")
        print(f"datatrove stages (s): {results['datatrove']['stages']}")
    (work / "results.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
