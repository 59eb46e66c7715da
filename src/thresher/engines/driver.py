"""One run, whatever the engine: plan (or resume) the run directory, run each phase's pending tasks,
then aggregate, reconcile and report."""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path
from typing import Any

from thresher.atomic import read_json, write_json
from thresher.engines.rundir import RunDir, aggregate, reconcile_line, tokens_line
from thresher.engines.tasks import (
    merge_marker,
    phases_of,
    pipeline_key,
    resolve_done,
    run_merge,
    run_resolve,
    run_shard_phase,
)
from thresher.io import Shard, plan_shards
from thresher.io.fs import local_dir
from thresher.io.shards import DEFAULT_SHARD_BYTES
from thresher.pipeline import Pipeline


class RunError(Exception):
    pass


class Progress:
    """One status line: documents and documents/s, shards done. Redrawn in place on a terminal; a line
    every 10 s otherwise (CI logs)."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self.docs = 0
        self.start = time.time()
        self.last_print = 0.0
        self.label = ""

    def phase(self, label: str, total: int) -> None:
        self.label, self.total, self.done = label, total, 0

    def add_docs(self, n: int) -> None:
        self.docs += n
        self.show()

    def task_done(self) -> None:
        self.done += 1
        # on a terminal every task redraws the line; in a log, every 10 s and at the end of a phase
        self.show(force=self.tty or self.done == self.total)

    def show(self, force: bool = False) -> None:
        now = time.time()
        if self.quiet or (not force and now - self.last_print < (0.2 if self.tty else 10)):
            return
        self.last_print = now
        rate = self.docs / max(now - self.start, 1e-9)
        line = f"[{self.label}] {self.done}/{self.total} tasks | {self.docs:,} docs | {rate:,.0f} docs/s"
        print(("\r" + line.ljust(78)) if self.tty else line, end="" if self.tty else "\n", file=sys.stderr,
              flush=True)

    def end(self) -> None:
        if self.tty and not self.quiet:
            print(file=sys.stderr)


def plan_run(run_dir: RunDir, inputs: list[str], pipeline: Pipeline, fmt: str | None,
             shard_bytes: int) -> list[Shard]:
    key = pipeline_key(pipeline)
    if run_dir.plan_path.exists():
        plan = read_json(run_dir.plan_path)
        if plan["pipeline_key"] != key or plan["inputs"] != inputs:
            raise RunError(f"{run_dir.path} holds a run of other inputs or another pipeline; "
                           "choose a new output folder, or pass --restart to discard it")
        return [Shard.from_dict(s) for s in plan["shards"]]
    shards = plan_shards(inputs, shard_bytes, fmt)
    if not shards:
        raise RunError(f"no input files found in {inputs}")
    write_json(run_dir.plan_path, {"inputs": inputs, "pipeline_key": key, "pipeline": pipeline.spec,
                                          "pipeline_name": pipeline.name, "format": fmt,
                                          "shards": [s.to_dict() for s in shards]})
    return shards


def execute(inputs: list[str], output: str | Path, pipeline: Pipeline, engine: Any, fmt: str | None = None,
            shard_bytes: int = DEFAULT_SHARD_BYTES, restart: bool = False, quiet: bool = False,
            keep_work: bool = False) -> dict[str, Any]:
    """Run (or resume) ``pipeline`` over ``inputs`` into ``output``. Returns the aggregated stats, with
    ``failed_tasks`` listing tasks that raised (their shards are retried by the next run)."""
    run_dir = RunDir(local_dir(str(output)))  # file:// accepted; object-store URLs refused, with why
    if restart and run_dir.path.exists():
        shutil.rmtree(run_dir.path)
    run_dir.create()
    shards = plan_run(run_dir, inputs, pipeline, fmt, shard_bytes)
    shard_ids = [s.id for s in shards]
    progress = Progress(quiet)
    failed: list[str] = []
    for phase in phases_of(pipeline):
        if phase.kind == "shards":
            tasks = [(run_dir, pipeline, phase, s) for s in shards if not run_dir.is_done(phase.name, s.id)]
            fn = run_shard_phase
        else:
            n = pipeline.global_steps[phase.stage - 1].n_partitions
            tasks = [(run_dir, pipeline, phase, p, shard_ids) for p in range(n) if not resolve_done(run_dir, phase, p)]
            fn = run_resolve
        failed += _run_tasks(engine, fn, tasks, phase.name, progress)
        if phase.kind == "resolve" and not failed and not merge_marker(run_dir, phase).exists():
            failed += _run_tasks(engine, run_merge, [(run_dir, pipeline, phase, shard_ids)], f"{phase.name} merge",
                                 progress)
        if failed:
            break  # later phases need every shard of this one; a re-run retries what failed
    progress.end()
    total = aggregate(run_dir)
    total["failed_tasks"] = failed
    total["complete"] = not failed
    total["pipeline"] = pipeline.name
    total["wall_seconds"] = round(time.time() - progress.start, 3)
    write_json(run_dir.stats / "summary.json", total)
    if not failed and not keep_work:
        shutil.rmtree(run_dir.work, ignore_errors=True)
    if not failed:
        _write_report(run_dir)
    return total


def _write_report(run_dir: RunDir) -> None:
    try:
        from thresher.report import write_report
    except ImportError:
        return
    write_report(run_dir.path)


def _run_tasks(engine: Any, fn: Any, tasks: list[tuple], label: str, progress: Progress) -> list[str]:
    """Run one batch of tasks on the engine; returns a line for each task that failed."""
    failed = []
    progress.phase(label, len(tasks))
    for task, result in engine.map(fn, tasks, progress.add_docs):
        if isinstance(result, Exception):
            target = task[3]  # a Shard, a partition number, or (merge) the list of shard ids
            what = target.id if isinstance(target, Shard) else f"partition {target}" if isinstance(target, int) else "merge"
            failed.append(f"{label} {what}: {type(result).__name__}: {result}")
            print(f"\nthresher: task {label} {what} failed: {result}", file=sys.stderr)
        progress.task_done()
    return failed


def summary_lines(total: dict[str, Any], top: int = 5) -> list[str]:
    lines = [reconcile_line(total)]
    if tokens_line(total):
        lines.append(tokens_line(total))
    reasons = sorted(total["reasons"].items(), key=lambda kv: -kv[1])[:top]
    if reasons:
        # packed to the terminal's width (an item never split), so the summary reads on a laptop screen
        width = shutil.get_terminal_size((100, 24)).columns
        line = "top drop reasons:"
        for i, (k, v) in enumerate(reasons):
            item = f"{k} {v:,}" + ("," if i < len(reasons) - 1 else "")
            if len(line) + 1 + len(item) > width and line.strip():
                lines.append(line)
                line = " "
            line += " " + item
        lines.append(line)
    return lines
