"""Extraction benchmark: thresher's extract backends vs trafilatura and datatrove, same WARC, one run.

    python bench/bench_extract.py --data ../shared/data --datatrove-python /work/dt-venv/bin/python \
        --out bench/out/extract [--rounds 2] [--limit N]

Packs the WCXB dev pages into one WARC (bench/pack_warc.py), then, in rounds whose order alternates
to spread machine noise over both sides, runs each of these in its own subprocess with one worker:

- ``thresher``: ``thresher run WARC -o RUN --preset extract --workers 1`` (read -> the default
  ``thresher`` backend: lexbor blocks + the shipped block model -> jsonl.zst);
- ``thresher-resiliparse``: the same with ``extract: {backend: resiliparse}``;
- ``thresher-trafilatura``: the same with ``extract: {backend: trafilatura}`` (only when trafilatura
  is importable in thresher's Python; ``--no-trafilatura`` skips it);
- ``datatrove``: WarcReader -> Trafilatura -> JsonlWriter on a LocalPipelineExecutor, one task, one
  worker, the Trafilatura step's defaults (timeout 1 s, favour_precision) unless ``--dt-timeout``
  (only when ``--datatrove-python`` exists).

Ratios are against ``--reference`` (default: datatrove when it runs, else thresher-trafilatura).

Each run is measured by bench/common.py (wall, CPU of the whole process tree, peak RSS). pages/s are
input pages (WARC response records) over wall time, and over CPU time (= per core). Output:
a markdown table on stdout, ``OUT/results.json`` and ``OUT/results.md``.

The datatrove side runs this same file under the datatrove venv's Python (``--datatrove-worker``);
the file only imports the standard library at module level so that works.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import fmt_table, interleaved, run_measured  # noqa: E402

_BACKEND_CONFIG = """\
name: extract-{backend}
description: extraction only, {backend} backend (bench/bench_extract.py)
steps:
  - extract: {{backend: {backend}}}
