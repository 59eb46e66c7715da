"""Steps used only by tests, loaded by YAML as ``steps_for_tests:Name`` (tests/ is on the path)."""

from __future__ import annotations

import time

from thresher.document import Document, Reason
from thresher.steps import FilterStep, MapStep


class Sleep(MapStep):
    """Slows every document down, so a test can kill a run in the middle."""

    name = "sleep"

    def __init__(self, ms: float = 20):
        self.ms = ms

    def map(self, doc: Document) -> Document:
        time.sleep(self.ms / 1000)
        return doc


class FailOn(MapStep):
    """Raises on documents whose text contains ``marker``: a step bug must cost one document, not the run."""

    name = "fail_on"

    def __init__(self, marker: str = "BOOM"):
        self.marker = marker

    def map(self, doc: Document) -> Document:
        if self.marker in doc.text:
            raise RuntimeError("step bug")
        return doc


class BatchUpper(MapStep):
    """A batched step: upper-cases the text and records how many documents came in its batch. A batch
    holding ``marker`` raises before changing anything (the contract), and so does ``map`` on that
    document alone: the engine must then lose that document only."""

    name = "batch_upper"
    SIGNALS = {"batch_size": int}  # declared: a column of the output (undeclared keys go to signals.undeclared)

    def __init__(self, marker: str = "BOOM", drop: str = "DROP"):
        self.marker = marker
        self.drop = drop

    def map(self, doc: Document) -> Document:
        return self.process_batch([doc])[0]

    def process_batch(self, docs: list[Document]) -> list[Document]:
        if any(self.marker in doc.text for doc in docs):
            raise RuntimeError("batch step bug")
        for doc in docs:
            doc.signals["batch_size"] = len(docs)
            if self.drop in doc.text:
                doc.reason = self.reject("dropped")
            doc.text = doc.text.upper()
        return docs


class DropShort(FilterStep):
    """Drops documents of fewer than ``min_words`` words (or more than ``max_words``)."""

    name = "drop_short"

    def __init__(self, min_words: int = 5, max_words: int = 10**9):
        self.min_words, self.max_words = min_words, max_words

    def filter(self, doc: Document) -> Reason | None:
        n = len(doc.text.split())
        return None if self.min_words <= n <= self.max_words else self.reject("words", n, self.min_words)
