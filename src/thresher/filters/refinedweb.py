"""RefinedWeb's document rules and line corrections (Penedo et al. 2023, "The RefinedWeb Dataset for Falcon
LLM", appendix G.2-G.3), with the parameters of DCLM's reproduction (Li et al. 2024;
``mlfoundations/dclm`` ``baselines/baselines_configs/refinedweb.yaml``, rules in
``baselines/mappers/filters/content_filters.py`` and ``baselines/mappers/modifiers.py``).

- ``refinedweb_quality``: the document rules (Gopher-style, on whitespace-split words as DCLM counts them).
- ``refinedweb_lines``: removes lines that are mostly upper case, all digits, a social counter ("12 likes"),
  a single word, or (short lines) the boilerplate "items in cart" / "Read more..." / "Sign-in"; then
  drops the page when the corrections removed more than 5% of its words, as RefinedWeb does.
"""

from __future__ import annotations

import re
from operator import methodcaller

import numpy as np

from thresher.document import Document, Reason
from thresher.filters.text import (
    TextStats,
    count_non_symbol_words,
    first_broken,
    lines_holding,
    ratio,
    text_stats,
)
from thresher.steps import FilterStep, LineStep

_COUNTER = re.compile(
    r"\W*\d[\d.,]*[kmb]?\s+(?:likes|shares|comments|retweets|reposts|quotes|bookmarks|upvotes|downvotes"
    r"|downloads|views|followers)\W*", re.IGNORECASE)
_BULLETS = ("●", "•", "*", "-")
_ELLIPSES = ("...", ". . .", "…")
_STARTS_BULLET, _ENDS_ELLIPSIS = methodcaller("startswith", _BULLETS), methodcaller("endswith", _ELLIPSES)


