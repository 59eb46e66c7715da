"""One run, whatever the engine: plan (or resume) the run directory, run each phase's pending tasks,
then aggregate and reconcile. The dataset card and report.html are the command's to write
(``thresher.run.run``): engines do not import ``report``."""

from __future__ import annotations

import errno
import io
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from thresher.atomic import read_json, write_json
from thresher.engines.tasks import (
    Phase,
    Task,
    group_shards,
    merge_marker,
    phases_of,
    resolve_done,
    run_merge,
    run_resolve,
    run_shard_phase,
)
from thresher.io import fs, plan_shards
from thresher.io.fs import local_dir
from thresher.io.shards import DEFAULT_SHARD_BYTES
from thresher.pipeline import Pipeline
from thresher.rundir import RunDir, RunInUse, aggregate, reconcile_line, run_ok, tokens_line
from thresher.schema import Schema


class RunError(Exception):
    pass


class Progress:
    """A progress bar per phase (tqdm): done/total, percentage, rate and ETA. A phase whose documents are
    known in advance (every phase after the first: the survivors of the one before) counts documents;
    the first phase counts tasks, with its documents alongside. Each document is counted once per phase.
    On a terminal the bar redraws in place; otherwise (CI logs) a plain line every 10 s and at the end of
    each phase."""

    LOG_EVERY = 10.0
    FORMAT = "{desc}: {n_fmt}/{total_fmt} {unit}s ({percentage:.0f}%) | {rate_fmt} | ETA {remaining}{postfix}"

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self.start = time.time()
        self.bar: Any = None

    def phase(self, label: str, total: int, unit: str = "task", initial: int = 0) -> None:
        from tqdm import tqdm

        self.end()
        self.label, self.unit, self.docs = label, unit, 0
        self.last_log = time.time()
        # in a log, tqdm's in-place redraws would garble it: tqdm counts, writing nowhere, and _log prints
        self.bar = tqdm(total=total, initial=initial, desc=label, unit=unit,
                        file=sys.stderr if self.tty else io.StringIO(), disable=self.quiet,
                        ncols=shutil.get_terminal_size((100, 24)).columns, mininterval=0.2, leave=True)

    def add_docs(self, n: int) -> None:
        self.docs += n
        if self.unit == "doc":
            self.bar.update(n)
        else:
            self.bar.set_postfix_str(f"{self.docs:,} docs", refresh=False)
        self._log()

    def task_done(self) -> None:
        if self.unit != "doc":
            self.bar.update(1)
        self._log()

    def _log(self, force: bool = False) -> None:
        if self.tty or self.quiet or self.bar is None or (not force and time.time() - self.last_log < self.LOG_EVERY):
            return
        self.last_log = time.time()
        print(self.bar.format_meter(**{**self.bar.format_dict, "bar_format": self.FORMAT, "ncols": None}), file=sys.stderr,
              flush=True)

    def end(self) -> None:
        if self.bar is not None:
            self._log(force=True)  # a log gets each phase's last figures
            self.bar.close()
            self.bar = None


def phase_label(pipeline: Pipeline, phase: Phase) -> str:
    """A phase in words: ``read+filter``, ``exact_dedup: resolve``, ``exact_dedup: apply``, ... (a shard
    phase also indexes the documents for the next global step: ``, minhash_dedup: index``)."""
    globals_ = pipeline.global_steps
    if phase.kind == "resolve":
        return f"{globals_[phase.stage - 1].name}: resolve"
    label = "read+filter" if phase.stage == 0 else f"{globals_[phase.stage - 1].name}: apply"
    if phase.stage < len(globals_):
        label += f", {globals_[phase.stage].name}: index"
    return label


MIN_GROUP_BYTES = 1 << 20


