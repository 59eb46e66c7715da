"""Scaling: the same input with 1 and with 2 workers, on the local engine and on the Ray engine.

    python bench/bench_scaling.py [--data ../shared/data] [--preset default] [--repeat 1] [--shard-mb 2]

The input is the WCXB dev pages packed into one WARC (``pack_warc.py``), cut into shards of
``--shard-mb`` so that there is work for every worker. Each configuration runs ``thresher run`` in a
subprocess; the Ray engine starts its own one-node Ray with ``num_cpus`` = workers (``--engine ray``
without ``--address``). Reported per run: the command's wall time (for Ray, including Ray's start and
stop), the run's own wall time from ``stats/summary.json`` (phases only, engine start excluded), and the
speedup 1 -> 2 workers of each. All runs must produce the same kept and rejected documents; the script
checks it. With ``--repeat N`` each configuration runs N times, interleaved, and the fastest counts.

On a shared machine the second core may not be free. So before each pair of runs the script measures
what the machine gives at that moment: the same CPU-bound loop in 1 process, then in 2 at once;
``capacity`` = 2 x t(1) / t(2 at once) is the number of cores' worth two processes got (2.0 on an idle
2-core machine, 1.0 when the second process got nothing). An engine's speedup is bounded by it;
``efficiency`` = speedup / capacity.

Results go to ``bench/out/scaling.json`` and a markdown table on stdout.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import multiprocessing as mp
import os
import shutil
import sys
import time
import uuid
from pathlib import Path

import orjson
import zstandard

sys.path.insert(0, str(Path(__file__).parent))
from common import fmt_table, run_measured  # noqa: E402
from pack_warc import pack  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def _docs(run_dir: Path) -> dict[str, list[bytes]]:
    out = {}
    for kind in ("kept", "rejected"):
        lines: list[bytes] = []
        for f in sorted((run_dir / kind).glob("*.jsonl.zst")):
            lines += zstandard.ZstdDecompressor().stream_reader(io.BytesIO(f.read_bytes())).read().splitlines()
        out[kind] = sorted(lines)
    return out


def _spin(_: object = None) -> float:
    start = time.perf_counter()
    h = b"x" * 64
    for _ in range(1_500_000):
        h = hashlib.sha256(h).digest()
    return time.perf_counter() - start


def capacity() -> float:
    """Cores' worth that 2 CPU-bound processes get right now (see the module docstring)."""
    one = _spin()
    with mp.get_context("fork").Pool(2) as pool:
        start = time.perf_counter()
        pool.map(_spin, [None, None])
        two = time.perf_counter() - start
    return round(2 * one / two, 2)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--work", type=Path, default=Path("/tmp/bench-scaling"))
    ap.add_argument("--preset", default="default")
    ap.add_argument("--shard-mb", type=float, default=2.0)
    ap.add_argument("--limit", type=int, default=None, help="pack only the first N pages")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--engines", default="local,ray")
    args = ap.parse_args(argv)

    args.work.mkdir(parents=True, exist_ok=True)
    warc = args.work / "wcxb-dev.warc.gz"
    n_pages = pack(args.data, warc, args.limit)
    thresher = Path(sys.executable).parent / "thresher"
    # Ray: no usage stats; token auth with a token of this run, so ~/.ray/auth_token is neither read nor
    # written; a short temp dir (Ray's socket paths are limited to ~107 bytes).
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "token",
           "RAY_AUTH_TOKEN": uuid.uuid4().hex + uuid.uuid4().hex}
    load_before = os.getloadavg()
    results: dict[tuple[str, int], dict] = {}
    reference = None
    capacities: dict[str, list[float]] = {}
    for _ in range(args.repeat):
        for engine in args.engines.split(","):
            capacities.setdefault(engine, []).append(capacity())
            print(f"capacity before {engine}: {capacities[engine][-1]}", file=sys.stderr)
            for workers in (1, 2):
                run_dir = args.work / f"run-{engine}-{workers}"
                shutil.rmtree(run_dir, ignore_errors=True)
                cmd = [str(thresher), "run", str(warc), "-o", str(run_dir), "--preset", args.preset,
                       "--workers", str(workers), "--engine", engine, "--shard-mb", str(args.shard_mb), "-q"]
                if engine == "ray":
                    cmd += ["--ray-tmp", str(args.work / "ray")]
                m = run_measured(cmd, log_path=args.work / f"{engine}-{workers}.log", env=env)
                if m.returncode != 0:
                    print((args.work / f"{engine}-{workers}.log").read_text()[-3000:], file=sys.stderr)
                    raise SystemExit(f"{engine} with {workers} workers failed ({m.returncode})")
                summary = json.loads((run_dir / "stats" / "summary.json").read_text())
                docs = _docs(run_dir)
                if reference is None:
                    reference = docs
                elif docs != reference:
                    raise SystemExit(f"{engine} with {workers} workers: output differs from the first run")
                # cpu_s: the process tree thresher waited for; Ray's workers are not part of it
                row = {"engine": engine, "workers": workers, "command_s": round(m.wall_s, 2),
                       "run_s": summary["wall_seconds"], "cpu_s": round(m.cpu_s, 2) if engine == "local" else None,
                       "read": summary["read"],
                       "kept": summary["kept"], "shards": len(list((run_dir / "kept").glob("*")))}
                best = results.get((engine, workers))
                if best is None or row["run_s"] < best["run_s"]:
                    results[(engine, workers)] = row
                print(f"{engine} x{workers}: {row}", file=sys.stderr)
    load_after = os.getloadavg()

    rows, speedups = [], {}
    for engine in args.engines.split(","):
        one, two = results[(engine, 1)], results[(engine, 2)]
        cap = round(sum(capacities[engine]) / len(capacities[engine]), 2)
        speedups[engine] = {"command": round(one["command_s"] / two["command_s"], 2),
                            "run": round(one["run_s"] / two["run_s"], 2), "capacity": cap,
                            "efficiency": round(one["run_s"] / two["run_s"] / cap, 2)}
        for r in (one, two):
            rows.append([engine, r["workers"], r["command_s"], r["run_s"], r["cpu_s"] or "", ""])
        rows.append([engine, "speedup 1->2", speedups[engine]["command"], speedups[engine]["run"], "",
                     f"{cap} (efficiency {speedups[engine]['efficiency']})"])
    out = {"pages": n_pages, "preset": args.preset, "shard_mb": args.shard_mb, "cpus": os.cpu_count(),
           "loadavg_before": load_before, "loadavg_after": load_after, "repeat": args.repeat,
           "runs": list(results.values()), "speedup": speedups, "capacities": capacities, "outputs_equal": True}
    (ROOT / "bench" / "out").mkdir(parents=True, exist_ok=True)
    (ROOT / "bench" / "out" / "scaling.json").write_bytes(orjson.dumps(out, option=orjson.OPT_INDENT_2))
    print(f"{n_pages} pages, preset {args.preset}, {results[(args.engines.split(',')[0], 1)]['shards']} shards; "
          f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} on {os.cpu_count()} CPUs")
    print(fmt_table(["engine", "workers", "command wall s", "run wall s", "CPU s", "capacity"], rows))
    print("outputs of all runs identical: yes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