class RefinedWebQuality(FilterStep):
    """RefinedWeb/DCLM document rules: length, mean word length, symbols, bullets, ellipses, alphabetic words,
    stop words."""

    name = "refinedweb_quality"
    SIGNALS = {"refinedweb_words": int, "refinedweb_mean_word_length": float, "refinedweb_symbol_ratio": float,
               "refinedweb_bullet_lines_ratio": float, "refinedweb_ellipsis_lines_ratio": float,
               "refinedweb_non_alpha_words_ratio": float, "refinedweb_stop_words": int}
    RULE_SIGNALS = {"short_doc": "refinedweb_words", "long_doc": "refinedweb_words",
                    "mean_word_length_low": "refinedweb_mean_word_length",
                    "mean_word_length_high": "refinedweb_mean_word_length",
                    "symbol_ratio": "refinedweb_symbol_ratio", "bullet_lines": "refinedweb_bullet_lines_ratio",
                    "ellipsis_lines": "refinedweb_ellipsis_lines_ratio",
                    "non_alpha_words": "refinedweb_non_alpha_words_ratio", "stop_words": "refinedweb_stop_words"}

    def __init__(self, min_words: int | None = 50, max_words: int | None = 100_000,
                 min_avg_word_length: float | None = 3, max_avg_word_length: float | None = 10,
                 max_symbol_word_ratio: float | None = 0.1, max_bullet_lines_ratio: float | None = 0.9,
                 max_ellipsis_lines_ratio: float | None = 0.3, max_non_alpha_words_ratio: float | None = 0.2,
                 min_stop_words: int | None = 2) -> None:
        self.min_words, self.max_words = min_words, max_words
        self.min_avg_word_length, self.max_avg_word_length = min_avg_word_length, max_avg_word_length
        self.max_symbol_word_ratio = max_symbol_word_ratio
        self.max_bullet_lines_ratio, self.max_ellipsis_lines_ratio = max_bullet_lines_ratio, max_ellipsis_lines_ratio
        self.max_non_alpha_words_ratio, self.min_stop_words = max_non_alpha_words_ratio, min_stop_words

    def signals(self, doc: Document) -> dict[str, float]:
        st = text_stats(doc)
        text, ws = st.text, st.ws_words
        lines = st.nonempty_nl_lines
        symbols = text.count("#") + text.count("...") + text.count(". . .") + text.count("…")
        sig = {
            "refinedweb_words": st.non_symbol_count,  # counted from ws when not tokenised yet
            "refinedweb_mean_word_length": ratio(len("".join(ws)), len(ws)),
            "refinedweb_symbol_ratio": ratio(symbols, len(ws)),
            "refinedweb_bullet_lines_ratio": ratio(sum(map(_STARTS_BULLET, lines)), len(lines)),
            "refinedweb_ellipsis_lines_ratio": ratio(sum(map(_ENDS_ELLIPSIS, lines)), len(lines)),
            "refinedweb_non_alpha_words_ratio": ratio(st.ws_non_alpha_words, len(ws)),
            "refinedweb_stop_words": st.ws_stop_words,
        }
        doc.signals.update(sig)
        return sig

    def filter(self, doc: Document) -> Reason | None:
        self.signals(doc)
        return self.decide(doc)

    def decide(self, doc: Document) -> Reason | None:
        s = doc.signals
        n, mean = s["refinedweb_words"], s["refinedweb_mean_word_length"]
        sym, bul = s["refinedweb_symbol_ratio"], s["refinedweb_bullet_lines_ratio"]
        ell, non_alpha = s["refinedweb_ellipsis_lines_ratio"], s["refinedweb_non_alpha_words_ratio"]
        return first_broken(self, [
            ("short_doc", n, self.min_words, n < (self.min_words or 0)),
            ("long_doc", n, self.max_words, n > (self.max_words or 0)),
            ("mean_word_length_low", mean, self.min_avg_word_length, mean < (self.min_avg_word_length or 0)),
            ("mean_word_length_high", mean, self.max_avg_word_length, mean > (self.max_avg_word_length or 0)),
            ("symbol_ratio", sym, self.max_symbol_word_ratio, sym > (self.max_symbol_word_ratio or 0)),
            ("bullet_lines", bul, self.max_bullet_lines_ratio, bul > (self.max_bullet_lines_ratio or 0)),
            ("ellipsis_lines", ell, self.max_ellipsis_lines_ratio, ell > (self.max_ellipsis_lines_ratio or 0)),
            ("non_alpha_words", non_alpha, self.max_non_alpha_words_ratio,
             non_alpha > (self.max_non_alpha_words_ratio or 0)),
            ("stop_words", s["refinedweb_stop_words"], self.min_stop_words,
             s["refinedweb_stop_words"] < (self.min_stop_words or 0)),
        ])


