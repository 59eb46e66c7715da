"""The ``multilingual`` preset's cost on English: CPU time of ``default`` vs ``multilingual`` on the same
English pages, side by side in one run (alternating, ``--rounds`` each), one worker.

    python bench/bench_multilingual.py [DATA_DIR] [--pages 400] [--rounds 2]

Input: the first ``--pages`` WCXB dev pages (``DATA_DIR/wcxb-dev/html/*.html.gz``, English web pages),
unpacked to .html files. Reports CPU seconds (user + sys) per run and the ratio multilingual / default.
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import fmt_table, run_measured  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data", nargs="?", default="../shared/data")
    ap.add_argument("--pages", type=int, default=400)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    thresher = str(Path(sys.executable).with_name("thresher"))
    with tempfile.TemporaryDirectory() as tmp:
        pages = Path(tmp) / "pages"
        pages.mkdir()
        for src in sorted((Path(args.data) / "wcxb-dev" / "html").glob("*.html.gz"))[:args.pages]:
            (pages / src.name[:-3]).write_bytes(gzip.decompress(src.read_bytes()))
        cpu: dict[str, list[float]] = {"default": [], "multilingual": []}
        for r in range(args.rounds):
            for preset in cpu:
                out = Path(tmp) / f"{preset}-{r}"
                m = run_measured([thresher, "run", str(pages), "-o", str(out), "--preset", preset, "--workers", "1",
                                  "-q"])
                if m.returncode != 0:
                    raise SystemExit(f"{preset} failed: {m.cmd}")
                cpu[preset].append(m.user_s + m.sys_s)
                shutil.rmtree(out)
    best = {p: min(v) for p, v in cpu.items()}
    print(fmt_table(["preset", "CPU s per run (each round)", "best"],
                    [[p, ", ".join(f"{x:.2f}" for x in v), f"{best[p]:.2f}"] for p, v in cpu.items()]))
    print(f"\nratio multilingual / default (best of {args.rounds}): {best['multilingual'] / best['default']:.2f}")


if __name__ == "__main__":
    main()