def plan_tasks(inputs: list[str], fmt: str | None, shard_bytes: int, workers: int,
               group_bytes: int | None = None) -> tuple[list[Task], list[str]]:
    """The run's tasks, and the files of unknown format that input folders held (left out). Small files
    are grouped into tasks of ``group_bytes``; by default about a quarter of each worker's share of the
    input (so every worker gets several tasks), at least 1 MB and at most ``shard_bytes``."""
    skipped: list[str] = []
    shards = plan_shards(inputs, shard_bytes, fmt, skipped)
    if not shards:
        raise RunError(f"no input files found in {' '.join(inputs)}" +
                       (f" ({len(skipped)} files of unknown format)" if skipped else ""))
    sizes = [(s.end if s.end is not None else fs.size(s.path)) - s.start for s in shards]
    if group_bytes is None:
        group_bytes = min(shard_bytes, max(MIN_GROUP_BYTES, sum(sizes) // (4 * max(1, workers))))
    return group_shards(shards, sizes, group_bytes), skipped


def plan_run(run_dir: RunDir, inputs: list[str], pipeline: Pipeline, fmt: str | None,
             shard_bytes: int, workers: int, group_bytes: int | None = None) -> tuple[list[Task], list[str]]:
    """The tasks of a new run (planned and saved in ``state/plan.json``), or of the run being resumed."""
    key = pipeline.fingerprint()
    if run_dir.plan_path.exists():
        plan = read_json(run_dir.plan_path)
        if "tasks" not in plan:
            raise RunError(f"{run_dir.path} holds a run planned by an older thresher (shards, not tasks); "
                           "pass --restart to run it again, or choose a new output folder")
        if plan["pipeline_key"] != key or plan["inputs"] != inputs:
            raise RunError(f"{run_dir.path} holds a run of other inputs or another pipeline; "
                           "choose a new output folder, or pass --restart to discard it")
        return [Task.from_dict(t) for t in plan["tasks"]], plan.get("skipped", [])
    tasks, skipped = plan_tasks(inputs, fmt, shard_bytes, workers, group_bytes)
    run_dir.create()
    write_json(run_dir.plan_path, {"inputs": inputs, "pipeline_key": key, "pipeline": pipeline.spec,
                                   "pipeline_name": pipeline.name, "steps": [s.name for s in pipeline.steps],
                                   "format": fmt, "skipped": skipped,
                                   "schema": Schema.of(pipeline.steps).to_dict(),
                                   "tasks": [t.to_dict() for t in tasks]})
    return tasks, skipped


def execute(inputs: list[str], output: str | Path, pipeline: Pipeline, engine: Any, fmt: str | None = None,
            shard_bytes: int = DEFAULT_SHARD_BYTES, restart: bool = False, quiet: bool = False,
            keep_work: bool = False, group_bytes: int | None = None) -> dict[str, Any]:
    """Run (or resume) ``pipeline`` over ``inputs`` into ``output``. Returns the aggregated stats, with
    ``failed_tasks`` listing tasks that raised (they are retried by the next run). Nothing is created
    on disk before the inputs are planned: a usage mistake leaves no run directory behind."""
    run_dir = RunDir(local_dir(str(output)))  # file:// accepted; object-store URLs refused, with why
    if run_dir.path.exists() and not run_dir.path.is_dir():
        raise RunError(f"-o {output}: a file, not a folder; the run directory must be a folder")
    created = not run_dir.path.exists()
    run_dir.path.mkdir(parents=True, exist_ok=True)  # the lock lives in it
    try:
        lock = run_dir.lock()
    except RunInUse as exc:
        raise RunError(str(exc)) from None
    try:
        if restart:
            run_dir.clear()
        run_dir.remove_stale_tmp()  # a killed run's half-written files; no process can own them now
        workers = getattr(engine, "workers", None) or os.cpu_count() or 1
        try:
            tasks, skipped = plan_run(run_dir, inputs, pipeline, fmt, shard_bytes, workers, group_bytes)
        except BaseException:
            if created:  # a usage mistake leaves no run directory behind
                shutil.rmtree(run_dir.path, ignore_errors=True)
            raise
        return _execute(run_dir, tasks, skipped, pipeline, engine, quiet, keep_work)
    finally:
        lock.close()


def _execute(run_dir: RunDir, tasks: list[Task], skipped: list[str], pipeline: Pipeline, engine: Any,
             quiet: bool, keep_work: bool) -> dict[str, Any]:
    run_dir.create()
    if skipped:  # said even with -q: an input left out is not progress
        shown = ", ".join(skipped[:5]) + (f", ... ({len(skipped) - 5} more)" if len(skipped) > 5 else "")
        print(f"thresher: left out {len(skipped)} files of unknown format: {shown} "
              "(all listed in state/plan.json; --format reads them as one format)", file=sys.stderr)
    shard_ids = [t.id for t in tasks]
    progress = Progress(quiet)
    failed: list[str] = []
    phase_seconds: dict[str, float] = {}
    previous = None
    for phase in phases_of(pipeline):
        started = time.time()
        label = phase_label(pipeline, phase)
        if phase.kind == "shards":
            todo = [(run_dir, pipeline, phase, t) for t in tasks if not run_dir.is_done(phase.name, t.id)]
            if previous is None:
                progress.phase(label, len(tasks), "task", initial=len(tasks) - len(todo))
            else:  # the documents this phase will read: what the phase before passed on
                done = [read_json(p) for p in run_dir.stats.glob(f"{phase.name}-*.json")]
                survivors = sum(read_json(p)["kept"] for p in run_dir.stats.glob(f"{previous}-*.json"))
                progress.phase(label, survivors, "doc", initial=sum(st["read"] for st in done))
            failed += _run_tasks(engine, run_shard_phase, todo, phase.name, progress)
            previous = phase.name
        else:
            n = pipeline.global_steps[phase.stage - 1].n_partitions
            todo = [(run_dir, pipeline, phase, p, shard_ids) for p in range(n) if not resolve_done(run_dir, phase, p)]
            progress.phase(label, n, "partition", initial=n - len(todo))
            failed += _run_tasks(engine, run_resolve, todo, phase.name, progress)
            if not failed and not merge_marker(run_dir, phase).exists():
                failed += _run_tasks(engine, run_merge, [(run_dir, pipeline, phase, shard_ids)],
                                     f"{phase.name} merge", None)
        phase_seconds[label] = round(phase_seconds.get(label, 0) + time.time() - started, 3)
        if failed:
            break  # later phases need every shard of this one; a re-run retries what failed
    progress.end()
    total = aggregate(run_dir)
    total["failed_tasks"] = failed
    total["complete"] = not failed
    total["ok"] = run_ok(total)
    total["pipeline"] = pipeline.name
    total["skipped_inputs"] = len(skipped)
    total["wall_seconds"] = round(time.time() - progress.start, 3)
    total["phase_wall_seconds"] = phase_seconds  # this invocation's (a resumed run: only what it redid)
    total["phase_labels"] = {p.name: phase_label(pipeline, p) for p in phases_of(pipeline)}
    summary = run_dir.stats / "summary.json"
    try:
        write_json(summary, total)
    except OSError as exc:
        raise OSError(exc.errno, f"{exc.strerror} (free space, then re-run the same command to resume)",
                      str(summary)) from None
    if not failed and not keep_work:
        shutil.rmtree(run_dir.work, ignore_errors=True)
    return total


def _run_tasks(engine: Any, fn: Any, tasks: list[tuple], label: str, progress: Progress | None) -> list[str]:
    """Run one batch of tasks on the engine; returns a line for each task that failed."""
    failed = []
    on_docs = progress.add_docs if progress is not None else (lambda n: None)
    for task, result in engine.map(fn, tasks, on_docs):
        if isinstance(result, Exception):
            target = task[3]  # a Task, a partition number, or (merge) the list of task ids
            what = target.id if isinstance(target, Task) else f"partition {target}" if isinstance(target, int) else "merge"
            message = f"{type(result).__name__}: {result}"
            if isinstance(result, OSError) and result.errno in (errno.ENOSPC, errno.EDQUOT):
                where = result.filename or task[0].path  # task[0]: the run directory
                message = f"no space left on device writing {where}; free space, then re-run the same command"
            failed.append(f"{label} {what}: {message}")
            print(f"\nthresher: task {label} {what} failed: {message}", file=sys.stderr)
        if progress is not None:
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
