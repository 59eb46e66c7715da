"""The whole FineWeb recipe, WARC in, JSONL.zst out: thresher vs datatrove, with the I/O floor, in one run.

    python bench/bench_e2e.py [--data ../shared/data] --datatrove-python DT_VENV/bin/python
        [--out bench/out/e2e] [--work /tmp/bench/e2e] [--limit 300] [--rounds 3]
        [--baseline COMMIT] [--profile]

One WARC of WCXB dev pages (bench/pack_warc.py), then rounds whose order alternates, each tool in its own
subprocess, one worker, measured by bench/common.py (CPU time of the whole process tree):

- ``datatrove``: FineWeb's pipeline as datatrove's examples/fineweb.py runs it (less the URL blocklist, which
  thresher's preset leaves out too): WarcReader -> Trafilatura(favour_precision) -> LanguageFilter(en, 0.65)
  -> GopherRepetition -> GopherQuality -> C4Quality(filter_no_terminal_punct=False) -> FineWebQuality ->
  JsonlWriter, then its four MinHash stages (signatures, buckets, cluster, filter -> JsonlWriter zstd).
  Trafilatura's per-page timeout is raised to 10 s so that no page is lost to the machine's load;
- ``thresher``: ``thresher run WARC --preset fineweb --workers 1`` (the same steps, MinHash included);
- ``thresher-before``: the same command on the code of ``--baseline`` (default: main before issue 17),
  exported from git to a scratch folder, run with the same Python;
- ``thresher-default`` and ``thresher-extract``: the ``default`` and ``extract`` presets;
- ``floor``: read the WARC (fastwarc), decode each HTML payload to text (thresher's ``decode``) and write
  one JSON line per page to a zstd file: what no pipeline that reads and writes these pages can go under.

Ratios are pages per CPU-second over datatrove's (and the floor's time over thresher's), paired within each
round; the table gives the median. ``--profile`` adds one cProfile run of thresher's fineweb preset and of
the baseline's, with their time grouped into the cost centres of issue 17's table.
Results: OUT/results.{md,json}.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tarfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import fmt_table, interleaved, run_measured, with_bytecode  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BASELINE = "45acdcffd6163820c6a63b617dc39993eb16763e"  # main before issue 17


def datatrove_worker(warc: Path, out: Path) -> int:
    """Body of the datatrove subprocess (runs under the datatrove venv)."""
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup.minhash import (
        MinhashConfig,
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupFilter,
        MinhashDedupSignature,
    )
    from datatrove.pipeline.extractors import Trafilatura
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
        LanguageFilter,
    )
    from datatrove.pipeline.readers import JsonlReader, WarcReader
    from datatrove.pipeline.writers import JsonlWriter

    filtered = str(out / "filtered")
    LocalPipelineExecutor(pipeline=[
        WarcReader(str(warc.parent), glob_pattern=warc.name),
        Trafilatura(favour_precision=True, timeout=10.0),
        LanguageFilter(languages=["en"], language_threshold=0.65),
        GopherRepetitionFilter(),
        GopherQualityFilter(),
        C4QualityFilter(filter_no_terminal_punct=False),
        FineWebQualityFilter(),
        JsonlWriter(filtered),
    ], tasks=1, workers=1, logging_dir=str(out / "logs" / "filter")).run()
    config = MinhashConfig(n_grams=5, num_buckets=14, hashes_per_bucket=8)
    stages = [
        ([JsonlReader(filtered), MinhashDedupSignature(output_folder=f"{out}/sigs", config=config)], 1),
        ([MinhashDedupBuckets(input_folder=f"{out}/sigs", output_folder=f"{out}/buckets", config=config)], 14),
        ([MinhashDedupCluster(input_folder=f"{out}/buckets", output_folder=f"{out}/remove_ids", config=config)], 1),
        ([JsonlReader(filtered), MinhashDedupFilter(input_folder=f"{out}/remove_ids"),
          JsonlWriter(f"{out}/output", compression="zstd")], 1),
    ]
    for i, (pipeline, tasks) in enumerate(stages):
        LocalPipelineExecutor(pipeline=pipeline, tasks=tasks, workers=1, logging_dir=f"{out}/logs/m{i}").run()
    return 0


def floor_worker(warc: Path, out: Path) -> int:
    """Read + decode + write, nothing else (thresher's dependencies only)."""
    import orjson
    import zstandard
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    from thresher.extract.extractor import decode  # thresher's own decoding: the floor must not be slower

    out.mkdir(parents=True, exist_ok=True)
    with open(warc, "rb") as f, zstandard.open(out / "out.jsonl.zst", "wb") as w:
        for rec in ArchiveIterator(f, record_types=WarcRecordType.response, parse_http=True):
            body = rec.reader.read()
            text = decode(body, rec.http_charset)
            w.write(orjson.dumps({"id": rec.record_id, "url": rec.headers.get("WARC-Target-URI"), "text": text}))
            w.write(b"\n")
    return 0


def count_kept(folder: Path) -> int:
    """Documents in the JSONL(.gz/.zst) files under ``folder``."""
    import gzip

    import zstandard

    n = 0
    for f in sorted(folder.rglob("*.jsonl*")):
        opener = zstandard.open if f.name.endswith(".zst") else gzip.open if f.name.endswith(".gz") else open
        with opener(f, "rt", encoding="utf-8") as fh:
            n += sum(1 for _ in fh)
    return n


def export_baseline(commit: str, dest: Path) -> Path:
    """The source tree at ``commit`` under ``dest`` (git archive); returns its src folder."""
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    blob = subprocess.run(["git", "archive", commit, "src"], cwd=ROOT, check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
        tar.extractall(dest, filter="data")
    return dest / "src"


# cost centres of issue 17's profile table: (label, predicate on (file, function))
CENTRES = [
    ("word tokenizer (filters/text.py tokenize)",
     lambda f, fn: f.endswith("filters/text.py") and fn in ("tokenize", "words", "split")),
    ("resiliparse extract_plain_text", lambda f, fn: "extract_plain_text" in fn),
    ("metadata (extract/head.py; before: _meta_tags DOM walk)",
     lambda f, fn: f.endswith("extract/head.py") or fn in ("_meta_tags", "_json_ld", "_title")),
    ("HTML parse", lambda f, fn: "HTMLTree" in fn or fn == "parse_from_bytes" or fn == "parse"),
    ("Gopher repetition (n-grams, lines, paragraphs)", lambda f, fn: f.endswith("filters/gopher.py") and "Repetition" in fn
     or fn in ("ngram_hashes", "repeated_positions", "top_ngram_chars", "duplicate_ngram_chars", "duplicates",
               "_word_hashes", "_word_len_cumsum", "_unique1d", "unique", "argsort")
     or f.endswith("filters/text.py") and fn in ("_ngram_level", "__init__", "_groups", "top", "scan", "_scan_exact",
                                                 "_ngram_chars_at", "rep_lines", "paragraphs")),
    ("C4 lines (sentence counting, line rules)", lambda f, fn: f.endswith("filters/c4.py")),
    ("language ID (cld2)", lambda f, fn: "cld2" in f or fn == "detect" or f.endswith("filters/lang.py")),
    ("MinHash", lambda f, fn: "minhash" in f or "hashing.py" in f or "rensa" in fn),
]


def profile_run(python: str, src: Path | None, warc: Path, run_dir: Path, prof: Path) -> dict[str, float]:
    """cProfile one fineweb run (in-process, one worker); share of the run per cost centre."""
    shutil.rmtree(run_dir, ignore_errors=True)
    env = dict(os.environ, PYTHONPATH=str(src)) if src else None
    argv = ["run", str(warc), "-o", str(run_dir), "--preset", "fineweb", "--workers", "1", "-q"]
    code = ("import cProfile, json, sys; from thresher.cli import main; "
            "cProfile.run('main(json.loads(sys.argv[1]))', sys.argv[2])")
    subprocess.run([python, "-c", code, json.dumps(argv), str(prof)], env=env, check=True, capture_output=True)
    stats = pstats.Stats(str(prof)).stats  # (file, line, fn) -> (cc, nc, own time, cumulative, callers)
    total = sum(v[2] for v in stats.values())
    shares = {label: 0.0 for label, _ in CENTRES}

    def centre(f: str, fn: str) -> str | None:
        return next((label for label, pred in CENTRES if pred(f, fn)), None)

    for (f, _, fn), (_, _, own, _, callers) in stats.items():
        label = centre(f, fn)
        if label is not None:
            shares[label] += own
        elif f == "~":  # a built-in (re.findall, str.split, numpy): its time goes to the function calling it
            for (cf, _, cfn), edge in callers.items():
                label = centre(cf, cfn)
                if label is not None:
                    shares[label] += edge[2]
    out = {label: t / total for label, t in shares.items()}
    out["the rest (reading, writing, other rules, bookkeeping)"] = 1 - sum(out.values())
    out["total profiled seconds"] = total
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--datatrove-python", default="/work/dt-venv/bin/python")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "e2e")
    ap.add_argument("--work", type=Path, default=Path("/tmp/bench/e2e"))
    ap.add_argument("--limit", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--baseline", default=BASELINE)
    ap.add_argument("--tools", help="comma-separated subset (datatrove is always run)")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--datatrove-worker", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--floor-worker", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.datatrove_worker:
        return datatrove_worker(*map(Path, args.datatrove_worker))
    if args.floor_worker:
        return floor_worker(*map(Path, args.floor_worker))

    from pack_warc import pack

    args.work.mkdir(parents=True, exist_ok=True)
    warc = args.work / "warc" / "pages.warc.gz"
    pages = pack(args.data, warc, args.limit)
    base_src = export_baseline(args.baseline, args.work / "baseline")
    with_bytecode(ROOT / "src", base_src)
    py, me = sys.executable, str(Path(__file__).resolve())

    def thresher(preset: str, src: Path | None = None):
        def cmd(d: Path) -> tuple[list[str], dict | None]:
            env = dict(os.environ, PYTHONPATH=str(src)) if src else None
            return [py, "-m", "thresher", "run", str(warc), "-o", str(d), "--preset", preset, "--workers", "1",
                    "-q"], env
        return cmd, lambda d: count_kept(d / "kept")

    tools = {
        "datatrove": (lambda d: ([args.datatrove_python, me, "--datatrove-worker", str(warc), str(d)], None),
                      lambda d: count_kept(d / "output")),
        "thresher": thresher("fineweb"),
        "thresher-before": thresher("fineweb", base_src),
        "thresher-default": thresher("default"),
        "thresher-extract": thresher("extract"),
        "floor": (lambda d: ([py, me, "--floor-worker", str(warc), str(d)], None), lambda d: count_kept(d)),
    }
    if args.tools:
        wanted = set(args.tools.split(",")) | {"datatrove"}
        tools = {k: v for k, v in tools.items() if k in wanted}
    runs: dict[str, list[dict]] = {name: [] for name in tools}
    names = list(tools)
    for rnd, name in interleaved(names, args.rounds):
        make, count = tools[name]
        run_dir = args.work / f"{name}-r{rnd}"
        shutil.rmtree(run_dir, ignore_errors=True)
        cmd, env = make(run_dir)
        m = run_measured(cmd, log_path=args.work / f"{name}-r{rnd}.log", env=env, cwd=ROOT)
        rec = {"round": rnd, **m.as_dict(), "kept": count(run_dir) if m.returncode == 0 else None}
        runs[name].append(rec)
        print(f"round {rnd} {name}: rc={m.returncode} cpu={m.cpu_s:.1f}s wall={m.wall_s:.1f}s "
              f"rss={m.peak_rss_mb:.0f}MB kept={rec['kept']}", file=sys.stderr)
        shutil.rmtree(run_dir, ignore_errors=True)

    def paired(a: str, b: str) -> list[float]:
        """CPU(b) / CPU(a) per round: how many times a's pages per CPU-second b's are."""
        return [rb["cpu_s"] / ra["cpu_s"] for ra, rb in zip(runs[a], runs[b], strict=True)
                if ra["returncode"] == 0 and rb["returncode"] == 0]

    rows = []
    for name in names:
        ok = [r for r in runs[name] if r["returncode"] == 0]
        if not ok:
            rows.append([name, "failed", "", "", "", "", ""])
            continue
        cpu = statistics.median(r["cpu_s"] for r in ok)
        vs_dt = paired(name, "datatrove") if "datatrove" in runs else []
        vs_floor = paired("floor", name) if "floor" in runs else []
        rows.append([name, pages / cpu, 1000 * cpu / pages,
                     f"{statistics.median(vs_dt):.1f} ({', '.join(f'{x:.1f}' for x in vs_dt)})" if vs_dt else "",
                     f"{statistics.median(vs_floor):.2f}" if vs_floor else "",
                     max(r["peak_rss_mb"] for r in ok), "/".join(str(r["kept"]) for r in ok)])
    md = (f"{pages} WCXB dev pages in one WARC, {args.rounds} interleaved rounds, one worker each "
          f"({os.cpu_count()}-core machine shared with other jobs). x datatrove: pages per CPU-second over "
          f"datatrove's, median of the per-round ratios (each round's in brackets); x floor: CPU time over the "
          f"floor's in the same round.\n\n"
          + fmt_table(["tool", "pages/CPU-s", "CPU-ms/page", "x datatrove", "x floor (CPU)", "peak RSS MB",
                       "kept (per round)"], rows) + "\n")
    result: dict = {"pages": pages, "rounds": args.rounds, "runs": runs}
    if args.profile:
        after = profile_run(py, None, warc, args.work / "prof-after", args.work / "after.prof")
        before = profile_run(py, base_src, warc, args.work / "prof-before", args.work / "before.prof")
        result["profile"] = {"before": before, "after": after}
        prow = [[k, f"{before[k]:.1%}", f"{after[k]:.1%}"] for k in after if k != "total profiled seconds"]
        prow.append(["profiled CPU seconds (cProfile, inflated by profiling)", f"{before['total profiled seconds']:.1f}",
                     f"{after['total profiled seconds']:.1f}"])
        md += "\nProfile of the fineweb preset (cProfile, own time per cost centre)\n\n" + fmt_table(
            ["cost", "before", "after"], prow) + "\n"
    print(md)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.md").write_text(md)
    (args.out / "results.json").write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
