"""The ``clean`` step: read already-extracted page text (WET records, old corpora) the way a person would.

Every non-blank line gets one label: ``title``, ``byline`` (author/date), ``body``, ``comment`` or
``boilerplate``. The document's text becomes the body; ``meta`` gets ``title``, ``author``, ``date``
(ISO ``YYYY-MM-DD``) and ``comments`` (a list of ``{author, date, score, text}``, fields ``None`` where the
page does not show them); ``signals`` gets the count of lines per label. ``keep_labels=True`` keeps the
per-line labels in ``meta["clean_lines"]`` as ``[label, line]`` pairs, so a user sees what went and why.

How lines are labelled:

1. the line model (``lines.py``, shipped as ``models/clean_lines.json``) gives each line the probability
   of boilerplate / body / title / byline from its own features, its neighbours' and the page's; a whole
   batch of pages is scored at once (``Clean.process_batch``, ``Cleaner.label_texts``), the rules run per page;
2. the title is the most title-like line near the start of the body; byline lines are model- or
   rule-flagged short lines near it, from which author and date are parsed;
3. comments are found by rule: a comment section opens after the body at the first vote-score line
   ("• 5"); each score line or short "name date" header opens a comment, whose text runs over the
   following content lines; the section stands only if it looks like one (``_comment_section``);
4. corpus mode: given a site line table (``build_site_table``: how many documents of each site hold each
   line), a line found in at least ``min_site_docs`` documents of its site is boilerplate (CCNet's idea,
   per site). The table is computed in a first pass over the corpus (``thresher clean --build-site-table``)
   and named in the step's ``site_table`` parameter.
"""

from __future__ import annotations

import argparse
import re
import sys
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import compress
from pathlib import Path
from typing import Any

import numpy as np

from thresher.document import Document, MetaKey
from thresher.extract.lines import AUTHW, COPYW, LEXICON, LineModel, Page
from thresher.sites import site_of
from thresher.steps import LineStep

DATE_RE = re.compile(
    r"\b(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}|"
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.? ?\d{1,2}\b|"
    r"\d{1,2}\.? (?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*|"
    r"(?:19|20)\d{2}\b|\d{1,2}:\d{2}|(?:mon|tues|wednes|thurs|fri|satur|sun)day)", re.I)
LABELS = ("boilerplate", "body", "title", "byline", "comment")
# A page where fewer than min_body_lines lines pass the body threshold keeps its lines scoring at least
# FALLBACK_RATIO of its best line's. The model file carries min_body_lines (chosen with the threshold by
# the eval's nested cross-validation); MIN_BODY_LINES is the default for a model without it.
MIN_BODY_LINES = 3
FALLBACK_RATIO = 0.3
BOILER, BODY, TITLE, BYLINE, COMMENT = range(5)

# "• 5", "+12", "-1": a vote score alone on its line. A bare number is not enough (pagination,
# quantities): it needs a bullet, a sign or "points"/"votes".
SCORE_RE = re.compile(r"[ \t]*(?:[•·▲▼][ \t]*([+-]?\d{1,5})|([+-]\d{1,5})|([+-]?\d{1,5})[ \t]*(?:points?|votes?))"
                      r"[ \t]*$")
MIN_COMMENTS = 2
SENTENCE_END = set(".!?。！？")
HAS_DIGIT = re.compile(r"\d").search
HAS_YEAR = re.compile(r"(?:19|20)\d\d").search
# A copyright notice: a line starting with "(c) 2020" or "Copyright", or with a sign or "All rights
# reserved" in its first 40 characters (see _copyright_lines).
COPYRIGHT_SIGNS = ("©", "版权所有", "著作権")
COPYRIGHT_START_RE = re.compile(r"[ \t]*(?:\(c\)[ \t]*\d|copyright\b)")
AUTHOR_HEADER_RE = re.compile(r"(?:about the author|author info\w*|author bio\w*|author profile|"
                              r"über den autor|à propos de l'auteur|sobre el autor)[ \t]*:?", re.I)
COMMENTS_END_RE = re.compile(r"\b(?:log ?in|sign ?in|register)\b.{0,20}\b(?:comment|reply|post)|"
                             r"\b(?:leave|post|add) a (?:comment|reply)\b", re.I)
BYLINE_PREFIX_RE = re.compile(r"^\s*(?:by|von|par|por|di|door|av|autor(?:in)?|author|written by|"
                              r"posted by|story by|words by)\s*:?\s+", re.I)
