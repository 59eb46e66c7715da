"""FineWeb's own quality rules (Penedo et al. 2024, "The FineWeb Datasets", section 3.3.4).

Same decisions as datatrove's ``FineWebQualityFilter`` (0.10): share of lines ending in terminal
punctuation, share of short lines, characters in duplicated lines, and newlines per word ("list-like"
pages). Figures go to ``signals`` (prefix ``fineweb_``) whether or not the page is dropped.
"""

from __future__ import annotations

from itertools import repeat
from operator import itemgetter, le

from thresher.document import Document, Reason
from thresher.filters.text import TERMINAL_PUNCTUATION, duplicates, first_broken, ratio, text_stats
from thresher.steps import FilterStep

_LAST = itemgetter(-1)


class FineWebQuality(FilterStep):
    name = "fineweb_quality"
    SIGNALS = {"fineweb_line_punct_ratio": float, "fineweb_short_line_ratio": float,
               "fineweb_char_dup_ratio": float, "fineweb_list_ratio": float}
    RULE_SIGNALS = {rule: f"fineweb_{rule}" for rule in ("line_punct_ratio", "short_line_ratio", "char_dup_ratio",
                                                           "list_ratio")}

    def __init__(self, line_punct_thr: float | None = 0.12, line_punct_exclude_zero: bool = False,
                 short_line_thr: float | None = 0.67, short_line_length: int = 30,
                 char_duplicates_ratio: float | None = 0.01, new_line_ratio: float | None = 0.3) -> None:
        self.line_punct_thr, self.line_punct_exclude_zero = line_punct_thr, line_punct_exclude_zero
        self.short_line_thr, self.short_line_length = short_line_thr, short_line_length
        self.char_duplicates_ratio, self.new_line_ratio = char_duplicates_ratio, new_line_ratio

    def signals(self, doc: Document) -> dict[str, float]:
        st = text_stats(doc)
        lines = st.nonempty_nl_lines
        n = len(lines)
        # every terminal mark is one character, so a set lookup on the last one replaces endswith(tuple);
        # both counts run in C (map over the lines)
        ends = sum(map(TERMINAL_PUNCTUATION.__contains__, map(_LAST, lines)))
        short = sum(map(le, map(len, lines), repeat(self.short_line_length)))
        sig = {
            "fineweb_line_punct_ratio": ratio(ends, n),
            "fineweb_short_line_ratio": ratio(short, n),
            "fineweb_char_dup_ratio": ratio(duplicates(lines)[1], len(st.text) - st.text.count("\n")),
            "fineweb_list_ratio": ratio(st.text.count("\n"), st.word_count) if n else 0.0,
        }
        doc.signals.update(sig)
        return sig

    def filter(self, doc: Document) -> Reason | None:
        self.signals(doc)
        return self.decide(doc)

    def decide(self, doc: Document) -> Reason | None:
        s = doc.signals
        if not doc.text or doc.text.isspace():  # no non-blank line
            return self.reject("empty", 0, 1)
        punct = s["fineweb_line_punct_ratio"]
        punct_low = punct < (self.line_punct_thr or 0) and not (punct == 0 and self.line_punct_exclude_zero)
        return first_broken(self, [
            ("line_punct_ratio", punct, self.line_punct_thr, punct_low),
            ("short_line_ratio", s["fineweb_short_line_ratio"], self.short_line_thr,
             s["fineweb_short_line_ratio"] > (self.short_line_thr or 0)),
            ("char_dup_ratio", s["fineweb_char_dup_ratio"], self.char_duplicates_ratio,
             s["fineweb_char_dup_ratio"] > (self.char_duplicates_ratio or 0)),
            ("list_ratio", s["fineweb_list_ratio"], self.new_line_ratio,
             s["fineweb_list_ratio"] > (self.new_line_ratio or 0)),
        ])
