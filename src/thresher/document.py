"""The two types everything else passes around: a Document, and the Reason it was dropped; and the names of
the ``Document.meta`` keys more than one module relies on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class MetaKey:
    """The ``Document.meta`` keys that one module writes and another reads: use these names, not the strings
    (``doc.meta[MetaKey.REMOVED_LINES]``). Plain strings, so the output's JSON is unchanged."""

    EXTRACTOR = "extractor"  # the extract step's backend: the text is main content (``clean`` leaves it alone)
    REMOVED_LINES = "removed_lines"  # lines a step removed, ``[{line, rule, step}]`` (``keep_removed: true``)
    CLEAN_LINES = "clean_lines"  # ``clean``'s label of every line, ``[[label, line]]`` (``keep_labels: true``)
    LANGUAGE = "language"  # language identification: the code ...
    LANGUAGE_SCORE = "language_score"  # ... and its score
    SCRIPT = "script"  # the text's ISO 15924 script (``Latn``, ``Hani``): it picks the word splitter
    TITLE, AUTHOR, DATE = "title", "author", "date"  # what extraction or ``clean`` read from the page
    COMMENTS = "comments"  # ``clean``'s comments, ``[{author, date, score, text}]``


@dataclass(slots=True)
class Reason:
    """Why a document was dropped: which step, which rule, the value it saw and the threshold it broke.

    For a duplicate, ``duplicate_of`` names the kept document it matched and ``similarity`` the estimate.
    """

    step: str
    rule: str
    value: Any = None
    threshold: Any = None
    duplicate_of: str | None = None
    similarity: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {"step": self.step, "rule": self.rule}
        for key in ("value", "threshold", "duplicate_of", "similarity"):
            val = getattr(self, key)
            if val is not None:
                out[key] = val
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reason:
        return cls(**data)

    @property
    def key(self) -> str:
        """``step.rule``: the name reports and stats count reasons by."""
        return f"{self.step}.{self.rule}"


@dataclass(slots=True)
class Document:
    """One record flowing through a pipeline.

    ``raw`` holds undecoded HTML bytes from a WARC/ARC/HTML source until the extract step turns it into
    ``text``; it is never written out. ``source`` is ``"path:offset"`` of the record in its input file.
    ``signals`` holds every quality figure a step computed, so users can re-threshold without re-running.
    ``stats`` caches what the quality rules derive from the text (see ``thresher.filters.text``).
    """

    id: str
    text: str = ""
    url: str | None = None
    source: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    signals: dict[str, Any] = field(default_factory=dict)
    reason: Reason | None = None
    raw: bytes | None = None
    # Statistics derived from ``text`` (thresher.filters.text.TextStats: words, lines, n-grams), shared by
    # every step that reads them and valid while ``text`` is the same string; never written out.
    stats: Any = field(default=None, init=False, repr=False, compare=False)

    @property
    def dropped(self) -> bool:
        return self.reason is not None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "text": self.text, "url": self.url, "source": self.source,
                               "meta": self.meta, "signals": self.signals}
        if self.reason is not None:
            out["reason"] = self.reason.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Document:
        reason = data.get("reason")
        return cls(id=data["id"], text=data.get("text", ""), url=data.get("url"), source=data.get("source"),
                   meta=data.get("meta") or {}, signals=data.get("signals") or {},
                   reason=Reason.from_dict(reason) if reason else None)
