"""The work itself, as plain functions of (run directory, pipeline, phase, shard). Engines only schedule
these: the local engine in a process pool, the Ray engine as Ray tasks. No other code path.

A pipeline with k global steps runs as 2k+1 phases:

    p0: read -> steps before G1 -> G1.index -> work/stage1        (per shard)
    r1: G1.resolve                                              (per partition)
    p1: work/stage1 -> G1.filter -> steps before G2 -> ...        (per shard)
    ...
    pk: ... -> kept/

Each phase's rejected documents go to rejected/ at once, with their reason.
"""

from __future__ import annotations

import copy
import functools
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from time import perf_counter
from typing import Any

import orjson

from thresher.atomic import tmp_path, write_json
from thresher.document import Document, MetaKey
from thresher.filters.tokens import TOKENS
from thresher.io import ReadError, Shard, read_shard
from thresher.io.jsonl import read as read_jsonl
from thresher.io.writers import JsonlWriter, OutputWriter, PartitionedWriter
from thresher.pipeline import Pipeline
from thresher.rundir import RunDir, length_bucket
from thresher.runner import apply_step, batches, setup_steps
from thresher.schema import Schema
from thresher.sites import site_label
from thresher.steps import GlobalStep, Step


@dataclass(frozen=True)
class Phase:
    name: str              # "p0", "r1", "p1", ...
    kind: str              # "shards" or "resolve"
    stage: int             # shards: which segment; resolve: which global step (1-based)


