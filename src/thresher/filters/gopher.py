"""Gopher's quality and repetition rules (Rae et al. 2021, "Scaling Language Models", appendix A1.1).

Same decisions as datatrove's ``GopherQualityFilter`` / ``GopherRepetitionFilter`` (0.10), computed from
the shared :mod:`thresher.filters.text` statistics. Every figure is written to ``doc.signals`` (prefix
``gopher_``) whether or not the document is dropped, so a corpus can be re-thresholded later.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from operator import methodcaller

from thresher.document import Document, Reason
from thresher.filters.text import STOP_WORDS, duplicates, first_broken, ratio, text_stats
from thresher.steps import FilterStep

_STARTS_BULLET = methodcaller("startswith", ("•", "-"))
_ENDS_ELLIPSIS = methodcaller("endswith", ("...", "…"))


class GopherQuality(FilterStep):
    """Document length, mean word length, symbol ratios, bullet/ellipsis lines, alphabetic words, stop words."""

    name = "gopher_quality"
    SIGNALS = {"gopher_words": int, "gopher_mean_word_length": float, "gopher_hash_ratio": float,
               "gopher_ellipsis_ratio": float, "gopher_bullet_lines_ratio": float,
               "gopher_ellipsis_lines_ratio": float, "gopher_alpha_words_ratio": float, "gopher_stop_words": int}
    RULE_SIGNALS = {"short_doc": "gopher_words", "long_doc": "gopher_words",
                    "mean_word_length_low": "gopher_mean_word_length",
                    "mean_word_length_high": "gopher_mean_word_length", "hash_ratio": "gopher_hash_ratio",
                    "ellipsis_ratio": "gopher_ellipsis_ratio", "bullet_lines": "gopher_bullet_lines_ratio",
                    "ellipsis_lines": "gopher_ellipsis_lines_ratio", "alpha_words": "gopher_alpha_words_ratio",
                    "stop_words": "gopher_stop_words"}

    def __init__(self, min_doc_words: int | None = 50, max_doc_words: int | None = 100_000,
                 min_avg_word_length: float | None = 3, max_avg_word_length: float | None = 10,
                 max_symbol_word_ratio: float | None = 0.1, max_bullet_lines_ratio: float | None = 0.9,
                 max_ellipsis_lines_ratio: float | None = 0.3, min_alpha_words_ratio: float | None = 0.8,
                 min_stop_words: int | None = 2, stop_words: Iterable[str] | None = None) -> None:
        self.min_doc_words, self.max_doc_words = min_doc_words, max_doc_words
        self.min_avg_word_length, self.max_avg_word_length = min_avg_word_length, max_avg_word_length
        self.max_symbol_word_ratio = max_symbol_word_ratio
        self.max_bullet_lines_ratio = max_bullet_lines_ratio
        self.max_ellipsis_lines_ratio = max_ellipsis_lines_ratio
        self.min_alpha_words_ratio = min_alpha_words_ratio
        self.min_stop_words = min_stop_words
        self.stop_words = STOP_WORDS if stop_words is None else frozenset(stop_words)

    def signals(self, doc: Document) -> dict[str, float]:
        st = text_stats(doc)
        text, n_tokens, n_words = st.text, len(st.words), st.non_symbol_count
        lines = st.lines
        n_lines = len(lines)
        # lstrip/rstrip per line, in C (map over str methods): only over lines, not characters
        bullets = sum(map(_STARTS_BULLET, map(str.lstrip, lines)))
        end_ellipsis = sum(map(_ENDS_ELLIPSIS, map(str.rstrip, lines)))
        stop = (st.distinct_stop_words if self.stop_words is STOP_WORDS
                else len(self.stop_words.intersection(st.words)))
        sig = {
            "gopher_words": n_words,
            "gopher_mean_word_length": ratio(st.non_symbol_chars, n_words),
            "gopher_hash_ratio": ratio(text.count("#"), n_tokens),
            "gopher_ellipsis_ratio": ratio(text.count("...") + text.count("…"), n_tokens),
            "gopher_bullet_lines_ratio": ratio(bullets, n_lines),
            "gopher_ellipsis_lines_ratio": ratio(end_ellipsis, n_lines),
            "gopher_alpha_words_ratio": ratio(st.alpha_word_count, n_tokens),
            "gopher_stop_words": stop,
        }
        doc.signals.update(sig)
        return sig

    def filter(self, doc: Document) -> Reason | None:
        self.signals(doc)
        return self.decide(doc)

    def decide(self, doc: Document) -> Reason | None:
        s = doc.signals
        words, mean_len = s["gopher_words"], s["gopher_mean_word_length"]
        return first_broken(self, [
            ("short_doc", words, self.min_doc_words, words < (self.min_doc_words or 0)),
            ("long_doc", words, self.max_doc_words, words > (self.max_doc_words or 0)),
            ("mean_word_length_low", mean_len, self.min_avg_word_length, mean_len < (self.min_avg_word_length or 0)),
            ("mean_word_length_high", mean_len, self.max_avg_word_length, mean_len > (self.max_avg_word_length or 0)),
            ("hash_ratio", s["gopher_hash_ratio"], self.max_symbol_word_ratio,
             s["gopher_hash_ratio"] > (self.max_symbol_word_ratio or 0)),
            ("ellipsis_ratio", s["gopher_ellipsis_ratio"], self.max_symbol_word_ratio,
             s["gopher_ellipsis_ratio"] > (self.max_symbol_word_ratio or 0)),
            ("bullet_lines", s["gopher_bullet_lines_ratio"], self.max_bullet_lines_ratio,
             s["gopher_bullet_lines_ratio"] > (self.max_bullet_lines_ratio or 0)),
            ("ellipsis_lines", s["gopher_ellipsis_lines_ratio"], self.max_ellipsis_lines_ratio,
             s["gopher_ellipsis_lines_ratio"] > (self.max_ellipsis_lines_ratio or 0)),
            ("alpha_words", s["gopher_alpha_words_ratio"], self.min_alpha_words_ratio,
             s["gopher_alpha_words_ratio"] < (self.min_alpha_words_ratio or 0)),
            ("stop_words", s["gopher_stop_words"], self.min_stop_words,
             s["gopher_stop_words"] < (self.min_stop_words or 0)),
        ])


_TOP_N_GRAMS = {2: 0.20, 3: 0.18, 4: 0.16}
_DUP_N_GRAMS = {5: 0.15, 6: 0.14, 7: 0.13, 8: 0.12, 9: 0.11, 10: 0.10}


class GopherRepetition(FilterStep):
    """Repeated paragraphs, lines and word n-grams (Gopher table A1 thresholds by default)."""

    name = "gopher_repetition"

    def __init__(self, dup_line_frac: float | None = 0.3, dup_para_frac: float | None = 0.3,
                 dup_line_char_frac: float | None = 0.2, dup_para_char_frac: float | None = 0.2,
                 top_n_grams: Mapping[int, float] | None = None,
                 dup_n_grams: Mapping[int, float] | None = None) -> None:
        self.dup_line_frac, self.dup_para_frac = dup_line_frac, dup_para_frac
        self.dup_line_char_frac, self.dup_para_char_frac = dup_line_char_frac, dup_para_char_frac
        self.top_n_grams = {int(k): v for k, v in (_TOP_N_GRAMS if top_n_grams is None else top_n_grams).items()}
        self.dup_n_grams = {int(k): v for k, v in (_DUP_N_GRAMS if dup_n_grams is None else dup_n_grams).items()}

    def signal_fields(self) -> dict[str, type]:
        keys = ["dup_para_frac", "dup_para_char_frac", "dup_line_frac", "dup_line_char_frac"]
        keys += [f"top_{n}_gram" for n in self.top_n_grams] + [f"dup_{n}_gram" for n in self.dup_n_grams]
        return {f"gopher_{k}": float for k in keys}

    def rule_signals(self) -> dict[str, str]:
        return {key[len("gopher_"):]: key for key in self.signal_fields()}  # dup_line_frac: gopher_dup_line_frac

    def signals(self, doc: Document) -> dict[str, float]:
        st = text_stats(doc)
        n_chars = len(st.text)
        paras, lines = st.paragraphs, st.rep_lines
        para_dups, para_dup_chars = duplicates(paras)
        line_dups, line_dup_chars = duplicates(lines)
        sig = {
            "gopher_dup_para_frac": ratio(para_dups, len(paras)),
            "gopher_dup_para_char_frac": ratio(para_dup_chars, n_chars),
            "gopher_dup_line_frac": ratio(line_dups, len(lines)),
            "gopher_dup_line_char_frac": ratio(line_dup_chars, n_chars),
        }
        for n in self.top_n_grams:
            sig[f"gopher_top_{n}_gram"] = ratio(st.top_ngram_chars(n), n_chars)
        for n in self.dup_n_grams:
            sig[f"gopher_dup_{n}_gram"] = ratio(st.duplicate_ngram_chars(n), n_chars)
        doc.signals.update(sig)
        return sig

    def filter(self, doc: Document) -> Reason | None:
        self.signals(doc)
        return self.decide(doc)

    def decide(self, doc: Document) -> Reason | None:
        s = doc.signals
        if not doc.text:
            return self.reject("empty", 0, 1)
        checks = [(rule, s[f"gopher_{rule}"], thr, s[f"gopher_{rule}"] > (thr or 0)) for rule, thr in (
            ("dup_para_frac", self.dup_para_frac), ("dup_para_char_frac", self.dup_para_char_frac),
            ("dup_line_frac", self.dup_line_frac), ("dup_line_char_frac", self.dup_line_char_frac))]
        checks += [(f"top_{n}_gram", s[f"gopher_top_{n}_gram"], thr, s[f"gopher_top_{n}_gram"] > (thr or 0))
                   for n, thr in self.top_n_grams.items()]
        checks += [(f"dup_{n}_gram", s[f"gopher_dup_{n}_gram"], thr, s[f"gopher_dup_{n}_gram"] > (thr or 0))
                   for n, thr in self.dup_n_grams.items()]
        return first_broken(self, checks)
