"""C4's cleaning rules (Raffel et al. 2020, "Exploring the Limits of Transfer Learning", section 2.2).

``c4_lines`` is datatrove's ``C4QualityFilter`` as a map step: it removes lines (too long a word, no
terminal punctuation, fewer than 3 words, "javascript", cookie/terms-of-use notices, Wikipedia citation
marks), counts each rule's removals in ``signals["c4_lines_removed"]``, and drops the page for "lorem
ipsum", a curly bracket, or fewer than 5 sentences left. ``c4_badwords`` drops pages containing a word of a
user-given list (C4 used the LDNOOBW English list; nothing is downloaded, give the file).

Sentences are counted the way spaCy's sentencizer splits a line (what datatrove uses), with a regex and a
small abbreviation table instead of a tokenizer run; differences are measured in ``bench/README.md``.
"""

from __future__ import annotations

import re
from pathlib import Path

from thresher.document import Document, Reason
from thresher.filters.text import text_stats
from thresher.steps import FilterStep, MapStep

_CITATION = re.compile(r"\[(?:\d*|edit|citation needed)\]")
_END_PUNCT = (".", "?", "!", '"', "'")
_POLICY = ("terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies")

# --- sentence counting --------------------------------------------------------------------------------
# A run of sentence punctuation that spaCy would make into its own token(s): !/? at the end of a chunk
# (possibly followed by closing quotes/brackets), a single period likewise, or a period between a lower-case
# and an upper-case letter ("end.Next", but not "www.Example.com"). Runs of 2+ dots are an ellipsis token,
# not a sentence end.
_CLOSERS = "\"'”’)»\\]}"
_SENT_PUNCT = re.compile(r"(?<![.!?])[.!?]+(?=[" + _CLOSERS + r"]*(?:\s|$))|(?<=[a-z])(?<!www)\.(?=[A-Z])")
_WORD_CHAR = re.compile(r"\w")
# Tokens spaCy's English tokenizer keeps whole with their final period (tokenizer exceptions), so the
# period does not end a sentence. Single letters ("A.", "b.") are handled by rule below.
_ABBREVIATIONS = frozenset("""
Mt. Ak. Ala. Apr. Ariz. Ark. Aug. Calif. Colo. Conn. Dec. Del. Feb. Fla. Ga. Ia. Id. Ill. Ind. Jan. Jul. Jun.
Kan. Kans. Ky. La. Mar. Mass. Mich. Minn. Miss. N.C. N.D. N.H. N.J. N.M. N.Y. Neb. Nebr. Nev. Nov. Oct. Okla.
Ore. Pa. S.C. Sep. Sept. Tenn. Va. Wash. Wis. a.m. Adm. Bros. co. Co. Corp. D.C. Dr. e.g. E.g. E.G. Gen. Gov.
i.e. I.e. I.E. Inc. Jr. Ltd. Md. Messrs. Mo. Mont. Mr. Mrs. Ms. p.m. Ph.D. Prof. Rep. Rev. Sen. St. vs. v.s.
""".split())
_LEADING_PUNCT = "\"'“‘([{«"
_PAGE_RULES = frozenset(("lorem_ipsum", "curly_bracket"))


def _period_is_token(line: str, start: int) -> bool:
    """Whether the single period at ``start`` is split off its word (spaCy's suffix rules + exceptions)."""
    if start == 0:
        return True
    prev = line[start - 1]
    if prev.isspace():
        return True
    # the whitespace-delimited chunk ending here, looked for only a few characters back (abbreviations are
    # short), so a long line of chunks without spaces stays linear
    lo = max(0, start - 12)
    space = max(line.rfind(" ", lo, start), line.rfind("\t", lo, start))
    chunk = line[space + 1:start + 1].lstrip(_LEADING_PUNCT) if space >= 0 or lo == 0 else ""
    if chunk in _ABBREVIATIONS or (len(chunk) == 2 and chunk[0].isalpha()):
        return False
    if prev.islower() or prev.isdigit() or not prev.isalnum():
        return True
    # an upper-case letter: split only after two of them ("USA." yes, "U.S." and "A." no)
    return prev.isupper() and start >= 2 and line[start - 2].isupper()


