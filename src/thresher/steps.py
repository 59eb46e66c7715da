"""The three shapes a pipeline step can take: map, filter, global.

A step is constructed from its YAML parameters (keyword arguments), then ``setup()`` runs once per worker
process before the first document (load models there, not in ``__init__``, so steps pickle cheaply).

- ``MapStep.map(doc) -> doc``: change a document (extract, clean, annotate). May drop it by setting
  ``doc.reason`` (use ``self.reject``). A step whose cost is mostly fixed per call (numpy over a few
  hundred lines) also overrides ``process_batch(docs)``: the engine hands it a batch's live documents.
- ``LineStep``: a map step that edits a document line by line (``c4_lines``, ``refinedweb_lines``,
  ``clean``): every line gets a rule, the kept mark or the rule that removes it; the base counts removals
  per rule, lists the kept lines and writes the trace of what went (``meta["removed_lines"]``).
- ``FilterStep.filter(doc) -> Reason | None``: decide only; ``None`` keeps the document.
- ``GlobalStep``: needs every document before it decides (deduplication). The engine runs it in three
  phases over shards: ``index`` (per shard, during the stream), ``resolve`` (partitioned reduce), and
  ``apply`` (per shard, as a filter). ``thresher.runner`` drives the contract (in memory) and
  ``thresher.engines.tasks`` runs the phases as tasks over shards.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar

from thresher.document import Document, MetaKey, Reason


class Step:
    """Base of every step. ``name`` is the one name used in YAML, code, stats and reasons."""

    name: ClassVar[str] = "step"
    # True for a step whose output is the text "before filtering" (extraction): the run's report shows the
    # length of the text as it leaves the last such step (or as read, if there is none).
    produces_text: ClassVar[bool] = False
    # The keys this step writes to ``doc.meta`` / ``doc.signals`` and their types (see thresher.schema):
    # they fix the output's columns before the first document. A step whose keys depend on its parameters
    # overrides ``meta_fields`` / ``signal_fields`` instead.
    META: ClassVar[dict[str, Any]] = {}
    SIGNALS: ClassVar[dict[str, Any]] = {}
    # rule -> the signal (or meta key) it tests against its threshold: the report draws its distribution
    RULE_SIGNALS: ClassVar[dict[str, str]] = {}

    def setup(self) -> None:
        """Load models or compile patterns; called once per worker before the first document."""

    def meta_fields(self) -> dict[str, Any]:
        return dict(self.META)

    def signal_fields(self) -> dict[str, Any]:
        return dict(self.SIGNALS)

    def rule_signals(self) -> dict[str, str]:
        return dict(self.RULE_SIGNALS)

    def reject(self, rule: str, value: Any = None, threshold: Any = None, **extra: Any) -> Reason:
        return Reason(step=self.name, rule=rule, value=value, threshold=threshold, **extra)

    def process(self, doc: Document) -> Document:
        raise NotImplementedError

    @property
    def batched(self) -> bool:
        """True when the step processes a batch at once (overrides ``process_batch``)."""
        return type(self).process_batch is not Step.process_batch

    def process_batch(self, docs: list[Document]) -> list[Document]:
        """Process live documents together. Contract for steps that override it: if it raises, no document
        has been changed (the engine then runs them one by one through ``process``, to find the bad one)."""
        return [self.process(doc) for doc in docs]


class MapStep(Step):
    def map(self, doc: Document) -> Document:
        raise NotImplementedError

    def process(self, doc: Document) -> Document:
        return self.map(doc)


# What a step that keeps removed lines (``keep_removed``) declares in ``meta``: the trace the report samples.
REMOVED_LINES_FIELDS: dict[str, Any] = {MetaKey.REMOVED_LINES: [{"line": str, "rule": str, "step": str}]}


class LineStep(MapStep):
    """A map step that decides line by line. The subclass gives every line a rule: ``KEEP`` (the line
    stays) or the name of the rule that removes it; the base does the bookkeeping every such step shares:

    - ``removed_counts(rules)``: lines removed per rule, in the order the rules first removed a line (the
      ``<step>_lines_removed`` signal);
    - ``kept(lines, rules)``: the kept lines, in order;
    - ``write_trace(doc, lines, rules)``: when tracing is on (``keep_removed``), each removed line with its
      rule and this step's name appended to ``meta["removed_lines"]`` (the report samples them there).
      A step whose trace is every line with its label (``clean``'s ``meta["clean_lines"]``) sets
      ``TRACE_ALL`` and overrides ``TRACE_KEY``, ``trace_entry`` and ``tracing``.

    ``skip`` (in ``removed_counts`` and ``write_trace``) names rules that are neither counted nor traced:
    page rules, which drop the whole page rather than a line.
    """

    KEEP: ClassVar[str | None] = None  # the rule of a line that stays
    TRACE_KEY: ClassVar[str] = MetaKey.REMOVED_LINES
    TRACE_ALL: ClassVar[bool] = False  # the trace lists every line (and replaces any earlier one)
    keep_removed: bool = False

    @property
    def tracing(self) -> bool:
        return self.keep_removed

    def trace_fields(self) -> dict[str, Any]:
        return dict(REMOVED_LINES_FIELDS)

    def meta_fields(self) -> dict[str, Any]:
        return {**self.META, **self.trace_fields()} if self.tracing else dict(self.META)

    def trace_entry(self, line: str, rule: str | None) -> Any:
        return {"line": line, "rule": rule, "step": self.name}

    def removed_counts(self, rules: Iterable[str | None], skip: Iterable[str] = ()) -> dict[str, int]:
        counts = Counter(rules)  # keeps the order of first occurrence
        for rule in (self.KEEP, *skip):
            counts.pop(rule, None)
        return dict(counts)

    def kept(self, lines: Sequence[str], rules: Sequence[str | None]) -> list[str]:
        keep = self.KEEP
        return [line for line, rule in zip(lines, rules, strict=True) if rule == keep]

    def write_trace(self, doc: Document, lines: Sequence[str], rules: Sequence[str | None],
                    skip: Iterable[str] = ()) -> None:
        """Record the lines' fate in ``doc.meta[TRACE_KEY]`` when tracing is on (nothing otherwise)."""
        if not self.tracing:
            return
        entry = self.trace_entry
        if self.TRACE_ALL:
            doc.meta[self.TRACE_KEY] = [entry(line, rule) for line, rule in zip(lines, rules, strict=True)]
            return
        keep, skipped = self.KEEP, frozenset(skip)
        entries = [entry(line, rule) for line, rule in zip(lines, rules, strict=True)
                   if rule != keep and rule not in skipped]
        if entries:
            doc.meta.setdefault(self.TRACE_KEY, []).extend(entries)


class FilterStep(Step):
    def filter(self, doc: Document) -> Reason | None:
        raise NotImplementedError

    def decide(self, doc: Document) -> Reason | None:
        """The decision from what this step already wrote to ``doc.signals``/``doc.meta``, without
        computing anything again. A step that implements it (its ``filter`` = compute the signals, then
        ``decide``) can be re-thresholded on a finished run: ``thresher refilter``."""
        raise NotImplementedError

    @property
    def decides_from_signals(self) -> bool:
        return type(self).decide is not FilterStep.decide

    def process(self, doc: Document) -> Document:
        reason = self.filter(doc)
        if reason is not None:
            doc.reason = reason
        return doc


class GlobalStep(FilterStep):
    """A step that needs the whole corpus; its last phase is a filter. Phases, each driven by the engine:

    1. ``index(doc, shard)`` for every surviving document of every shard, then ``finish_index(shard)``:
       write this shard's signatures under ``self.workdir`` (files, so memory stays flat).
    2. ``resolve(partition, n_partitions)`` for each partition (parallel): read the signatures of the
       partition, decide which ids are duplicates of which, and write the decisions to disk.
    3. ``load(shard)`` once per shard, then ``filter(doc)`` per document: drop with a Reason that names
       the kept document (``duplicate_of``).

    ``workdir`` is set by the engine before any phase (``run_dir/state/<step>``).
    """

    n_partitions: int = 1
    workdir: Path

    def index(self, doc: Document, shard: str) -> None:
        raise NotImplementedError

    def finish_index(self, shard: str) -> None:
        """Flush this shard's signatures; must be atomic (write to a temporary name, then rename)."""

    def resolve(self, partition: int, n_partitions: int, shards: list[str]) -> None:
        raise NotImplementedError

    def merge(self, n_partitions: int, shards: list[str]) -> None:
        """Runs once, after every partition's ``resolve`` and before any ``load``; nothing by default."""

    def load(self, shard: str) -> None:
        """Load the decisions that concern this shard's documents before ``filter`` is called on them."""
