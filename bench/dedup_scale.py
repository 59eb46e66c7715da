"""Memory and time of ``minhash_dedup``'s phases at scale (default 1M documents), one process per phase.

    python bench/dedup_scale.py [--docs 1000000] [--shard-docs 20000] [--work /tmp/dedup-scale]

Documents come from ``bench/dedup_corpus.py`` (real wcxb-dev paragraphs, mutated; ~4.3 KB mean; ~10%
injected near-duplicates), generated in memory shard by shard, never written to disk. Measured:

- index: a fresh process generates each shard's documents and calls ``index(doc, shard)`` on each, then
  ``finish_index``; the time counted is only those calls (generation excluded); the peak RSS includes the
  generator (its paragraph pool and one shard of documents), so it is an upper bound for the step;
- resolve: a fresh process calls ``resolve(p, n, shards)`` for every partition in turn (the last one also
  does the final combine);
- apply: a fresh process calls ``load(shard)`` and ``filter(doc)`` for every document of every shard
  (documents carrying only their id: filter never reads the text).

Peak RSS is ``ru_maxrss`` of each phase's process; the state size is the bytes under the step's workdir.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def _shards(n_docs: int, per: int) -> list[tuple[str, int, int]]:
    return [(f"{k:05d}", start, min(start + per, n_docs)) for k, start in enumerate(range(0, n_docs, per))]


def phase(args: argparse.Namespace) -> dict:
    from thresher.dedup.minhash import MinHashDedup
    from thresher.document import Document

    step = MinHashDedup(n_partitions=args.partitions)
    step.workdir = Path(args.work) / "state"
    shards = _shards(args.docs, args.shard_docs)
    spent, cpu, out = 0.0, 0.0, {}
    if args.phase == "index":
        from dedup_corpus import Corpus

        corpus = Corpus(Path(args.data))
        chars = 0
        for name, start, stop in shards:
            docs = [Document(id=d["id"], text=d["text"]) for d in corpus.docs(start, stop)]
            chars += sum(len(d.text.encode("utf-8")) for d in docs)
            t, c = time.perf_counter(), time.process_time()
            for doc in docs:
                step.index(doc, name)
            step.finish_index(name)
            spent += time.perf_counter() - t
            cpu += time.process_time() - c
            del docs
        out["text_bytes"] = chars
    elif args.phase == "resolve":
        names = [s[0] for s in shards]
        t, c = time.perf_counter(), time.process_time()
        for p in range(step.n_partitions):
            step.resolve(p, step.n_partitions, names)
        spent, cpu = time.perf_counter() - t, time.process_time() - c
    else:
        removed = 0
        t, c = time.perf_counter(), time.process_time()
        for name, start, stop in shards:
            step.load(name)
            for i in range(start, stop):
                removed += step.filter(Document(id=f"doc{i}")) is not None
        spent, cpu = time.perf_counter() - t, time.process_time() - c
        out["removed"] = removed
    out.update(phase=args.phase, seconds=spent, cpu_seconds=cpu, peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(HERE.parent.parent / "shared" / "data"))
    parser.add_argument("--docs", type=int, default=1_000_000)
    parser.add_argument("--shard-docs", type=int, default=20_000)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--work", default="/tmp/dedup-scale")
    parser.add_argument("--phase", choices=["index", "resolve", "apply"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(phase(args)))
        return 0
    shutil.rmtree(args.work, ignore_errors=True)
    results = []
    for name in ("index", "resolve", "apply"):
        wall = time.perf_counter()
        proc = subprocess.run([sys.executable, __file__, "--phase", name, "--docs", str(args.docs), "--shard-docs",
                               str(args.shard_docs), "--partitions", str(args.partitions), "--work", args.work,
                               "--data", args.data], capture_output=True, text=True)
        if proc.returncode:
            print(proc.stderr[-3000:], file=sys.stderr)
            return 1
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        res["process_wall"] = time.perf_counter() - wall
        results.append(res)
        print(json.dumps(res), flush=True)
    state = Path(args.work) / "state"
    disk = sum(p.stat().st_size for p in state.rglob("*") if p.is_file())
    index_bytes = sum(p.stat().st_size for p in (state / "index").rglob("*") if p.is_file())
    total = sum(r["seconds"] for r in results)
    total_cpu = sum(r["cpu_seconds"] for r in results)
    peak = max(r["peak_rss_mb"] for r in results)
    print(f"\n{args.docs} documents, {results[0]['text_bytes'] / args.docs:.0f} text bytes/doc on average")
    print("| phase | wall s | CPU s | docs/s (wall) | docs/s (CPU) | peak RSS MB |\n|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['phase']} | {r['seconds']:.1f} | {r['cpu_seconds']:.1f} | {args.docs / r['seconds']:.0f} | "
              f"{args.docs / r['cpu_seconds']:.0f} | {r['peak_rss_mb']:.0f} |")
    print(f"| all | {total:.1f} | {total_cpu:.1f} | {args.docs / total:.0f} | {args.docs / total_cpu:.0f} | {peak:.0f} |")
    print(f"state on disk: {disk / 1e6:.0f} MB ({disk / args.docs:.0f} bytes/doc; index {index_bytes / args.docs:.0f}"
          f" bytes/doc); removed {results[2]['removed']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