class RefinedWebLines(LineStep):
    """RefinedWeb's line-wise corrections; drops the page when they remove too many of its words.

    The per-line figures (characters, upper-case letters, digits, whitespace words) come from one numpy pass
    over the page's characters (:func:`_line_figures`); regexes only see the lines that can match them.
    """

    name = "refinedweb_lines"
    SIGNALS = {"refinedweb_lines_removed": int, "refinedweb_words_removed_ratio": float}
    RULE_SIGNALS = {"words_removed": "refinedweb_words_removed_ratio"}

    def __init__(self, max_uppercase_ratio: float | None = 0.5, max_numeric_ratio: float | None = 0.999999,
                 remove_counters: bool = True, min_words_per_line: int | None = 2,
                 boilerplate_max_words: int = 10, boilerplate: bool = True,
                 max_removed_words_ratio: float | None = 0.05, keep_removed: bool = False) -> None:
        self.max_uppercase_ratio, self.max_numeric_ratio = max_uppercase_ratio, max_numeric_ratio
        self.remove_counters, self.min_words_per_line = remove_counters, min_words_per_line
        self.boilerplate, self.boilerplate_max_words = boilerplate, boilerplate_max_words
        self.max_removed_words_ratio, self.keep_removed = max_removed_words_ratio, keep_removed

    def line_rules(self, text: str, raws: list[str]) -> tuple[list[str | None], list[str]]:
        """(rule removing each line or None, the lines as kept: boilerplate phrases cut out), for the page's
        ``\\n``-separated lines ``raws``. An empty line is kept."""
        n, upper, digits, words = _line_figures(text)
        removed = n == 0  # decided (empty lines: kept)
        rule = np.zeros(len(raws), dtype=np.int8)  # index into _RULES
        if self.max_uppercase_ratio is not None:
            hit = ~removed & (upper > self.max_uppercase_ratio * n)
            rule[hit], removed = 1, removed | hit
        if self.max_numeric_ratio is not None:
            hit = ~removed & (digits > self.max_numeric_ratio * n)
            rule[hit], removed = 2, removed | hit
        if self.remove_counters:
            # a counter has a digit (a decimal digit is a digit)
            for i in np.flatnonzero(~removed & (digits > 0)).tolist():
                if _COUNTER.fullmatch(raws[i]):
                    rule[i], removed[i] = 3, True
        if self.min_words_per_line:
            hit = ~removed & (words < self.min_words_per_line)
            rule[hit], removed = 4, removed | hit
        lines = raws
        maybe = _boilerplate_lines(text) if self.boilerplate else set()
        if maybe:
            lines = list(raws)
            for i in np.flatnonzero(~removed & (words <= self.boilerplate_max_words)).tolist():
                if i not in maybe:
                    continue
                line = lines[i]
                cut = _cut_boilerplate(line)
                if cut != line and not cut.strip():
                    rule[i] = 5
                else:
                    lines[i] = cut
        return [_RULES[r] for r in rule.tolist()], lines

    def map(self, doc: Document) -> Document:
        st = text_stats(doc)
        words_before = st.non_symbol_count
        raws = st.nl_lines
        rules, lines = self.line_rules(doc.text, raws)
        kept = self.kept(lines, rules)
        kept_text = "\n".join(kept)
        gone = [raw for raw, r in zip(raws, rules) if r is not None]
        # words removed, counted with the same tokeniser as words_before (each line with its own URL rule)
        if st.splitter is None and "://" not in st.text and len(kept_text) < sum(map(len, gone)):
            # fewer words kept than removed: every line has the page's URL rule, and tokens never span a line
            # break, so the page's words less the kept text's are the words removed
            lost = words_before - count_non_symbol_words(kept_text)
        else:
            lost = _count_words(gone, st)
            if lines is not raws:  # boilerplate phrases cut out of kept lines
                cut = [(raw, line) for raw, line, r in zip(raws, lines, rules) if r is None and line != raw]
                lost += _count_words([raw for raw, _ in cut], st) - _count_words([line for _, line in cut], st)
        removed_ratio = ratio(lost, words_before)
        doc.signals["refinedweb_lines_removed"] = self.removed_counts(rules)
        doc.signals["refinedweb_words_removed_ratio"] = removed_ratio
        new_text = kept_text.strip()
        if self.max_removed_words_ratio is not None and removed_ratio > self.max_removed_words_ratio:
            doc.reason = self.reject("words_removed", removed_ratio, self.max_removed_words_ratio)
        elif not new_text:
            doc.reason = self.reject("empty", 0, 1)
        else:
            doc.text = new_text
            self.write_trace(doc, raws, rules)
        return doc


_RULES = (None, "uppercase", "numeric", "counter", "one_word", "boilerplate")


def _count_words(lines: list[str], page: TextStats) -> int:
    """Non-symbol words of the lines, each split as its page's words are with its own URL rule. Tokens never
    span a line break, so the lines with and those without "://" are each counted in one pass (a page's own
    splitter is trusted with single lines only)."""
    if not lines:
        return 0
    if page.splitter is not None:
        return sum(count_non_symbol_words(line, page.splitter) for line in lines)
    urls = [line for line in lines if "://" in line]
    plain = "\n".join([line for line in lines if "://" not in line]) if urls else "\n".join(lines)
    return count_non_symbol_words(plain) + (count_non_symbol_words("\n".join(urls)) if urls else 0)


