"""The step contract, driven in one place (see ``thresher.steps`` for the contract itself).

- ``setup_steps``: every step's ``setup()`` once, before its first document; a global step gets its
  ``workdir`` first.
- ``apply_step``: one step over a batch of live documents. A batched step sees them at once; if it raises,
  they go through ``process`` one by one, so that only the bad document is lost (``on_error``).
- ``run_global_step``: a global step's phases in this process: index -> resolve -> merge -> load + apply.
- ``run_steps``: documents through a list of steps in memory, global steps included; ``Pipeline.run``.

The shard task (``thresher.engines.tasks``) uses ``apply_step`` in its own loop, which also counts and
writes; it runs the phases of a global step as separate tasks across workers instead of
``run_global_step``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from thresher.document import Document
from thresher.steps import GlobalStep, Step

# Called with (document, step, exception) for a document a step raised on; that document then leaves
# the batch. ``None`` lets the exception propagate (research scripts and benchmarks want to see it).
OnError = Callable[[Document, Step, Exception], None] | None


def setup_steps(steps: Iterable[Step], workdir: Path | None = None) -> None:
    """Set every step up once; global steps keep their state under ``workdir/<step name>``."""
    for step in steps:
        if isinstance(step, GlobalStep):
            if workdir is None:
                raise ValueError(f"global step {step.name!r} needs a working directory")
            step.workdir = Path(workdir) / step.name
            step.workdir.mkdir(parents=True, exist_ok=True)
        step.setup()


def apply_step(step: Step, live: list[Document], on_error: OnError = None) -> list[Document]:
    """``live`` (documents without a reason) through one step; returns them, less those it raised on."""
    if step.batched and len(live) > 1:
        try:
            return step.process_batch(live)
        except Exception:  # noqa: BLE001 - retried one by one below, to find the document
            pass
    out = []
    for doc in live:
        try:
            out.append(step.process(doc))
        except Exception as exc:
            if on_error is None:
                raise
            on_error(doc, step, exc)  # a step failing on one document must not stop the run
    return out


def run_global_step(step: GlobalStep, shards: dict[str, list[Document]], workdir: Path,
                    on_error: OnError = None) -> dict[str, list[Document]]:
    """Drive a global step's phases in this process, as the engine does across workers: index every
    shard, resolve every partition, merge, then load + filter every shard. Returns each shard's documents
    with their ``reason`` set where dropped (documents that came with a reason are left alone). Sets the
    step up (its state lives in ``workdir``). For ``thresher dedup --explain``, evaluation and tests."""
    step.workdir = Path(workdir)
    step.setup()
    for name, docs in shards.items():
        for doc in docs:
            if doc.reason is None:
                step.index(doc, name)
        step.finish_index(name)
    names = sorted(shards)
    for part in range(step.n_partitions):
        step.resolve(part, step.n_partitions, names)
    step.merge(step.n_partitions, names)
    for name, docs in shards.items():
        step.load(name)
        apply_step(step, [doc for doc in docs if doc.reason is None], on_error)
    return shards


BATCH_DOCS = 32          # documents handed to the steps at once (see Step.process_batch)
BATCH_BYTES = 4 << 20    # ... or fewer, when their text and raw content pass this size


def batches(docs: Iterable[Document]) -> Iterator[list[Document]]:
    """The stream in batches: big enough for batched steps to spread their fixed cost per call, small
    enough that a batch's arrays stay in the CPU's cache (measured: 16-32 WET-sized pages is best)."""
    batch: list[Document] = []
    size = 0
    for doc in docs:
        batch.append(doc)
        size += len(doc.text) + (len(doc.raw) if doc.raw else 0)
        if len(batch) >= BATCH_DOCS or size >= BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def mark_error(doc: Document, step: Step, exc: Exception) -> None:
    """``on_error`` of ``Pipeline.run``: the document stays in the output, dropped with rule ``error``."""
    doc.reason = step.reject("error", f"{type(exc).__name__}: {exc}")


def _through(steps: list[Step], batch: list[Document], on_error: OnError) -> None:
    live = [doc for doc in batch if doc.reason is None]
    for step in steps:
        if not live:
            return
        live = [doc for doc in apply_step(step, live, on_error) if doc.reason is None]


def run_steps(steps: list[Step], docs: Iterable[Document], workdir: Path | None = None,
              on_error: OnError = mark_error) -> Iterator[Document]:
    """Every document through ``steps`` in this process, set up here; yields every document in input
    order, kept (``reason is None``) or with the reason that dropped it. Streams batch by batch unless a
    global step is among the steps: that one needs every document first, so they are held in memory
    (its state goes to ``workdir``, a temporary directory if not given)."""
    if not any(isinstance(step, GlobalStep) for step in steps):
        setup_steps(steps)
        for batch in batches(docs):
            _through(steps, batch, on_error)
            yield from batch
        return
    with tempfile.TemporaryDirectory(prefix="thresher-run-") as tmp:
        root = Path(workdir) if workdir is not None else Path(tmp)
        setup_steps([s for s in steps if not isinstance(s, GlobalStep)])
        held = list(docs)
        segment: list[Step] = []
        for step in [*steps, None]:
            if step is None or isinstance(step, GlobalStep):
                for batch in batches(held):
                    _through(segment, batch, on_error)
                segment = []
                if step is not None:
                    run_global_step(step, {"00000": held}, root / step.name, on_error)
            else:
                segment.append(step)
        yield from held