writer: {{format: jsonl.zst}}
"""


def datatrove_worker(warc: Path, out: Path, timeout: float) -> int:
    """Body of the datatrove subprocess (runs under the datatrove venv)."""
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.extractors import Trafilatura
    from datatrove.pipeline.readers import WarcReader
    from datatrove.pipeline.writers import JsonlWriter

    LocalPipelineExecutor(
        pipeline=[
            WarcReader(str(warc.parent), glob_pattern=warc.name),
            Trafilatura(timeout=timeout),
            JsonlWriter(str(out / "output")),
        ],
        tasks=1,
        workers=1,
        logging_dir=str(out / "logs"),
    ).run()
    return 0


def count_texts(files: list[Path], opener) -> dict:
    """Documents, documents with text, and characters over JSONL files opened in text mode by ``opener``."""
    docs = with_text = chars = 0
    for f in files:
        with opener(f, "rt", encoding="utf-8") as fh:
            for line in fh:
                text = json.loads(line).get("text") or ""
                docs += 1
                with_text += bool(text.strip())
                chars += len(text)
    return {"docs_out": docs, "pages_with_text": with_text, "chars_out": chars}


def count_datatrove(out: Path) -> dict:
    extra = {}
    stats_file = out / "logs" / "stats.json"
    if stats_file.exists():
        for block in json.loads(stats_file.read_text()):
            if "Trafilatura" in block.get("name", ""):
                s = block.get("stats", {})
                extra = {k: s[k] if isinstance(s[k], int) else s[k].get("total") for k in s if k != "doc_len"}
    return {**count_texts(sorted((out / "output").glob("*.jsonl.gz")), gzip.open), "tool_stats": extra}


def count_thresher(run_dir: Path) -> dict:
    import zstandard

    extra = {}
    summary = run_dir / "stats" / "summary.json"
    if summary.exists():
        s = json.loads(summary.read_text())
        extra = {k: s.get(k) for k in ("read", "kept", "rejected", "errors", "reasons", "reconciled")}
    return {**count_texts(sorted((run_dir / "kept").glob("*.jsonl.zst")), zstandard.open), "tool_stats": extra}


def has_trafilatura(python: str) -> bool:
    return subprocess.run([python, "-c", "import trafilatura"], capture_output=True).returncode == 0


def summarise(name: str, runs: list[dict], pages: int) -> dict:
    """Best (least disturbed) round per tool: on a shared machine, neighbours only ever slow a run down."""
    ok = [r for r in runs if r["returncode"] == 0]
    if not ok:
        return {"name": name, "ok_runs": 0}
    wall = min(r["wall_s"] for r in ok)
    cpu = min(r["cpu_s"] for r in ok)
    return {
        "name": name,
        "ok_runs": len(ok),
        "wall_s_best": wall,
        "cpu_s_best": cpu,
        "wall_s_mean": statistics.mean(r["wall_s"] for r in ok),
        "pages_per_s_wall": pages / wall,
        "pages_per_cpu_s": pages / cpu,
        "peak_rss_mb": max(r["peak_rss_mb"] for r in ok),
        "peak_tree_mb": max(r["peak_tree_mb"] for r in ok),
        "pages_with_text": [r["pages_with_text"] for r in ok],
        "chars_out": [r["chars_out"] for r in ok],
    }


def round_ratios(runs: dict[str, list[dict]], name: str, reference: str) -> list[tuple[float, float]]:
    """(wall, CPU) speed ratio of tool `name` over the reference, paired within each round."""
    dt = {r["round"]: r for r in runs[reference] if r["returncode"] == 0}
    return [
        (dt[r["round"]]["wall_s"] / r["wall_s"], dt[r["round"]]["cpu_s"] / r["cpu_s"])
        for r in runs[name]
        if r["returncode"] == 0 and r["round"] in dt
    ]


def report(runs: dict[str, list[dict]], pages: int, rounds: int, dt_timeout: float,
           reference: str = "datatrove") -> tuple[str, dict]:
    """Markdown report and the summary dict."""
    summary = {name: summarise(name, rs, pages) for name, rs in runs.items()}
    dt = summary[reference]
    header = [
        "tool",
        "pages/s (wall, 1 worker)",
        "pages/CPU-s",
        f"x {reference} (wall)",
        f"x {reference} (CPU)",
        "per-round x (wall / CPU)",
        "peak RSS MB",
        "peak tree PSS MB",
        "pages with text",
    ]
    rows: list[list[object]] = []
    for name, s in summary.items():
        if not s.get("ok_runs"):
            rows.append([name, "failed"] + [""] * (len(header) - 2))
            continue
        ok = bool(dt.get("ok_runs"))
        per_round = ", ".join(f"{w:.1f} / {c:.1f}" for w, c in round_ratios(runs, name, reference)) if ok else ""
        s["ratio_wall"] = s["pages_per_s_wall"] / dt["pages_per_s_wall"] if ok else None
        s["ratio_cpu"] = s["pages_per_cpu_s"] / dt["pages_per_cpu_s"] if ok else None
        rows.append(
            [
                name,
                s["pages_per_s_wall"],
                s["pages_per_cpu_s"],
                s["ratio_wall"] or "",
                s["ratio_cpu"] or "",
                per_round if name != reference else "",
                s["peak_rss_mb"],
                s["peak_tree_mb"],
                ", ".join(f"{n}/{pages}" for n in s["pages_with_text"]),
            ]
        )
    md = (
        f"Extraction benchmark: {pages} WCXB dev pages in one WARC, {rounds} interleaved rounds, "
        f"one worker each, on a {os.cpu_count()}-core machine shared with other jobs. Rates use each "
        f"tool's best round; per-round ratios are paired within a round. datatrove Trafilatura "
        f"timeout: {dt_timeout} s.\n\n{fmt_table(header, rows)}\n"
    )
    return md, summary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--datatrove-python", default="/work/dt-venv/bin/python")
    ap.add_argument("--thresher-python", default=sys.executable, help="Python with thresher installed")
    ap.add_argument("--out", type=Path, default=Path("bench/out/extract"))
    ap.add_argument("--work", type=Path, default=Path("/tmp/bench/extract"), help="scratch: WARC, run dirs")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--limit", type=int, default=None, help="only the first N pages")
    ap.add_argument(
        "--dt-timeout", type=float, default=1.0, help="datatrove Trafilatura per-page timeout (s)"
    )
    ap.add_argument("--no-trafilatura", action="store_true", help="skip thresher's trafilatura backend")
    ap.add_argument("--tools", default=None, help="comma-separated subset, e.g. thresher,datatrove")
    ap.add_argument("--timeout-s", type=float, default=1800, help="kill a run after this long")
    ap.add_argument("--reference", default=None, help="the tool ratios are against (default: datatrove if it "
                    "runs, else thresher-trafilatura)")
    ap.add_argument("--report-from", type=Path, default=None, help="only re-render a saved results.json")
    ap.add_argument("--datatrove-worker", nargs=3, metavar=("WARC", "OUT", "TIMEOUT"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.datatrove_worker:
        warc, out, timeout = args.datatrove_worker
        return datatrove_worker(Path(warc), Path(out), float(timeout))
    if args.report_from:
        saved = json.loads(args.report_from.read_text())
        print(report(saved["runs"], saved["pages"], saved["rounds"], saved["dt_timeout"],
                     saved.get("reference", "datatrove"))[0])
        return 0

    from pack_warc import pack

    args.work.mkdir(parents=True, exist_ok=True)
    args.out.mkdir(parents=True, exist_ok=True)
    warc = args.work / "warc" / "wcxb-dev.warc.gz"
    pages = pack(args.data, warc, args.limit)
    print(f"packed {pages} pages into {warc} ({warc.stat().st_size / 1e6:.1f} MB)", file=sys.stderr)
    configs = {}
    for backend in ("resiliparse", "trafilatura"):
        configs[backend] = args.work / f"extract-{backend}.yaml"
        configs[backend].write_text(_BACKEND_CONFIG.format(backend=backend))

    thr = [args.thresher_python, "-m", "thresher", "run", str(warc), "--workers", "1", "-q"]
    dt_cmd = [args.datatrove_python, str(Path(__file__).resolve()), "--datatrove-worker", str(warc)]
    tools: dict[str, tuple] = {
        "thresher": (lambda d: thr + ["-o", str(d), "--preset", "extract"], count_thresher),
        "thresher-resiliparse": (lambda d: thr + ["-o", str(d), "--config", str(configs["resiliparse"])],
                                 count_thresher),
    }
    if not args.no_trafilatura and has_trafilatura(args.thresher_python):
        tools["thresher-trafilatura"] = (
            lambda d: thr + ["-o", str(d), "--config", str(configs["trafilatura"])],
            count_thresher,
        )
    if Path(args.datatrove_python).exists():
        tools["datatrove"] = (lambda d: dt_cmd + [str(d), str(args.dt_timeout)], count_datatrove)
    reference = args.reference or ("datatrove" if "datatrove" in tools else "thresher-trafilatura")
    if reference not in tools:
        ap.error(f"the reference {reference!r} does not run here")
    if args.tools:
        wanted = set(args.tools.split(",")) | {reference}  # the reference of every ratio
        tools = {name: t for name, t in tools.items() if name in wanted}

    runs: dict[str, list[dict]] = {name: [] for name in tools}
    names = list(tools)
    for rnd, name in interleaved(names, args.rounds):
        make_cmd, count = tools[name]
        run_dir = args.work / f"{name}-r{rnd}"
        shutil.rmtree(run_dir, ignore_errors=True)
        log = args.work / f"{name}-r{rnd}.log"
        m = run_measured(make_cmd(run_dir), log_path=log, timeout_s=args.timeout_s)
        rec = {"round": rnd, "loadavg_1m_after": os.getloadavg()[0], **m.as_dict(), **count(run_dir)}
        runs[name].append(rec)
        print(
            f"round {rnd} {name}: rc={m.returncode} wall={m.wall_s:.1f}s cpu={m.cpu_s:.1f}s "
            f"pages/s={pages / m.wall_s:.1f} rss={m.peak_rss_mb:.0f}MB text={rec['pages_with_text']} "
            f"load={rec['loadavg_1m_after']:.1f}",
            file=sys.stderr,
        )
        if m.returncode != 0:
            print(f"  failed, see {log}", file=sys.stderr)
        shutil.rmtree(run_dir, ignore_errors=True)

    md, summary = report(runs, pages, args.rounds, args.dt_timeout, reference)
    print(md)
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    (args.out / "results.md").write_text(md)
    saved = {
        "pages": pages,
        "rounds": args.rounds,
        "when": when,
        "dt_timeout": args.dt_timeout,
        "reference": reference,
        "summary": summary,
        "runs": runs,
    }
    (args.out / "results.json").write_text(json.dumps(saved, indent=2))
    return 0 if all(s.get("ok_runs") for s in summary.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