# character classes of _line_figures, per ASCII character: 1 upper case, 2 digit, 4 whitespace
_ASCII_CLASS = np.array([c.isupper() | c.isdigit() << 1 | c.isspace() << 2 for c in map(chr, range(128))],
                        dtype=np.uint8)


def _classes_of(codes: list[int]) -> np.ndarray:
    return np.array([c.isupper() | c.isdigit() << 1 | c.isspace() << 2 for c in map(chr, codes)], dtype=np.uint8)


_BMP_CLASS: list[np.ndarray] = []  # the class bits of every code point below 65536, made on first use


def _char_classes(codes: np.ndarray) -> np.ndarray:
    """The class bits of every character (``str.isupper``/``isdigit``/``isspace`` of each), from its code."""
    if codes.dtype == np.uint8:
        return _ASCII_CLASS[codes]
    if not _BMP_CLASS:
        _BMP_CLASS.append(_classes_of(list(range(65536))))
    astral = codes >= 65536
    classes = _BMP_CLASS[0][np.where(astral, 0, codes)]
    if astral.any():
        uniq, inverse = np.unique(codes[astral], return_inverse=True)
        classes[astral] = _classes_of(uniq.tolist())[inverse]
    return classes


def _line_figures(text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per ``\\n``-separated line of ``text``: characters, upper-case characters, digits (``str.isdigit``)
    and whitespace words (``len(line.split())``), as arrays."""
    # one array element per character (code point; lone surrogates pass as theirs)
    codes = (np.frombuffer(text.encode("ascii"), dtype=np.uint8) if text.isascii()
             else np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32))
    classes = _char_classes(codes)
    newline = np.flatnonzero(codes == 10)
    starts = np.concatenate(([0], newline + 1))
    ends = np.concatenate((newline, [len(codes)]))
    space = (classes & 4).astype(bool)
    word_start = ~space
    word_start[1:] &= space[:-1]

    def per_line(mask: np.ndarray) -> np.ndarray:
        cum = np.concatenate(([0], np.cumsum(mask, dtype=np.int64)))
        return cum[ends] - cum[starts]

    return ends - starts, per_line(classes & 1), per_line((classes & 2) >> 1), per_line(word_start)


# DCLM's substring_line_modifier phrases, matched literally (DCLM compiles them unescaped, so the dots of
# "Read more..." match any character there)
_PREFIX = re.compile(r"^sign-in\s?", re.IGNORECASE)
_SUFFIX = re.compile(r"\s?read more\.\.\.$", re.IGNORECASE)
_ANYWHERE = re.compile(r"\s?items in cart", re.IGNORECASE)
_PHRASES = ("sign-in", "read more", "items in cart")
# The characters besides ASCII letters that re.IGNORECASE matches to an ASCII letter, and str.lower does not
# lower-case to it: İ (to "i̇", two characters), ı, ſ (the Kelvin sign lower-cases to "k").
_ODD_CASE = ("\u0130", "\u0131", "\u017f")


def _boilerplate_lines(text: str) -> set[int] | range:
    """Indexes of the ``\\n``-separated lines of ``text`` that may hold a boilerplate phrase: those whose
    lower-cased text holds one (every line if the page has a character of _ODD_CASE)."""
    if any(c in text for c in _ODD_CASE):
        return range(text.count("\n") + 1)
    lower = text.lower()
    phrases = [p for p in _PHRASES if p in lower]
    if not phrases:
        return set()
    # no character lower-cases to a newline or from one, so the lower-cased page has the same lines
    return lines_holding(lower, phrases)


def _cut_boilerplate(line: str) -> str:
    return _ANYWHERE.sub("", _SUFFIX.sub("", _PREFIX.sub("", line)))
