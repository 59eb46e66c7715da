"""Per-language settings (FineWeb-2's) and the ``multilingual_quality`` step that applies them.

FineWeb-2 (Penedo et al. 2025, arXiv:2506.20920) filters every language with thresholds derived from that
language's own statistics, published per language as ``configs/{iso639-3}_{Script}.yml`` (1,929 of them):
the GlotLID confidence threshold, the Gopher repetition thresholds (duplicate lines, top and duplicate
n-grams), the FineWeb line-punctuation and new-line ratios, Gopher's word-length range, the share of
alphabetic words and the language's stop words. ``lang_data/fineweb2.json.gz`` carries those values (built by
``scripts/build_lang_data.py``; source and licence in ``lang_data/``).

Codes: FineWeb-2's ``iso639-3_Script`` (``cmn_Hani``, ``rus_Cyrl``); :func:`fineweb2_code` maps cld2's
and lid.176's ISO 639-1 labels onto them (macrolanguages onto the individual language FineWeb-2 labels:
``zh`` -> ``cmn``, ``ar`` -> ``arb``, ``fa`` -> ``fas``, ...), with the script detected from the text.

Languages FineWeb-2 has no settings for (documented fallback, docs/multilingual.md):

- English (``eng_Latn``, which FineWeb-2 leaves to FineWeb): FineWeb's own settings, the ``default``
  preset's (LID >= 0.65, datatrove's Gopher/FineWeb defaults, Gopher's eight English stop words);
- any other: datatrove's Gopher/FineWeb defaults with the stop-word rule off (no list to count), and
  LID >= 0.65 (FineWeb's English figure).
"""

from __future__ import annotations

import gzip
import json
import re
from functools import lru_cache
from importlib import resources
from typing import Any, ClassVar

from thresher.document import Document, MetaKey, Reason
from thresher.filters import scripts
from thresher.filters.fineweb import FineWebQuality
from thresher.filters.gopher import GopherQuality, GopherRepetition
from thresher.filters.text import STOP_WORDS
from thresher.steps import FilterStep

ENGLISH = "eng_Latn"
DEFAULT_LID_THRESHOLD = 0.65   # FineWeb's English threshold: English and languages FineWeb-2 has no value for
_CODE = re.compile(r"^([a-z]{2,3})[-_]([A-Za-z]{4})$")


@lru_cache(maxsize=1)
def fineweb2_data() -> dict[str, Any]:
    """FineWeb-2's per-language settings, ISO 639-1 table and main scripts (loaded once per process)."""
    raw = resources.files("thresher").joinpath("lang_data/fineweb2.json.gz").read_bytes()
    return json.loads(gzip.decompress(raw))


def fineweb2_code(code: str, script: str | None = None) -> str:
    """``iso639-3_Script`` for a backend's label (``zh`` -> ``cmn_Hani``; ``cmn-hani`` -> ``cmn_Hani``).

    The script is the text's (``script``) when FineWeb-2 has that language in that script, else the
    language's main script in FineWeb-2, else the text's. Unknown (``un``) is ``und_`` + the script."""
    data = fineweb2_data()
    m = _CODE.match(code)
    if m:
        lang, label_script = m.group(1), m.group(2).title()
        return f"{data['iso639_1'].get(lang, lang)}_{label_script}"
    if code in ("un", "und", ""):
        return f"und_{script or scripts.UNKNOWN_SCRIPT}"
    lang = data["iso639_1"].get(code, code)
    if script and f"{lang}_{script}" in data["languages"]:
        return f"{lang}_{script}"
    return f"{lang}_{data['main_script'].get(lang) or script or scripts.UNKNOWN_SCRIPT}"


def lid_threshold(code: str) -> float:
    """FineWeb-2's LID confidence threshold for an ``iso639-3_Script`` code (0.65 where it has none)."""
    settings = fineweb2_data()["languages"].get(code)
    return settings["language_score"] if settings else DEFAULT_LID_THRESHOLD


def language_settings(code: str) -> dict[str, Any] | None:
    """FineWeb-2's filter settings for ``code`` (``iso639-3_Script``), None where it publishes none."""
    return fineweb2_data()["languages"].get(code)