def count_sentences(text: str) -> int:
    """Sentences in ``text``, one or more non-empty lines: per line, 1 + the sentence ends followed by more
    words on that line. One regex pass over the whole text; Python only looks at sentence ends."""
    n = text.count("\n") + 1 if text else 0
    ends = [m for m in _SENT_PUNCT.finditer(text)
            if "!" in (run := m.group()) or "?" in run or (run == "." and _period_is_token(text, m.start()))]
    line_end = -1
    for i, m in enumerate(ends):
        a = m.end()
        if a > line_end:  # look for the end of this line once per line, not once per sentence end
            line_end = text.find("\n", a)
            line_end = len(text) if line_end < 0 else line_end
        stop = line_end
        if i + 1 < len(ends):
            stop = min(stop, ends[i + 1].start())
        # a boundary needs a word before the next end or the end of the line (punctuation-only gaps merge)
        if _WORD_CHAR.search(text, a, stop):
            n += 1
    return n


class C4Lines(MapStep):
    """C4's line removal and page rules (datatrove ``C4QualityFilter``; FineWeb runs it without the
    terminal-punctuation rule: ``filter_no_terminal_punct: false``)."""

    name = "c4_lines"
    # lines removed per rule (the page rules never count here: they drop the page)
    SIGNALS = {"c4_lines_removed": {rule: int for rule in ("too_long_word", "no_terminal_punct", "too_few_words",
                                                          "javascript", "policy")},
               "c4_lines_kept": int, "c4_sentences": int}
    RULE_SIGNALS = {"too_few_sentences": "c4_sentences"}

    def meta_fields(self) -> dict:
        return {"removed_lines": [{"line": str, "rule": str, "step": str}]} if self.keep_removed else {}

    def __init__(self, remove_citations: bool = True, filter_no_terminal_punct: bool = True,
                 min_num_sentences: int | None = 5, min_words_per_line: int | None = 3,
                 max_word_length: int | None = 1000, filter_lorem_ipsum: bool = True,
                 filter_javascript: bool = True, filter_curly_bracket: bool = True,
                 filter_policy: bool = True, keep_removed: bool = False) -> None:
        self.remove_citations = remove_citations
        self.filter_no_terminal_punct = filter_no_terminal_punct
        self.min_num_sentences = min_num_sentences if min_num_sentences and min_num_sentences > 0 else None
        self.min_words_per_line = min_words_per_line if min_words_per_line and min_words_per_line > 0 else 0
        self.max_word_length = max_word_length if max_word_length and max_word_length > 0 else None
        self.filter_lorem_ipsum, self.filter_javascript = filter_lorem_ipsum, filter_javascript
        self.filter_curly_bracket, self.filter_policy = filter_curly_bracket, filter_policy
        self.keep_removed = keep_removed

    def _line_rule(self, line: str) -> tuple[str | None, str]:
        """(rule, line as kept) for one stripped line; rule is None (kept), a line rule, or a page rule.

        The order is C4's: a page rule only sees lines that passed the rules before it.
        """
        words = line.split()
        if self.max_word_length and len(line) > self.max_word_length and max(map(len, words)) > self.max_word_length:
            return "too_long_word", line
        if self.remove_citations and "[" in line:
            line = _CITATION.sub("", line)
        if self.filter_no_terminal_punct and (not line.endswith(_END_PUNCT) or line.endswith("...")):
            return "no_terminal_punct", line
        if len(words) < self.min_words_per_line:
            return "too_few_words", line
        lower = line.lower()
        if self.filter_lorem_ipsum and "lorem ipsum" in lower:
            return "lorem_ipsum", line
        if self.filter_javascript and "javascript" in lower:
            return "javascript", line
        if self.filter_curly_bracket and "{" in line:
            return "curly_bracket", line
        if self.filter_policy and any(p in lower for p in _POLICY):
            return "policy", line
        return None, line

    def map(self, doc: Document) -> Document:
        removed: dict[str, int] = {}
        removed_lines: list[dict[str, str]] = []
        kept: list[str] = []
        # when the page was already tokenised (an earlier filter), the edited page's word count is derived
        # from the edits, so the next filter need not tokenise it again
        stats = text_stats(doc)
        words = stats.known_word_count()
        gone: list[str] = []  # removed lines
        edited: list[tuple[str, str]] = []  # (line, line without its citation marks)
        page_rule: str | None = None
        for raw in doc.text.splitlines():
            rule, line = self._line_rule(raw.strip())
            if rule is None:
                kept.append(line)
                if words is not None and len(line) != len(raw.strip()):  # a citation mark went
                    edited.append((raw, line))
            elif rule in _PAGE_RULES:
                page_rule = page_rule or rule  # the first one decides; keep counting for the signals
            else:
                removed[rule] = removed.get(rule, 0) + 1
                gone.append(raw)
                if self.keep_removed:
                    removed_lines.append({"line": raw, "rule": rule, "step": self.name})
        sentences = count_sentences("\n".join(kept)) if self.min_num_sentences else 0
        doc.signals["c4_lines_removed"] = removed
        doc.signals["c4_lines_kept"] = len(kept)
        doc.signals["c4_sentences"] = sentences
        if page_rule is not None:
            doc.reason = self.reject(page_rule, True, False)
        elif self.min_num_sentences and sentences < self.min_num_sentences:
            doc.reason = self.reject("too_few_sentences", sentences, self.min_num_sentences)
        else:
            if words is not None:
                # tokens never span a line break, so the removed lines are counted in one pass, split the
                # way the whole page was
                words -= len(stats.split("\n".join(gone)))
                words -= sum(len(stats.split(a)) - len(stats.split(b)) for a, b in edited)
            doc.text = "\n".join(kept).strip()
            if words is not None:
                text_stats(doc).seed(word_count=words)
            if removed_lines:
                doc.meta.setdefault("removed_lines", []).extend(removed_lines)
        return doc


