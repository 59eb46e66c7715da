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

from thresher.document import Document, Reason
from thresher.filters.text import TextStats, first_broken, ratio, text_stats
from thresher.steps import FilterStep, MapStep

_COUNTER = re.compile(
    r"\W*\d[\d.,]*[kmb]?\s+(?:likes|shares|comments|retweets|reposts|quotes|bookmarks|upvotes|downvotes"
    r"|downloads|views|followers)\W*", re.IGNORECASE)
_BULLETS = ("●", "•", "*", "-")
_ELLIPSES = ("...", ". . .", "…")


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
        lines = [line for line in st.nl_lines if line.strip()]
        symbols = text.count("#") + text.count("...") + text.count(". . .") + text.count("…")
        sig = {
            "refinedweb_words": len(st.non_symbol_words),
            "refinedweb_mean_word_length": ratio(sum(map(len, ws)), len(ws)),
            "refinedweb_symbol_ratio": ratio(symbols, len(ws)),
            "refinedweb_bullet_lines_ratio": ratio(sum(1 for s in lines if s.startswith(_BULLETS)), len(lines)),
            "refinedweb_ellipsis_lines_ratio": ratio(sum(1 for s in lines if s.endswith(_ELLIPSES)), len(lines)),
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


class RefinedWebLines(MapStep):
    """RefinedWeb's line-wise corrections; drops the page when they remove too many of its words."""

    name = "refinedweb_lines"
    SIGNALS = {"refinedweb_lines_removed": int, "refinedweb_words_removed_ratio": float}
    RULE_SIGNALS = {"words_removed": "refinedweb_words_removed_ratio"}

    def meta_fields(self) -> dict:
        return {"removed_lines": [{"line": str, "rule": str, "step": str}]} if self.keep_removed else {}

    def __init__(self, max_uppercase_ratio: float | None = 0.5, max_numeric_ratio: float | None = 0.999999,
                 remove_counters: bool = True, min_words_per_line: int | None = 2,
                 boilerplate_max_words: int = 10, boilerplate: bool = True,
                 max_removed_words_ratio: float | None = 0.05, keep_removed: bool = False) -> None:
        self.max_uppercase_ratio, self.max_numeric_ratio = max_uppercase_ratio, max_numeric_ratio
        self.remove_counters, self.min_words_per_line = remove_counters, min_words_per_line
        self.boilerplate, self.boilerplate_max_words = boilerplate, boilerplate_max_words
        self.max_removed_words_ratio, self.keep_removed = max_removed_words_ratio, keep_removed

    def _line_rule(self, line: str) -> tuple[str | None, str]:
        """(rule removing the whole line or None, the line as kept: boilerplate phrases cut out)."""
        n = len(line)
        # str.isupper/isdigit mapped over the characters run in C; a line is read once per rule
        if self.max_uppercase_ratio is not None and sum(map(str.isupper, line)) > self.max_uppercase_ratio * n:
            return "uppercase", line
        if self.max_numeric_ratio is not None and sum(map(str.isdigit, line)) > self.max_numeric_ratio * n:
            return "numeric", line
        if self.remove_counters and _COUNTER.fullmatch(line):
            return "counter", line
        n_words = len(line.split())
        if self.min_words_per_line and n_words < self.min_words_per_line:
            return "one_word", line
        if self.boilerplate and n_words <= self.boilerplate_max_words:
            cut = _cut_boilerplate(line)
            if cut != line and not cut.strip():
                return "boilerplate", line
            line = cut
        return None, line

    def map(self, doc: Document) -> Document:
        st = text_stats(doc)
        words_before = len(st.non_symbol_words)
        removed: dict[str, int] = {}
        removed_lines: list[dict[str, str]] = []
        kept: list[str] = []
        lost = 0  # words removed, counted with the same tokeniser as words_before
        for raw in st.nl_lines:
            rule, line = self._line_rule(raw) if raw else (None, raw)
            if rule is None:
                kept.append(line)
                if line != raw:  # a boilerplate phrase was cut out of this line
                    lost += _count_words(raw, st) - _count_words(line, st)
                continue
            removed[rule] = removed.get(rule, 0) + 1
            lost += _count_words(raw, st)
            if self.keep_removed:
                removed_lines.append({"line": raw, "rule": rule, "step": self.name})
        removed_ratio = ratio(lost, words_before)
        doc.signals["refinedweb_lines_removed"] = removed
        doc.signals["refinedweb_words_removed_ratio"] = removed_ratio
        new_text = "\n".join(kept).strip()
        if self.max_removed_words_ratio is not None and removed_ratio > self.max_removed_words_ratio:
            doc.reason = self.reject("words_removed", removed_ratio, self.max_removed_words_ratio)
        elif not new_text:
            doc.reason = self.reject("empty", 0, 1)
        else:
            doc.text = new_text
            if removed_lines:
                doc.meta.setdefault("removed_lines", []).extend(removed_lines)
        return doc


def _count_words(line: str, page: TextStats) -> int:
    """Non-symbol words of one line, split as its page's words are (the line's own URL rule applies)."""
    return len(TextStats(line, page.splitter).non_symbol_words)


# DCLM's substring_line_modifier phrases, matched literally (DCLM compiles them unescaped, so the dots of
# "Read more..." match any character there)
_PREFIX = re.compile(r"^sign-in\s?", re.IGNORECASE)
_SUFFIX = re.compile(r"\s?read more\.\.\.$", re.IGNORECASE)
_ANYWHERE = re.compile(r"\s?items in cart", re.IGNORECASE)


def _cut_boilerplate(line: str) -> str:
    return _ANYWHERE.sub("", _SUFFIX.sub("", _PREFIX.sub("", line)))
