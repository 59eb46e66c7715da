"""``thresher dedup --explain``: what MinHash settings will do, before committing a large run.

Prints the LSH S-curve (probability that a pair of documents of a given Jaccard similarity lands in a
shared bucket, i.e. that the later one is removed) and, on a sample of the input, how much the step
would remove, by running the real step's phases on the sample in a temporary directory.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path

from thresher.dedup.minhash import MinHashDedup, explain_curve, false_rates
from thresher.document import Document
from thresher.runner import run_global_step


def sample_documents(inputs: list[str], limit: int) -> list[Document]:
    """Up to ``limit`` documents with text from the inputs (any format ``thresher.io`` reads), in order."""
    from thresher.io import plan_shards, read_shard

    docs: list[Document] = []
    for shard in plan_shards(inputs):
        for doc in read_shard(shard, {}, lambda err: None):
            if doc.reason is None and doc.text:
                docs.append(doc)
                if len(docs) >= limit:
                    return docs
    return docs


def format_curve(step: MinHashDedup) -> str:
    lines = [f"MinHash LSH: {step.ngram}-word shingles, {step.num_perm} permutations, "
             f"{step.bands} bands x {step.rows} rows",
             f"threshold (steepest point of the S-curve) ~ {step.threshold_estimate():.3f}", "",
             "  Jaccard  P(removed)"]
    for sim, prob in explain_curve(step.bands, step.rows):
        bar = "#" * round(prob * 40)
        lines.append(f"  {sim:7.2f}  {prob:10.4f}  {bar}")
    fp, fn = false_rates(step.bands, step.rows, step.threshold_estimate())
    lines.append("")
    lines.append(f"area below the threshold that is removed (false positives, uniform prior): {fp:.4f}")
    lines.append(f"area above the threshold that is kept (false negatives, uniform prior):   {fn:.4f}")
    return "\n".join(lines)


def estimate(step: MinHashDedup, docs: list[Document], shard_size: int = 5000) -> dict[str, float]:
    """Run the step on ``docs`` (in temporary storage) and count what it removes."""
    shards = {f"{k // shard_size:05d}": docs[k:k + shard_size] for k in range(0, len(docs), shard_size)}
    with tempfile.TemporaryDirectory(prefix="thresher-explain-") as tmp:
        run_global_step(step, shards, Path(tmp))
    removed = [d for d in docs if d.reason is not None]
    clusters = Counter(d.reason.duplicate_of for d in removed)
    sims = sorted(d.reason.similarity for d in removed)
    return {"documents": len(docs), "removed": len(removed), "clusters": len(clusters),
            "fraction": len(removed) / len(docs) if docs else 0.0,
            "median_similarity": sims[len(sims) // 2] if sims else float("nan")}


def cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="thresher dedup", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("inputs", nargs="*", help="input files or folders (JSONL, WARC/WET, txt, parquet)")
    parser.add_argument("--explain", action="store_true", help="print the S-curve and the sample estimate")
    parser.add_argument("--ngram", type=int, default=5)
    parser.add_argument("--bands", type=int, default=14)
    parser.add_argument("--rows", type=int, default=8)
    parser.add_argument("--num-perm", type=int, default=None, help="default: bands x rows")
    parser.add_argument("--keep", choices=["first", "longest", "newest"], default="first")
    parser.add_argument("--sample", type=int, default=20000, help="documents to sample (default 20000)")
    args = parser.parse_args(argv)
    if not args.explain:
        parser.print_usage(sys.stderr)
        print("thresher dedup: only --explain is available here; dedup runs as pipeline steps "
              "(minhash_dedup, exact_dedup, line_dedup) in `thresher run`", file=sys.stderr)
        return 2
    try:
        step = MinHashDedup(ngram=args.ngram, bands=args.bands, rows=args.rows, num_perm=args.num_perm,
                            keep=args.keep)
    except ValueError as exc:
        print(f"thresher dedup: {exc}", file=sys.stderr)
        return 2
    print(format_curve(step))
    if args.inputs:
        docs = sample_documents(args.inputs, args.sample)
        if not docs:
            print("\nno documents with text in the input")
            return 1
        est = estimate(step, docs)
        print(f"\nsample: the first {est['documents']} documents with text of the input")
        print(f"  would remove {est['removed']} ({100 * est['fraction']:.2f}%) as near-duplicates of "
              f"{est['clusters']} kept documents; median estimated similarity {est['median_similarity']:.3f}")
        print("  (duplicates grow with corpus size: the fraction over the whole input is usually higher)")
    return 0