class C4Badwords(FilterStep):
    """Drop pages containing any word or phrase of a bad-word list (one entry per line, UTF-8).

    A word matches as a whole word of the lower-cased text (flanked by non-word characters), as in C4;
    ``word_boundaries: false`` matches anywhere (for languages written without spaces: ja, th, zh).
    """

    name = "c4_badwords"

    SIGNALS = {"c4_badwords": int}
    RULE_SIGNALS = {"badwords": "c4_badwords"}

    def __init__(self, words_file: str, word_boundaries: bool = True, max_badwords: int = 0) -> None:
        self.words_file = words_file
        self.word_boundaries = word_boundaries
        self.max_badwords = max_badwords
        self._words: frozenset[str] = frozenset()
        self._phrases: re.Pattern[str] | None = None

    def setup(self) -> None:
        entries = {w.strip().lower() for w in Path(self.words_file).read_text(encoding="utf-8").splitlines()}
        entries.discard("")
        if self.word_boundaries:
            # plain words: set lookup on the page's \w+ runs; anything else: one regex of the phrases
            self._words = frozenset(e for e in entries if re.fullmatch(r"\w+", e))
            phrases = sorted(entries - self._words, key=len, reverse=True)
            if phrases:
                alt = "|".join(map(re.escape, phrases))
                self._phrases = re.compile(rf"(?<!\w)(?:{alt})(?!\w)")
        else:
            self._phrases = re.compile("|".join(map(re.escape, sorted(entries, key=len, reverse=True))))

    def filter(self, doc: Document) -> Reason | None:
        if self._phrases is None and not self._words:
            self.setup()
        lower = doc.text.lower()
        found = set(self._words.intersection(re.findall(r"\w+", lower))) if self._words else set()
        if self._phrases is not None:
            found.update(self._phrases.findall(lower))
        doc.signals["c4_badwords"] = len(found)
        return self.decide(doc)

    def decide(self, doc: Document) -> Reason | None:
        if doc.signals["c4_badwords"] > self.max_badwords:
            return self.reject("badwords", doc.signals["c4_badwords"], self.max_badwords)
        return None
