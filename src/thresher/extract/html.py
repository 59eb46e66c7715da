"""The ``extract`` step: HTML bytes -> main-content text, with title, author, date and declared language.

Backends: ``resiliparse`` (default: C++, ~13x trafilatura's speed here) and ``trafilatura`` (the
``trafilatura`` extra; higher word-F1 on WCXB, see docs). Documents that already have text (WET, JSONL)
pass through untouched.

Guards: pages over ``max_bytes`` are rejected before parsing; ``timeout_s`` bounds one page's extraction
with SIGALRM (effective for Python-level backends such as trafilatura; resiliparse's C++ parser is linear
in the input, which the size guard bounds).
"""

from __future__ import annotations

import re
import signal
import threading
from typing import Any

from thresher.document import Document
from thresher.steps import MapStep

_DATE_KEYS = ("article:published_time", "datepublished", "date", "pubdate", "publishdate", "dc.date",
              "dc.date.issued", "dcterms.created", "og:published_time", "sailthru.date", "parsely-pub-date")
_AUTHOR_KEYS = ("author", "article:author", "dc.creator", "parsely-author", "sailthru.author", "byl")
_ISO_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})")


class ExtractTimeout(Exception):
    pass


def _on_alarm(signum, frame):
    raise ExtractTimeout


def _meta_tags(tree) -> dict[str, str]:
    """<meta name|property|itemprop=... content=...> as a lower-cased key -> first value mapping."""
    found: dict[str, str] = {}
    for el in tree.document.query_selector_all("meta[content]"):
        key = el.getattr("name") or el.getattr("property") or el.getattr("itemprop")
        if key:
            found.setdefault(key.strip().lower(), el.getattr("content").strip())
    return found


def resiliparse_extract(raw: bytes, charset: str | None = None) -> tuple[str, dict[str, Any]]:
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.encoding import bytes_to_str, detect_encoding
    from resiliparse.parse.html import HTMLTree

    html = bytes_to_str(raw, charset or detect_encoding(raw))
    tree = HTMLTree.parse(html)
    text = extract_plain_text(tree, main_content=True, alt_texts=False, preserve_formatting=True)
    meta: dict[str, Any] = {}
    if tree.title:
        meta["title"] = tree.title.strip()
    if tree.document is not None:
        root = tree.document.query_selector("html")
        if root is not None and root.getattr("lang"):
            meta["html_lang"] = root.getattr("lang").strip()
        tags = _meta_tags(tree)
        date = next((tags[k] for k in _DATE_KEYS if tags.get(k)), None)
        if date is None:
            time_el = tree.document.query_selector("time[datetime]")
            date = time_el.getattr("datetime") if time_el is not None else None
        if date and (match := _ISO_DATE.search(date)):
            meta["date"] = match.group(1)
        author = next((tags[k] for k in _AUTHOR_KEYS if tags.get(k)), None)
        if author and not author.startswith("http"):
            meta["author"] = author
    return text, meta


def trafilatura_extract(raw: bytes, charset: str | None = None) -> tuple[str, dict[str, Any]]:
    try:
        import trafilatura
    except ImportError:
        raise RuntimeError("the trafilatura backend needs: pip install 'thresher[trafilatura]'") from None
    from resiliparse.parse.encoding import bytes_to_str, detect_encoding

    html = bytes_to_str(raw, charset or detect_encoding(raw))
    result = trafilatura.bare_extraction(html, include_comments=False, with_metadata=True)
    if result is None:
        return "", {}
    data = result if isinstance(result, dict) else result.as_dict()
    meta = {k: data[k] for k in ("title", "author", "date") if data.get(k)}
    return data.get("text") or "", meta


BACKENDS = {"resiliparse": resiliparse_extract, "trafilatura": trafilatura_extract}


class Extract(MapStep):
    name = "extract"
    produces_text = True
    META = {"title": str, "author": str, "date": str, "html_lang": str, "extractor": str}
    SIGNALS = {"html_bytes": int}

    def __init__(self, backend: str = "resiliparse", max_bytes: int = 20_000_000, timeout_s: float = 30.0,
                 min_chars: int = 1):
        if backend not in BACKENDS:
            raise ValueError(f"extract: unknown backend {backend!r}; choose from {sorted(BACKENDS)}")
        self.backend = backend
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s
        self.min_chars = min_chars

    def map(self, doc: Document) -> Document:
        raw = doc.raw
        if raw is None:
            return doc  # already text (WET, JSONL): nothing to extract
        doc.raw = None
        if len(raw) > self.max_bytes:
            doc.reason = self.reject("too_large", len(raw), self.max_bytes)
            return doc
        try:
            text, meta = self._timed(BACKENDS[self.backend], raw, doc.meta.get("charset"))
        except ExtractTimeout:
            doc.reason = self.reject("timeout", self.timeout_s, self.timeout_s)
            return doc
        doc.text = text.strip()
        doc.meta.update(meta)
        doc.meta["extractor"] = self.backend  # provenance: later steps (clean) know this is main content
        doc.signals["html_bytes"] = len(raw)
        if len(doc.text) < self.min_chars:
            doc.reason = self.reject("empty", len(doc.text), self.min_chars)
        return doc

    def _timed(self, func, raw: bytes, charset: str | None):
        if not self.timeout_s or threading.current_thread() is not threading.main_thread():
            return func(raw, charset)
        previous = signal.signal(signal.SIGALRM, _on_alarm)
        signal.setitimer(signal.ITIMER_REAL, self.timeout_s)
        try:
            return func(raw, charset)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
