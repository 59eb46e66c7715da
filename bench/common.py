"""Shared helpers for the benchmarks in bench/: run a command in a subprocess and measure it.

Standard library only, so any Python (thresher's venv or a reference tool's venv) can import it.

    from common import run_measured, fmt_table
    m = run_measured(["/work/dt-venv/bin/python", "script.py"], log_path=Path("/tmp/x.log"))
    m.wall_s, m.cpu_s, m.peak_rss_mb, m.peak_tree_mb, m.returncode

What is measured, and how:
- ``wall_s``: monotonic clock around the process, start to exit.
- ``user_s``/``sys_s``/``cpu_s``: from ``os.wait4`` on that one process, so they cover the process and
  every descendant it waited for (worker pools, datatrove's extractor sandbox), and nothing else that
  this harness ran before (unlike ``getrusage(RUSAGE_CHILDREN)``, which accumulates over all runs).
- ``peak_rss_mb``: ``ru_maxrss`` from the same ``wait4``: the largest peak RSS of any single process of
  the tree (exact, kernel-kept).
- ``peak_tree_mb``: the largest sum of PSS over the whole live process tree, sampled every
  ``sample_s`` (0.2 s) from /proc (Linux). PSS splits pages shared after fork between processes, so
  the sum is the tree's real footprint; being sampled it can miss a short spike. 0.0 where /proc
  is unavailable.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass
class Measurement:
    cmd: list[str]
    returncode: int
    wall_s: float
    user_s: float
    sys_s: float
    peak_rss_mb: float
    peak_tree_mb: float

    @property
    def cpu_s(self) -> float:
        return self.user_s + self.sys_s

    def as_dict(self) -> dict:
        d = asdict(self)
        d["cpu_s"] = self.cpu_s
        return d


def _children(pid: int) -> list[int]:
    """Direct children of pid, from /proc (needs a kernel with task/*/children; 3.5+)."""
    kids: list[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                kids.extend(int(x) for x in f.read().split())
    except OSError:
        pass
    return kids


def _pss_kb(pid: int) -> int:
    """Proportional set size of one process in kB (0 if it is gone or unreadable)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def tree_pss_mb(pid: int) -> float:
    """Sum of PSS over pid and all its live descendants, in MB."""
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        total += _pss_kb(p)
        stack.extend(_children(p))
    return total / 1024


def run_measured(
    cmd: list[str],
    *,
    log_path: Path | None = None,
    env: dict[str, str] | None = None,
    cwd: str | Path | None = None,
    timeout_s: float | None = None,
    sample_s: float = 0.2,
) -> Measurement:
    """Run cmd to completion and measure it (see the module docstring).

    stdout and stderr go to log_path (or are discarded), so a chatty tool cannot block on a pipe.
    On timeout the process is killed and returncode is -9. Never raises on a non-zero exit: check
    ``returncode``.
    """
    out = open(log_path, "wb") if log_path else subprocess.DEVNULL
    try:
        start = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd)
        peak = [0.0]
        done = threading.Event()

        def sample() -> None:
            # Sample the tree's memory until the process exits; kill it past the timeout.
            while not done.wait(sample_s):
                peak[0] = max(peak[0], tree_pss_mb(proc.pid))
                if timeout_s is not None and time.monotonic() - start > timeout_s:
                    proc.kill()

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        # wait4 reaps this one child and returns its own rusage (descendants it reaped included).
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.monotonic() - start
        done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)  # so Popen does not try to reap it again
    finally:
        if log_path:
            out.close()
    return Measurement(
        cmd=[str(c) for c in cmd],
        returncode=proc.returncode,
        wall_s=wall,
        user_s=ru.ru_utime,
        sys_s=ru.ru_stime,
        peak_rss_mb=ru.ru_maxrss / 1024,  # kB on Linux
        peak_tree_mb=peak[0],
    )


def fmt_table(header: list[str], rows: list[list[object]]) -> str:
    """A markdown table; floats get 3 significant-ish digits."""

    def cell(v: object) -> str:
        if isinstance(v, float):
            return f"{v:.3g}" if abs(v) < 100 else f"{v:.0f}"
        return str(v)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def run_on_chunk(cmd: list[str], docs: list[dict], folder: Path) -> list[dict]:
    """Write ``docs`` to ``folder/chunk.jsonl``, run ``cmd + [chunk, out]`` (a reference tool's side of a
    benchmark, in its own venv) and return the JSON lines it wrote to ``out``."""
    import json

    chunk, out = folder / "chunk.jsonl", folder / "reference_chunk.jsonl"
    with chunk.open("w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(d, ensure_ascii=False) + "\n" for d in docs)
    subprocess.run([*cmd, str(chunk), str(out)], check=True)
    return [json.loads(line) for line in out.open(encoding="utf-8")]


def interleaved(names: list[str], rounds: int) -> Iterator[tuple[int, str]]:
    """(round, tool) in the order benches run them: each round reverses the last one's order, so that no
    tool always runs first (cache warmth, neighbours' load)."""
    for rnd in range(rounds):
        for name in names if rnd % 2 == 0 else names[::-1]:
            yield rnd, name


def with_bytecode(*folders: Path) -> None:
    """Let every tool this bench starts load compiled modules, as an installed package does.

    pip compiles a package's modules when it installs them (the reference tools' venvs), but an editable
    install of the repository, or a shell with ``PYTHONDONTWRITEBYTECODE`` set, leaves thresher to compile
    its ~90 modules from source in every process: about 0.15 CPU-s per run, a fixed cost no user pays. So
    the variable is dropped for the children and ``folders`` are compiled once, before any measurement."""
    import compileall

    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    for folder in folders:
        compileall.compile_dir(str(folder), quiet=1)
