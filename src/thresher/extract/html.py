"""The ``extract`` step: HTML bytes -> main-content text, with title, author, date and declared language.

Backends: ``thresher`` (default: lexbor blocks scored by a shipped tree model, ``extractor.py``; see
docs/extract.md), ``resiliparse`` (C++, its own main-content heuristic) and ``trafilatura`` (the
``trafilatura`` extra, with its own metadata). The first two read title, author, date and language
from ``head.py``. Documents that already have text (WET, JSONL) pass through untouched.

Guards: pages over ``max_bytes`` are rejected before parsing; ``timeout_s`` bounds one page's extraction
with SIGALRM (effective for Python-level backends such as trafilatura; resiliparse's C++ parser is linear
in the input, which the size guard bounds).
"""

from __future__ import annotations

import signal
import threading
from functools import lru_cache
from typing import Any

from thresher.document import Document
from thresher.extract.extractor import BlockExtractor, decode
from thresher.extract.head import read_head
from thresher.steps import MapStep


class ExtractTimeout(Exception):
    pass


def _on_alarm(signum, frame):
    raise ExtractTimeout


def resiliparse_extract(raw: bytes, charset: str | None = None) -> tuple[str, dict[str, Any]]:
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.html import HTMLTree

    html = decode(raw, charset)
    text = extract_plain_text(HTMLTree.parse(html), main_content=True, alt_texts=False, preserve_formatting=True)
    return text, read_head(html).metadata()


def thresher_extract(raw: bytes, charset: str | None = None) -> tuple[str, dict[str, Any]]:
    """One page through the ``thresher`` backend (the step runs it on whole batches)."""
    return _block_extractor().extract_pages([decode(raw, charset)])[0]


@lru_cache(maxsize=1)
def _block_extractor() -> BlockExtractor:
    return BlockExtractor()


def trafilatura_extract(raw: bytes, charset: str | None = None) -> tuple[str, dict[str, Any]]:
    try:
        import trafilatura
    except ImportError:
        raise RuntimeError("the trafilatura backend needs: pip install 'thresher[trafilatura]'") from None
    html = decode(raw, charset)
    result = trafilatura.bare_extraction(html, include_comments=False, with_metadata=True)
    if result is None:
        return "", {}
    data = result if isinstance(result, dict) else result.as_dict()
    meta = {k: data[k] for k in ("title", "author", "date") if data.get(k)}
    return data.get("text") or "", meta


BACKENDS = {"thresher": thresher_extract, "resiliparse": resiliparse_extract, "trafilatura": trafilatura_extract}


class Extract(MapStep):
    """``extract: {backend: thresher|resiliparse|trafilatura, format: text|markdown, comments: true}``.

    ``format: markdown`` keeps headings, list items, code and table cells as Markdown (thresher backend);
    ``comments`` puts reader comments in ``meta["comments"]`` (thresher backend); ``model`` names another
    block model file (``python -m thresher_eval.train_extract`` writes one)."""

    name = "extract"
    produces_text = True
    META = {"title": str, "author": str, "date": str, "html_lang": str, "extractor": str}
    SIGNALS = {"html_bytes": int}
    COMMENTS = {"comments": [{"author": str, "date": str, "score": int, "text": str}]}  # as ``clean`` writes

    def meta_fields(self) -> dict:
        return {**self.META, **self.COMMENTS} if self.backend == "thresher" and self.comments else dict(self.META)

    def __init__(self, backend: str = "thresher", max_bytes: int = 20_000_000, timeout_s: float = 30.0,
                 min_chars: int = 1, format: str = "text", comments: bool = True, model: str | None = None):
        if backend not in BACKENDS:
            raise ValueError(f"extract: unknown backend {backend!r}; choose from {sorted(BACKENDS)}")
        if format not in ("text", "markdown"):
            raise ValueError(f"extract: unknown format {format!r}; choose text or markdown")
        self.backend = backend
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s
        self.min_chars = min_chars
        self.format = format
        self.comments = comments
        self.model = model
        self._blocks: BlockExtractor | None = None

    def setup(self) -> None:
        if self.backend == "thresher":
            self._blocks = BlockExtractor(self.model, markdown=self.format == "markdown", comments=self.comments)

    def _extract(self, raw: bytes, charset: str | None, url: str | None) -> tuple[str, dict[str, Any]]:
        if self._blocks is not None:
            return self._blocks.extract_pages([decode(raw, charset)], [url])[0]
        return BACKENDS[self.backend](raw, charset)

    def map(self, doc: Document) -> Document:
        raw = doc.raw
        if raw is None:
            return doc  # already text (WET, JSONL): nothing to extract
        if len(raw) > self.max_bytes:
            doc.raw = None
            doc.reason = self.reject("too_large", len(raw), self.max_bytes)
            return doc
        try:
            text, meta = self._timed(self.timeout_s, self._extract, raw, doc.meta.get("charset"), doc.url)
        except ExtractTimeout:
            doc.raw = None
            doc.reason = self.reject("timeout", self.timeout_s, self.timeout_s)
            return doc
        self._apply(doc, text, meta)
        return doc

    def process_batch(self, docs: list[Document]) -> list[Document]:
        """The thresher backend scores a whole batch's blocks at once; other backends go page by page.
        Nothing is changed until every page of the batch is extracted (the engine retries a batch that
        raises, or times out, one page at a time)."""
        if self._blocks is None:
            return [self.map(doc) for doc in docs]
        todo = [d for d in docs if d.raw is not None and len(d.raw) <= self.max_bytes]
        if todo:
            pages = [decode(d.raw, d.meta.get("charset")) for d in todo]
            results = self._timed(self.timeout_s * len(todo), self._blocks.extract_pages, pages,
                                  [d.url for d in todo])
            for doc, (text, meta) in zip(todo, results):
                self._apply(doc, text, meta)
        return [self.map(doc) if doc.raw is not None else doc for doc in docs]

    def _apply(self, doc: Document, text: str, meta: dict[str, Any]) -> None:
        doc.signals["html_bytes"] = len(doc.raw or b"")
        doc.raw = None
        doc.text = text.strip()
        doc.meta.update(meta)
        doc.meta["extractor"] = self.backend  # provenance: later steps (clean) know this is main content
        if len(doc.text) < self.min_chars:
            doc.reason = self.reject("empty", len(doc.text), self.min_chars)

    @staticmethod
    def _timed(seconds: float, func, *args):
        if not seconds or threading.current_thread() is not threading.main_thread():
            return func(*args)
        previous = signal.signal(signal.SIGALRM, _on_alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            return func(*args)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