NAME_RE = re.compile(r"^(?:[A-ZÀ-Þ][\w'’.-]*\.?|de|da|van|von|der|del|la|le|di|bin|al)"
                     r"(?:\s+(?:[A-ZÀ-Þ][\w'’.-]*\.?|de|da|van|von|der|del|la|le|di|bin|al)){0,4}$")
MONTHS = {m: i + 1 for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"])}
MONTH_NAME = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
DATE_PARSERS = [
    (re.compile(r"\b((?:19|20)\d{2})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)"), ("y", "m", "d")),
    (re.compile(MONTH_NAME + r"\s*(\d{1,2})(?:st|nd|rd|th)?\s*,?\s*((?:19|20)\d{2})\b", re.I), ("M", "d", "y")),
    (re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\.?\s*(?:of\s+)?" + MONTH_NAME + r",?\s*((?:19|20)\d{2})\b", re.I),
     ("d", "M", "y")),
    (re.compile(r"\b(\d{1,2})[./](\d{1,2})[./]((?:19|20)\d{2})\b"), ("a", "b", "y")),
]


def _copyright_lines(text: str, lines: list[str], starts: list[int], marks: np.ndarray) -> list[int]:
    """Lines holding a copyright notice: one of ``COPYRIGHT_SIGNS`` in their first 40 characters, or a
    start like ``COPYRIGHT_START_RE``. Caseless marks are found with str.find on the page (memory speed;
    a regex alternation over a 7 KB page costs ~100 us); the words ("copyright", "reserved", a leading
    "(c)") were marked by the featurizer's word look-up, so only those lines are checked."""
    found = set()
    for mark in COPYRIGHT_SIGNS:
        pos = text.find(mark)
        while pos >= 0:
            line = bisect_right(starts, pos) - 1
            if line >= 0 and pos - starts[line] <= 40:
                found.add(line)
            pos = text.find(mark, pos + 1)
    for i in np.flatnonzero(marks & COPYW).tolist():
        low = lines[i].lower()
        if COPYRIGHT_START_RE.match(low) or 0 <= low.find("all rights reserved") <= 40:
            found.add(i)
    return sorted(found)


def parse_date(text: str) -> str | None:
    """The first date in ``text`` as ``YYYY-MM-DD``; day/month order is taken only when unambiguous."""
    if not HAS_YEAR(text):  # every format read below has a four-digit year: one cheap test first
        return None
    best: tuple[int, str] | None = None
    for regex, order in DATE_PARSERS:
        m = regex.search(text)
        if not m:
            continue
        parts = dict(zip(order, m.groups()))
        if "M" in parts:
            parts["m"] = str(MONTHS[parts.pop("M")[:3].lower()])
        if "a" in parts:  # numeric d/m or m/d: only when one of them cannot be a month
            a, b = int(parts.pop("a")), int(parts.pop("b"))
            if a > 12 >= b:
                parts["d"], parts["m"] = str(a), str(b)
            elif b > 12 >= a:
                parts["d"], parts["m"] = str(b), str(a)
            else:
                continue
        y, mo, d = int(parts["y"]), int(parts["m"]), int(parts["d"])
        if 1 <= mo <= 12 and 1 <= d <= 31 and (best is None or m.start() < best[0]):
            best = (m.start(), f"{y:04d}-{mo:02d}-{d:02d}")
    return best[1] if best else None


def parse_author(line: str) -> str | None:
    """A person's name from a byline: prefix ("By") and any date or trailing clause removed."""
    s = BYLINE_PREFIX_RE.sub("", line.strip())
    m = DATE_RE.search(s)
    if m:
        s = s[: m.start()]
    s = re.split(r"\s+[|•·/–—-]\s+|,|\s+(?:on|am|le|el|il|and|und)\s+|\(", s)[0].strip(" :;|-–—")
    return s if 0 < len(s) <= 60 and NAME_RE.match(s) else None


@dataclass
class Labelled:
    """One page's lines, their labels (indices into ``LABELS``) and what was read from them."""

    page: Page
    labels: np.ndarray
    probs: np.ndarray
    title: str | None = None
    author: str | None = None
    date: str | None = None
    comments: list[dict[str, Any]] = field(default_factory=list)
    site_repeated: int = 0

    @property
    def lines(self) -> list[str]:
        return self.page.lines

    @property
    def body_mask(self) -> np.ndarray:
        return self.labels == BODY

    @property
    def body(self) -> str:
        return "\n\n".join(map(str.strip, compress(self.lines, self.body_mask.tolist())))

    def counts(self) -> dict[str, int]:
        c = np.bincount(self.labels, minlength=len(LABELS)) if len(self.labels) else np.zeros(len(LABELS), int)
        return {name: int(n) for name, n in zip(LABELS, c)}


class SiteTable:
    """How many documents of each site hold each line, keyed by a 64-bit hash of (site, line)."""

    def __init__(self, keys: np.ndarray, counts: np.ndarray) -> None:
        order = np.argsort(keys)
        self.keys = keys[order]
        self.counts = counts[order]

    @staticmethod
    def key(site: str, line: str) -> int:
        import xxhash

        return xxhash.xxh3_64_intdigest(f"{site}\n{' '.join(line.split()).lower()}".encode())

    def lookup(self, site: str, lines: list[str]) -> np.ndarray:
        if not len(self.keys) or not lines:
            return np.zeros(len(lines), dtype=np.int64)
        keys = np.fromiter((self.key(site, s) for s in lines), dtype=np.uint64, count=len(lines))
        pos = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        return np.where(self.keys[pos] == keys, self.counts[pos], 0).astype(np.int64)

    def save(self, path: str | Path) -> None:
        with open(path, "wb") as fh:
            np.savez_compressed(fh, keys=self.keys, counts=self.counts)

    @classmethod
    def load(cls, path: str | Path) -> SiteTable:
        data = np.load(path)
        return cls(data["keys"], data["counts"])


def build_site_table(docs: Iterable[tuple[str | None, str]]) -> SiteTable:
    """First pass of corpus mode: from (url, text) pairs, count the documents of each site holding each line."""
    counter: Counter[int] = Counter()
    for url, text in docs:
        site = site_of(url)
        lines = {" ".join(s.split()) for s in text.split("\n")}
        lines.discard("")
        counter.update(SiteTable.key(site, s) for s in lines)
    keys = np.fromiter(counter.keys(), dtype=np.uint64, count=len(counter))
    counts = np.fromiter(counter.values(), dtype=np.int64, count=len(counter))
    return SiteTable(keys, counts)


class Cleaner:
    """Labels the lines of a page and reads title, byline, date and comments from them."""

    def __init__(self, model: LineModel, body_threshold: float | None = None, comments: bool = True,
                 site_table: SiteTable | None = None, min_site_docs: int = 3,
                 min_body_lines: int | None = None) -> None:
        self.model = model
        self.threshold = model.body_threshold if body_threshold is None else body_threshold
        self.min_body_lines = int(model.spec.get("min_body_lines", MIN_BODY_LINES)) if min_body_lines is None \
            else min_body_lines
        self.comments = comments
        self.site_table = site_table
        self.min_site_docs = min_site_docs

    def label_texts(self, texts: list[str], sites: list[str | None] | None = None) -> list[Labelled]:
        """Label every line of every text: the model scores a whole batch at once, the rules run per page."""
        batch, probs = self.model.predict_batch(texts)
        p_body = probs[:, BODY]
        body = p_body >= self.threshold
        # body lines per page (cumulative sums at the page bounds: empty pages are fine)
        n_body = np.diff(np.concatenate(([0], np.cumsum(body)))[batch.bounds]).tolist()
        out = []
        for k, page in enumerate(batch.pages):
            a, b = int(batch.bounds[k]), int(batch.bounds[k + 1])
            if n_body[k] < self.min_body_lines and b - a >= MIN_BODY_LINES:
                # Hardly any line passed: the page is unlike most (a listing, a product page), and the
                # best lines it has are still its content more often than not. Relative threshold.
                labels = np.where(p_body[a:b] >= min(self.threshold, FALLBACK_RATIO * p_body[a:b].max()),
                                  BODY, BOILER)
            else:
                labels = np.where(body[a:b], BODY, BOILER)
            out.append(self._rules(page, labels, probs[a:b], sites[k] if sites else None))
        return out

    def _rules(self, page: Page, labels: np.ndarray, probs: np.ndarray, site: str | None) -> Labelled:
        out = Labelled(page, labels, probs)
        if not page.lines:
            return out
        if self.site_table is not None and site is not None:
            repeated = self.site_table.lookup(site, page.lines) >= self.min_site_docs
            out.site_repeated = int(repeated.sum())
            out.labels[repeated] = BOILER
        # A copyright notice is never the article, whatever the model thinks of its neighbours.
        out.labels[_copyright_lines(page.text, page.lines, page.offsets.tolist(), page.marks)] = BOILER
        self._title_and_byline(out, page.marks)
        if self.comments:
            self._comments(out)
        return out

    # -- title, byline, date
    def _title_and_byline(self, out: Labelled, marks: np.ndarray) -> None:
        labels, probs, lines = out.labels, out.probs, out.lines
        n = len(lines)
        is_body = labels == BODY
        first_body = int(is_body.argmax()) if is_body.any() else n
        # The title is the most title-like line up to a little into the body.
        zone = min(first_body + 3, n)
        title_at = -1
        if zone:
            t = int(np.argmax(probs[:zone, TITLE]))
            if probs[t, TITLE] >= 0.15 and len(lines[t].split()) <= 40:
                out.title = lines[t].strip()
                labels[t] = TITLE
                title_at = t
        # Byline/date: short lines around the start of the body, flagged by the model or a "By" prefix.
        lo = max(0, (title_at if title_at >= 0 else first_body) - 3)
        hi = min(n, first_body + 6)
        p_byline = probs[lo:hi, BYLINE].tolist()
        for i in range(lo, hi):
            s = lines[i].strip()
            if i == title_at:
                continue
            words = s.split()
            if len(words) > 12:
                continue
            # Model-flagged lines count after the title only: a short capitalised line above the title is
            # a section name ("Foreign Policy") far more often than an author; "By ..." counts anywhere.
            flagged = (p_byline[i - lo] >= 0.3 and i > title_at) or BYLINE_PREFIX_RE.match(s) is not None
            # every date format parse_date reads has digits: most lines are settled by that test alone
            date = parse_date(s) if len(words) <= 10 and HAS_DIGIT(s) else None
            author = parse_author(s) if flagged else None
            if date and out.date is None:
                out.date = date
                labels[i] = BYLINE
            if author and out.author is None:
                out.author = author
                labels[i] = BYLINE
        # An "Author information" block: the header, and the name under it (with its repeats).
        for i in np.flatnonzero(marks & AUTHW).tolist():  # lines holding "author", "autor", "auteur"
            if AUTHOR_HEADER_RE.fullmatch(lines[i].strip()):
                labels[i] = BYLINE
                j = i + 1
                while j < n and j <= i + 3 and parse_author(lines[j]):
                    out.author = out.author or parse_author(lines[j])
                    labels[j] = BYLINE
                    j += 1
                break
        # A bare name on its own line just after the title (or the first paragraph) is the byline too.
        if out.author is None:
            for i in range(title_at + 1 if title_at >= 0 else first_body, min(n, first_body + 3)):
                s = lines[i].strip()
                words = s.split()
                if 2 <= len(words) <= 4 and not LEXICON.intersection(w.lower() for w in words):
                    author = parse_author(s)
                    if author:
                        out.author = author
                        labels[i] = BYLINE
                        break
        # An author's bio closing the article ("Jane Doe is a ...") is about the author, not the article.
        if out.author:
            surname = out.author.split()[-1]
            for i in np.flatnonzero(labels == BODY)[::-1][:2]:
                head = " ".join(lines[i].split()[:5])
                if surname in head and re.search(r"\b(?:is|was|writes|ist|est|es)\b", lines[i][:200]):
                    labels[i] = BYLINE
                    break

    # -- comments
    def _comments(self, out: Labelled) -> None:
        labels, probs, lines = out.labels, out.probs, out.lines
        n = len(lines)
        is_body = labels == BODY
        if not is_body.any():
            return
        # The comment section opens at the first vote-score line after the start of the article. Only
        # lines of one or two words with a digit can be one ("• 5", "+3", "12 points"): the regex runs on
        # those alone (most pages have none after their first paragraph).
        after = int(is_body.argmax()) + 1
        words, digits = out.page.words[after:], out.page.digits[after:]
        candidates = np.flatnonzero((words <= 2) & (digits > 0)) + after
        start = next((int(i) for i in candidates if SCORE_RE.match(lines[i])), None)
        if start is None:
            return
        before = labels.copy()
        comments: list[dict[str, Any]] = []
        current: dict[str, Any] | None = None
        text_indent: int | None = None
        for i in range(start, n):
            s = lines[i].strip()
            score = SCORE_RE.match(lines[i])
            if COMMENTS_END_RE.search(s) and len(s.split()) <= 8:
                break
            if score:
                value = next(g for g in score.groups() if g is not None)
                current = {"author": None, "date": None, "score": int(value), "text": [], "line": i}
                comments.append(current)
                labels[i] = COMMENT
                continue
            header = len(s.split()) <= 8 and DATE_RE.search(s) and probs[i, BODY] < 0.5
            if header and current is None or (header and current is not None and current["text"]):
                m = DATE_RE.search(s)
                author = parse_author(s[: m.start()]) if m else None
                current = {"author": author, "date": parse_date(s), "score": None, "text": [], "line": i}
                comments.append(current)
                labels[i] = COMMENT
                continue
            if current is None:
                continue
            indent = len(lines[i]) - len(lines[i].lstrip())
            # Comment text: lines indented like the comment's first line, else content-like lines.
            if text_indent is None and (indent > 0 or probs[i, BODY] >= 0.3):
                text_indent = indent
            if (text_indent and indent >= text_indent) or (not text_indent and probs[i, BODY] >= 0.3):
                current["text"].append(s)
                labels[i] = COMMENT
            elif current["text"]:
                break
        found = [c for c in comments if c["text"]]
        if not _comment_section(found):
            labels[:] = before  # pagination, a numbered list, a product grid: not comments after all
            return
        out.comments = [{k: c[k] for k in ("author", "date", "score")} | {"text": "\n".join(c["text"])}
                        for c in found]
        # A score or header line with no text after it opened no comment after all.
        for c in comments:
            if not c["text"]:
                labels[c["line"]] = BOILER


def _comment_section(comments: list[dict[str, Any]]) -> bool:
    """Whether what was read as comments is a comment section: at least two comments; scores that are
    not consecutive numbers (pagination "• 1 • 2 • 3", a numbered list); prose in at least half of them
    (a sentence of four words or more, not repeated), which pagination ("• 2 • … • 10 • Next »") and a
    product grid ("+3" colours, "VIP, All Your Benefits Apply!" under every item) do not have."""
    if len(comments) < MIN_COMMENTS:
        return False
    scores = [c["score"] for c in comments if c["score"] is not None]
    if len(scores) >= 2 and all(b - a == 1 for a, b in zip(scores, scores[1:])):
        return False
    seen = Counter(t for c in comments for t in c["text"])  # a sentence repeated is a template's
    prose = sum(any(seen[t] == 1 and _is_sentence(t) for t in c["text"]) for c in comments)
    return 2 * prose >= len(comments)


def _is_sentence(line: str) -> bool:
    """Four words or more (or a CJK line), ending like a sentence (a closing quote may follow)."""
    end = line.rstrip('"”’\')»')[-1:]
    return end in SENTENCE_END and (len(line.split()) >= 4 or end in "。！？")


class Clean(LineStep):
    """Keep the body of page text; title, author, date and comments to ``meta``; label counts to signals.

    Parameters: ``model`` (path of a model JSON; the shipped one if omitted), ``body_threshold`` (the
    model's tuned one if omitted), ``comments`` (detect comments), ``keep_labels`` (per-line labels in
    ``meta.clean_lines``), ``site_table`` and ``min_site_docs`` (corpus mode), ``drop_empty`` (reject a
    document whose body is empty), ``skip_extracted`` (leave documents the ``extract`` step produced
    alone: their text is main content already, not page text with boilerplate).

    A line step whose rule per line is its label: ``body`` lines are kept, the others removed; the trace
    (``keep_labels``) is every line with its label.
    """

    name = "clean"
    META = {MetaKey.TITLE: str, MetaKey.AUTHOR: str, MetaKey.DATE: str,
            MetaKey.COMMENTS: [{"author": str, "date": str, "score": int, "text": str}]}
    KEEP = LABELS[BODY]
    TRACE_KEY = MetaKey.CLEAN_LINES
    TRACE_ALL = True

    @property
    def tracing(self) -> bool:
        return self.keep_labels

    def trace_fields(self) -> dict:
        return {MetaKey.CLEAN_LINES: [[str]]}

    def trace_entry(self, line: str, rule: str | None) -> list:
        return [rule, line]

    def signal_fields(self) -> dict:
        counts = {f"clean_{label}_lines": int for label in LABELS}
        return {**counts, "clean_site_repeated_lines": int} if self.site_table_path else counts

    def __init__(self, model: str | None = None, body_threshold: float | None = None, comments: bool = True,
                 keep_labels: bool = False, site_table: str | None = None, min_site_docs: int = 3,
                 drop_empty: bool = True, skip_extracted: bool = True) -> None:
        self.skip_extracted = skip_extracted
        self.model_path = model
        self.body_threshold = body_threshold
        self.comments = comments
        self.keep_labels = keep_labels
        self.site_table_path = site_table
        self.min_site_docs = min_site_docs
        self.drop_empty = drop_empty
        self.cleaner: Cleaner | None = None

    def setup(self) -> None:
        table = SiteTable.load(self.site_table_path) if self.site_table_path else None
        self.cleaner = Cleaner(LineModel.load(self.model_path), self.body_threshold, self.comments, table,
                               self.min_site_docs)

    def map(self, doc: Document) -> Document:
        return self.process_batch([doc])[0]

    def process_batch(self, docs: list[Document]) -> list[Document]:
        if self.cleaner is None:
            self.setup()
        assert self.cleaner is not None
        # main content from the extract step is already clean, and not page text: left alone
        todo = [doc for doc in docs if not (self.skip_extracted and MetaKey.EXTRACTOR in doc.meta)]
        sites = [site_of(doc.url) if doc.url else None for doc in todo] if self.cleaner.site_table else None
        # Every page is labelled before any document changes: if this raises, the batch is untouched.
        results = self.cleaner.label_texts([doc.text for doc in todo], sites)
        for doc, out in zip(todo, results):
            self._apply(doc, out)
        return docs

    def _apply(self, doc: Document, out: Labelled) -> None:
        doc.text = out.body
        for key in (MetaKey.TITLE, MetaKey.AUTHOR, MetaKey.DATE):
            if getattr(out, key):
                doc.meta[key] = getattr(out, key)
        if out.comments:
            doc.meta[MetaKey.COMMENTS] = out.comments
        for name, n in out.counts().items():
            doc.signals[f"clean_{name}_lines"] = n
        if self.site_table_path:
            doc.signals["clean_site_repeated_lines"] = out.site_repeated
        self.write_trace(doc, out.lines, [LABELS[label] for label in out.labels.tolist()])
        if self.drop_empty and not doc.text:
            doc.reason = self.reject("empty_body", value=0, threshold=1)


# --------------------------------------------------------------------------- command line
def _read_docs(paths: list[str]) -> Iterable[tuple[str | None, str]]:
    """(url, text) of every document in the inputs, through thresher's own readers (any input format)."""
    from thresher.io import plan_shards, read_shard

    for shard in plan_shards(paths):
        for doc in read_shard(shard, {}, lambda err: print(f"thresher clean: {err}", file=sys.stderr)):
            if doc.reason is None:
                yield doc.url, doc.text


def cli(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="thresher clean", description="Clean one page of extracted text: "
                                 "show its body, or every line with its label (--json).")
    ap.add_argument("file", nargs="*", help="a text file ('-' for stdin); with --build-site-table, JSONL files")
    ap.add_argument("--json", action="store_true", help="JSON with title, author, date, comments, labels")
    ap.add_argument("--labels", action="store_true", help="print every line prefixed with its label")
    ap.add_argument("--url", default=None, help="the page's URL (corpus mode looks up its site)")
    ap.add_argument("--model", default=None)
    ap.add_argument("--site-table", default=None)
    ap.add_argument("--build-site-table", metavar="OUT", default=None,
                    help="corpus mode, first pass: count lines per site over the JSONL files, write OUT.npz")
    args = ap.parse_args(argv)
    if args.build_site_table:
        table = build_site_table(_read_docs(args.file))
        table.save(args.build_site_table)
        print(f"wrote {args.build_site_table}: {len(table.keys)} (site, line) keys", file=sys.stderr)
        return 0
    if len(args.file) != 1:
        ap.error("give one file")
    text = sys.stdin.read() if args.file[0] == "-" else Path(args.file[0]).read_text(encoding="utf-8")
    step = Clean(model=args.model, site_table=args.site_table, keep_labels=True, drop_empty=False)
    step.setup()
    doc = step.map(Document(id=args.file[0], text=text, url=args.url))
    if args.json:
        import orjson

        print(orjson.dumps({"text": doc.text, "meta": doc.meta, "signals": doc.signals},
                           option=orjson.OPT_INDENT_2).decode())
    elif args.labels:
        for label, line in doc.meta[MetaKey.CLEAN_LINES]:
            print(f"{label:<12} {line}")
    else:
        for key in (MetaKey.TITLE, MetaKey.AUTHOR, MetaKey.DATE):
            if key in doc.meta:
                print(f"{key}: {doc.meta[key]}")
        print()
        print(doc.text)
        for c in doc.meta.get(MetaKey.COMMENTS, []):
            print(f"\n--- comment (author={c['author']}, date={c['date']}, score={c['score']})\n{c['text']}")
    return 0