class MultilingualQuality(FilterStep):
    """Gopher repetition, Gopher quality and FineWeb's rules with each language's own thresholds.

    The language is ``meta.language`` in FineWeb-2's codes (``lid: {labels: iso639-3}`` before it);
    the words are those of the document's script (``meta.script``, :mod:`thresher.filters.scripts`).
    ``overrides: {cmn_Hani: {min_avg_word_length: 1.5}, ...}`` changes single values per language
    (keys: the sub-steps' parameters). Rules are named ``SUBSTEP.RULE`` (``gopher_quality.stop_words``);
    signals are the sub-steps' own (``gopher_*``, ``fineweb_*``).
    """

    name: ClassVar[str] = "multilingual_quality"
    _SUBSTEPS = (GopherRepetition, GopherQuality, FineWebQuality)

    def __init__(self, overrides: dict[str, dict[str, Any]] | None = None) -> None:
        self.overrides = {code: dict(values) for code, values in (overrides or {}).items()}
        self._steps: dict[str, tuple[FilterStep, ...]] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_steps": {}}

    def signal_fields(self) -> dict[str, Any]:
        # FineWeb-2 uses Gopher's n-gram sizes (2-4, 5-10) for every language: the defaults' signals
        return {k: v for cls in self._SUBSTEPS for k, v in cls().signal_fields().items()}

    def rule_signals(self) -> dict[str, str]:
        return {f"{cls.name}.{rule}": sig for cls in self._SUBSTEPS for rule, sig in cls().rule_signals().items()}

    def parameters(self, code: str) -> dict[str, dict[str, Any]]:
        """Each sub-step's parameters for the language ``code`` (FineWeb-2's, or the fallback)."""
        rep: dict[str, Any] = {}
        quality: dict[str, Any] = {}
        fineweb: dict[str, Any] = {}
        cfg = language_settings(code)
        if cfg is not None:
            rep = {"dup_line_frac": cfg["dup_line_frac"], "top_n_grams": cfg["top_n_grams"],
                   "dup_n_grams": cfg["dup_n_grams"]}
            quality = {"min_avg_word_length": cfg["min_avg_word_length"],
                       "max_avg_word_length": cfg["max_avg_word_length"],
                       # datatrove's (and FineWeb-2's) "max_non_alpha_words_ratio" is the minimum share of
                       # words with a letter: thresher's min_alpha_words_ratio
                       "min_alpha_words_ratio": cfg["max_non_alpha_words_ratio"],
                       "stop_words": cfg["stopwords"], "min_stop_words": 2}
            fineweb = {"line_punct_thr": cfg["line_punct_thr"], "new_line_ratio": cfg["new_line_ratio"]}
        elif code == ENGLISH:
            quality = {"stop_words": sorted(STOP_WORDS)}
        else:
            quality = {"min_stop_words": None}
        script = code.rpartition("_")[2]
        if script in scripts.UNSPACED and not scripts.icu_available():
            # the character fallback makes every word ~1 character: a word-length range means nothing
            quality.update(min_avg_word_length=None, max_avg_word_length=None)
        for key, value in self.overrides.get(code, {}).items():
            target = next((p for p, cls in zip((rep, quality, fineweb), self._SUBSTEPS, strict=True)
                           if key in cls.__init__.__code__.co_varnames), None)
            if target is None:
                raise ValueError(f"multilingual_quality: unknown override {key!r} for {code}")
            target[key] = value
        return {"gopher_repetition": rep, "gopher_quality": quality, "fineweb_quality": fineweb}

    def steps(self, code: str) -> tuple[FilterStep, ...]:
        steps = self._steps.get(code)
        if steps is None:
            params = self.parameters(code)
            steps = self._steps[code] = tuple(cls(**params[cls.name]) for cls in self._SUBSTEPS)
        return steps

    def filter(self, doc: Document) -> Reason | None:
        for step in self.steps(self._code(doc)):
            step.signals(doc)
        return self.decide(doc)

    def decide(self, doc: Document) -> Reason | None:
        for step in self.steps(self._code(doc)):
            reason = step.decide(doc)
            if reason is not None:
                return self.reject(f"{step.name}.{reason.rule}", reason.value, reason.threshold)
        return None

    @staticmethod
    def _code(doc: Document) -> str:
        code = doc.meta.get(MetaKey.LANGUAGE) or "un"
        return code if "_" in code else fineweb2_code(code, doc.meta.get(MetaKey.SCRIPT))