@dataclass(frozen=True)
class Task:
    """The unit of work of a shard phase: one shard of a big file, or several small input files read one
    after the other (``group_shards``), so that a folder of thousands of small files is a few tasks."""

    id: str                     # "00000", ...: names its output files and stats
    shards: tuple[Shard, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "shards": [s.to_dict() for s in self.shards]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Task:
        return cls(id=data["id"], shards=tuple(Shard.from_dict(s) for s in data["shards"]))


def group_shards(shards: list[Shard], sizes: list[int], group_bytes: int) -> list[Task]:
    """Consecutive shards packed into tasks of about ``group_bytes`` of input (a bigger shard is a task
    of its own), in input order."""
    tasks: list[Task] = []
    current: list[Shard] = []
    size = 0
    for shard, n in zip(shards, sizes):
        if current and size + n > group_bytes:
            tasks.append(Task(f"{len(tasks):05d}", tuple(current)))
            current, size = [], 0
        current.append(shard)
        size += n
    if current:
        tasks.append(Task(f"{len(tasks):05d}", tuple(current)))
    return tasks


def phases_of(pipeline: Pipeline) -> list[Phase]:
    k = len(pipeline.global_steps)
    out = [Phase("p0", "shards", 0)]
    for j in range(1, k + 1):
        out += [Phase(f"r{j}", "resolve", j), Phase(f"p{j}", "shards", j)]
    return out


def segments(pipeline: Pipeline) -> list[list[Step]]:
    """Steps split at global steps: segment j starts with global step j (its apply), j >= 1."""
    segs: list[list[Step]] = [[]]
    for step in pipeline.steps:
        if isinstance(step, GlobalStep):
            segs.append([])
        segs[-1].append(step)
    return segs


# Per worker process: pipelines already set up, so models load once per process, not once per shard.
_READY: dict[tuple[str, str], Pipeline] = {}


def ready_pipeline(run_dir: RunDir, pipeline: Pipeline) -> Pipeline:
    key = (pipeline.fingerprint(), str(run_dir.path))
    if key not in _READY:
        ready = copy.deepcopy(pipeline)  # this process's own: the caller's pipeline is never set up or changed
        setup_steps(ready.steps, run_dir.state)
        _READY[key] = ready
    return _READY[key]


def _forget_on_failure(task: Callable) -> Callable:
    """A task that raises drops this process's set-up pipeline: its steps may hold the failed task's
    half-done state (a global step's index buffer), which a retry in the same process must not inherit."""

    @functools.wraps(task)
    def run(run_dir: RunDir, pipeline: Pipeline, *args: Any, **kwargs: Any) -> Any:
        try:
            return task(run_dir, pipeline, *args, **kwargs)
        except BaseException:
            _READY.pop((pipeline.fingerprint(), str(run_dir.path)), None)
            raise

    return run


@_forget_on_failure
def run_shard_phase(run_dir: RunDir, pipeline: Pipeline, phase: Phase, task: Task,
                    progress: Any = None) -> dict[str, Any]:
    """Run one task through one phase's steps and write its outputs; returns (and writes) its stats."""
    pipeline = ready_pipeline(run_dir, pipeline)
    segs = segments(pipeline)
    steps = segs[phase.stage]
    last = phase.stage == len(segs) - 1
    indexer = None if last else segs[phase.stage + 1][0]
    started = time.time()
    errors = ErrorLog(run_dir.errors / f"{phase.name}-{task.id}.jsonl")
    if phase.stage == 0:
        source = _read_task(task, pipeline.reader, errors)
    else:
        first = task.shards[0]
        stage_shard = Shard(id=task.id, path=str(run_dir.stage_path(phase.stage, task.id)) + ".jsonl.zst",
                            name=first.name, format="jsonl")
        source = _guarded(read_jsonl(stage_shard, {}, errors.read_error), stage_shard, errors)
        steps[0].load(task.id)

    writer_fmt = pipeline.writer.get("format", "jsonl.zst")
    max_bytes = int(pipeline.writer.get("max_file_mb", 512) * 2**20)
    schema = Schema.of(pipeline.steps)
    if last:
        partition_by = pipeline.writer.get("partition_by")
        kept_out = (PartitionedWriter(run_dir.kept, task.id, writer_fmt, schema, max_bytes, partition_by)
                    if partition_by else OutputWriter(run_dir.kept, task.id, writer_fmt, schema, max_bytes))
    else:
        stage_dir = run_dir.work / f"stage{phase.stage + 1}"
        stage_dir.mkdir(parents=True, exist_ok=True)
        kept_out = JsonlWriter(stage_dir / f"{task.id}.jsonl.zst")
    rejected_out = OutputWriter(run_dir.rejected, f"{phase.name}-{task.id}", writer_fmt, schema, max_bytes)

    counts = ShardCounts(steps, measure_extracted=phase.stage == 0)
    for batch in batches(source):
        counts.read += len(batch)
        counts.read_bytes += sum(len(doc.raw) if doc.raw is not None else len(doc.text) for doc in batch)
        if progress is not None:
            progress(len(batch))
        for doc in counts.run_steps(batch, errors):  # a document a step raised on is logged, not returned
            if doc.reason is not None:
                counts.count_rejected(doc)
                doc.raw = None
                rejected_out.write(doc)
                continue
            if indexer is not None:
                indexer.index(doc, task.id)
            else:
                counts.count_kept(doc)
            kept_out.write(doc)
    if indexer is not None:
        indexer.finish_index(task.id)
    kept_out.close()
    rejected_out.close()
    errors.close()

    stats = {
        "phase": phase.name, "shard": task.id, "input": f"{task.shards[0].path}:{task.shards[0].start}",
        "inputs": len(task.shards), "input_bytes": _input_bytes(task) if phase.stage == 0 else 0,
        "first": phase.stage == 0, "last": last,
        # every record the reader met: documents it yielded plus records it could not read
        "read": counts.read + errors.reader_errors,
        "kept": kept_out.count, "rejected": rejected_out.count, "errors": errors.reader_errors + errors.step_errors,
        "seconds": round(time.time() - started, 4), "read_bytes": counts.read_bytes,
        **counts.to_dict(last),
    }
    write_json(run_dir.stats_path(phase.name, task.id), stats)
    return stats


class ShardCounts:
    """What one shard task counts for stats/ and the report, and the loop of steps over one document."""

    def __init__(self, steps: list[Step], measure_extracted: bool):
        self.steps = steps
        n = len(steps)
        self.seconds, self.dropped, self.entered, self.bytes = [0.0] * n, [0] * n, [0] * n, [0] * n
        self.read = 0
        self.read_bytes = 0   # text characters (or HTML bytes) of the documents read: the phase's throughput
        self.reasons: Counter[str] = Counter()
        self.languages: Counter[str] = Counter()
        # language -> {"kept": n, "rejected": n, "reasons": {step.rule: n}} (language "none": dropped
        # before any language ID)
        self.by_language: dict[str, dict[str, Any]] = {}
        self.removed_by_site: Counter[str] = Counter()
        self.length_kept: Counter[str] = Counter()
        # Length before filtering, for the report: text as it leaves the last step that produces it
        # (Step.produces_text), or as read in a pipeline without one; first phase only (None: not measured).
        self.length_extracted: Counter[str] = Counter()
        self.extract_at = (max((i for i, s in enumerate(steps) if s.produces_text), default=-1)
                           if measure_extracted else None)
        # Token totals, from signals["tokens"] (the ``tokens`` step): counted when a document first gets a
        # count, then where it ends (kept, dropped by step i, error). Nothing when no document has a count.
        self.tokens_read = self.tokens_kept = self.tokens_errors = 0
        self.tokens_in, self.tokens_dropped = [0] * n, [0] * n
        self.has_tokens = False

    def run_steps(self, docs: list[Document], errors: ErrorLog) -> list[Document]:
        """The documents through every step, each until one drops it; in order, less those a step raised
        on (logged). A batched step sees all live documents at once; if it raises, they go through it one
        by one so that only the bad document is lost."""
        live = [doc for doc in docs if doc.reason is None]
        if self.extract_at is not None:   # first phase: counts that came with the input are read here
            self.tokens_read += sum(doc.signals.get(TOKENS, 0) for doc in live)
        if self.extract_at == -1:
            for doc in live:
                self.length_extracted[length_bucket(len(doc.text))] += 1
        failed: set[int] = set()

        def on_error(doc: Document, step: Step, exc: Exception) -> None:
            errors.step_error(doc, step, exc)
            failed.add(id(doc))

        for i, step in enumerate(self.steps):
            if not live:
                break
            self.entered[i] += len(live)
            # characters of text (or bytes of HTML not yet extracted) entering the step: its throughput
            self.bytes[i] += sum(len(doc.raw) if doc.raw is not None else len(doc.text) for doc in live)
            counted_before = {id(doc) for doc in live if TOKENS in doc.signals}
            if counted_before:
                self.has_tokens = True
                self.tokens_in[i] += sum(doc.signals[TOKENS] for doc in live if id(doc) in counted_before)
            start = perf_counter()
            out = apply_step(step, live, on_error)
            self.seconds[i] += perf_counter() - start
            live = []
            for doc in out:
                tokens = doc.signals.get(TOKENS)
                if tokens is not None and id(doc) not in counted_before:
                    self.has_tokens = True
                    self.tokens_read += tokens
                if doc.reason is not None:
                    self.dropped[i] += 1
                    self.tokens_dropped[i] += tokens or 0
                    continue
                live.append(doc)
                if i == self.extract_at:
                    self.length_extracted[length_bucket(len(doc.text))] += 1
        self.tokens_errors += sum(doc.signals.get(TOKENS, 0) for doc in docs if id(doc) in failed)
        return [doc for doc in docs if id(doc) not in failed]

    def _language(self, doc: Document) -> dict[str, Any]:
        code = str(doc.meta.get(MetaKey.LANGUAGE) or "none")
        return self.by_language.setdefault(code, {"kept": 0, "rejected": 0, "reasons": {}})

    def count_rejected(self, doc: Document) -> None:
        self.reasons[doc.reason.key] += 1
        self.removed_by_site[site_label(doc.url)] += 1
        lang = self._language(doc)
        lang["rejected"] += 1
        lang["reasons"][doc.reason.key] = lang["reasons"].get(doc.reason.key, 0) + 1

    def count_kept(self, doc: Document) -> None:
        self.languages[str(doc.meta.get(MetaKey.LANGUAGE, "unknown"))] += 1
        self._language(doc)["kept"] += 1
        self.length_kept[length_bucket(len(doc.text))] += 1
        self.tokens_kept += doc.signals.get(TOKENS, 0)

    def to_dict(self, last: bool) -> dict[str, Any]:
        length_hist = {"extracted": dict(self.length_extracted)} if self.length_extracted else {}
        if last:
            length_hist["kept"] = dict(self.length_kept)
        steps = {s.name: {"in": self.entered[i], "dropped": self.dropped[i], "seconds": round(self.seconds[i], 4),
                          "bytes": self.bytes[i]} for i, s in enumerate(self.steps)}
        tokens = {}
        if self.has_tokens:
            for i, s in enumerate(self.steps):
                steps[s.name].update(tokens_in=self.tokens_in[i], tokens_dropped=self.tokens_dropped[i])
            # kept: counted in the last phase only, like documents
            tokens = {"read": self.tokens_read, "kept": self.tokens_kept if last else 0,
                      "rejected": sum(self.tokens_dropped), "errors": self.tokens_errors}
        return {
            "steps": steps, "tokens": tokens,
            "reasons": dict(self.reasons), "languages": dict(self.languages) if last else {},
            "by_language": self.by_language,
            "length_hist": length_hist,
            "removed_by_site": dict(self.removed_by_site.most_common(50)),
        }


class ErrorLog:
    """errors/PHASE-SHARD.jsonl: one line per record that could not be read or processed."""

    def __init__(self, path):
        self.path = path
        self.tmp = tmp_path(path)
        self._out = None   # opened at the first error: a task without errors leaves no file
        self.reader_errors = 0
        self.step_errors = 0
        path.unlink(missing_ok=True)  # an earlier, interrupted attempt's log

    def _write(self, **entry: Any) -> None:
        if self._out is None:
            self._out = open(self.tmp, "wb")
        self._out.write(orjson.dumps(entry, option=orjson.OPT_APPEND_NEWLINE))

    def read_error(self, err: ReadError) -> None:
        self.reader_errors += 1
        self._write(source=err.source, message=err.message)

    def step_error(self, doc: Document, step: Step, exc: Exception) -> None:
        self.step_errors += 1
        self._write(source=doc.source, id=doc.id, step=step.name, message=f"{type(exc).__name__}: {exc}")

    def close(self) -> None:
        if self._out is not None:
            self._out.close()
            self.tmp.replace(self.path)


def _read_task(task: Task, options: dict[str, Any], errors: ErrorLog) -> Iterator[Document]:
    """The documents of every shard of the task, one shard after the other."""
    for shard in task.shards:
        yield from _guarded(read_shard(shard, options, errors.read_error), shard, errors)


def _input_bytes(task: Task) -> int:
    """Bytes of input the task read (for throughput): its byte ranges, whole files where open-ended."""
    from thresher.io import fs

    total = 0
    for shard in task.shards:
        end = shard.end if shard.end is not None else fs.size(shard.path)
        total += max(0, end - shard.start)
    return total


def _guarded(source, shard: Shard, errors: ErrorLog):
    """The reader's stream; a reader that fails outright (a bug: readers report bad input themselves) is
    logged as an error, which fails the run's reconcile line, and the shard ends there."""
    try:
        yield from source
    except Exception as exc:  # noqa: BLE001 - any reader bug must cost one shard's tail, not the run
        errors.read_error(ReadError(f"{shard.path}:{shard.start}", f"reader failed: {type(exc).__name__}: {exc}; "
                                    "the rest of the shard was not read"))


@_forget_on_failure
def run_resolve(run_dir: RunDir, pipeline: Pipeline, phase: Phase, partition: int, shards: list[str],
                progress: Any = None) -> dict:
    pipeline = ready_pipeline(run_dir, pipeline)
    step = pipeline.global_steps[phase.stage - 1]
    started = time.time()
    step.resolve(partition, step.n_partitions, shards)
    stats = {"phase": phase.name, "partition": partition, "step": step.name,
             "seconds": round(time.time() - started, 4)}
    write_json(run_dir.stats / f"{phase.name}-part{partition:04d}.json.done", stats)
    return stats


def resolve_done(run_dir: RunDir, phase: Phase, partition: int) -> bool:
    return (run_dir.stats / f"{phase.name}-part{partition:04d}.json.done").exists()


@_forget_on_failure
def run_merge(run_dir: RunDir, pipeline: Pipeline, phase: Phase, shards: list[str], progress: Any = None) -> dict:
    """The one task after a global step's partitions are resolved (``GlobalStep.merge``)."""
    pipeline = ready_pipeline(run_dir, pipeline)
    step = pipeline.global_steps[phase.stage - 1]
    started = time.time()
    step.merge(step.n_partitions, shards)
    stats = {"phase": phase.name, "step": step.name, "seconds": round(time.time() - started, 4)}
    write_json(merge_marker(run_dir, phase), stats)
    return stats


def merge_marker(run_dir: RunDir, phase: Phase):
    return run_dir.stats / f"{phase.name}-merge.json.done"


