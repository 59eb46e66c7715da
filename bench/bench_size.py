"""Cost per page as the input grows: the ``fineweb`` preset on 1x, 2x, 4x, 8x and 16x the pages, one worker.

    python bench/bench_size.py [--data ../shared/data] [--base 93] [--factors 1,2,4,8,16] [--rounds 2]
        [--preset fineweb] [--out bench/out/size] [--work /tmp/bench/size]

Input k x is one WARC of the first ``k * base`` WCXB dev pages (bench/pack_warc.py; 16 x 93 = 1,488 of the
1,497 pages, every one distinct, so deduplication has real work and nothing is a repeat). Each size runs
``thresher run --preset PRESET --workers 1`` and the I/O floor (bench_e2e.py's: read, decode, write one JSON
line per page to zstd) in rounds that alternate the order, each in its own subprocess, measured by
bench/common.py (CPU time and peak RSS of the process tree).

Reported per size: CPU-ms per page (median over rounds), that cost relative to 1x, thresher's CPU over the
floor's in the same round (prefixes differ in their mix of pages: the floor ratio factors that out), and
peak RSS. A flat cost and flat memory are what a streaming pipeline must show; fixed costs (imports, the
report) weigh most at 1x. Results: OUT/results.{md,json}.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_e2e import count_kept  # noqa: E402
from common import fmt_table, interleaved, run_measured, with_bytecode  # noqa: E402
from pack_warc import pack  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--base", type=int, default=93, help="pages at 1x")
    ap.add_argument("--factors", default="1,2,4,8,16")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--preset", default="fineweb")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "size")
    ap.add_argument("--work", type=Path, default=Path("/tmp/bench/size"))
    args = ap.parse_args(argv)

    factors = [int(f) for f in args.factors.split(",")]
    warcs = {k: args.work / "warc" / f"x{k}.warc.gz" for k in factors}
    pages = {k: pack(args.data, warcs[k], k * args.base) for k in factors}
    py, e2e = sys.executable, str(Path(__file__).resolve().parent / "bench_e2e.py")
    with_bytecode(ROOT / "src")

    def command(tool: str, k: int, run_dir: Path) -> list[str]:
        if tool == "floor":
            return [py, e2e, "--floor-worker", str(warcs[k]), str(run_dir)]
        return [py, "-m", "thresher", "run", str(warcs[k]), "-o", str(run_dir), "--preset", args.preset,
                "--workers", "1", "-q"]

    jobs = [f"{tool}:{k}" for k in factors for tool in ("thresher", "floor")]
    runs: dict[str, list[dict]] = {job: [] for job in jobs}
    for rnd, job in interleaved(jobs, args.rounds):
        tool, k = job.split(":")[0], int(job.split(":")[1])
        run_dir = args.work / f"{tool}-x{k}-r{rnd}"
        shutil.rmtree(run_dir, ignore_errors=True)
        m = run_measured(command(tool, k, run_dir), log_path=args.work / f"{tool}-x{k}-r{rnd}.log", cwd=ROOT)
        kept = count_kept(run_dir / "kept" if tool == "thresher" else run_dir) if m.returncode == 0 else None
        runs[job].append({"round": rnd, **m.as_dict(), "kept": kept})
        print(f"round {rnd} {job}: rc={m.returncode} cpu={m.cpu_s:.1f}s rss={m.peak_rss_mb:.0f}MB kept={kept}",
              file=sys.stderr)
        shutil.rmtree(run_dir, ignore_errors=True)

    def ok(job: str) -> list[dict]:
        return [r for r in runs[job] if r["returncode"] == 0]

    rows, per_page_1x = [], None
    for k in factors:
        mine, floor = ok(f"thresher:{k}"), ok(f"floor:{k}")
        if not mine:
            rows.append([f"{k}x", pages[k], "failed", "", "", "", ""])
            continue
        ms = 1000 * statistics.median(r["cpu_s"] for r in mine) / pages[k]
        per_page_1x = per_page_1x or ms
        vs_floor = [a["cpu_s"] / b["cpu_s"] for a, b in zip(mine, floor)]
        rows.append([f"{k}x", pages[k], ms, f"{ms / per_page_1x:.2f}",
                     f"{statistics.median(vs_floor):.2f}" if vs_floor else "",
                     max(r["peak_rss_mb"] for r in mine), max(r["peak_rss_mb"] for r in floor) if floor else ""])
    md = (f"`{args.preset}` preset, one worker, {args.rounds} interleaved rounds ({os.cpu_count()}-core machine "
          f"shared with other jobs); CPU-ms/page is the median over rounds.\n\n"
          + fmt_table(["input", "pages", "CPU-ms/page", "vs 1x", "x floor (CPU)", "peak RSS MB",
                       "floor peak RSS MB"], rows) + "\n")
    print(md)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.md").write_text(md)
    (args.out / "results.json").write_text(json.dumps({"pages": pages, "runs": runs}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
