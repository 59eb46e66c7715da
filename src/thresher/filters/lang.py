"""Language identification (``lid``) and the filter that keeps chosen languages (``language_filter``).

Two backends, one set of codes:

- ``cld2`` (default): pycld2, ships its model, fast. It raises on C0/C1 control characters, on
  Unicode noncharacters and (via UTF-8 encoding) on lone surrogates, so those are replaced by spaces first.
  ``language_score`` is the share of the text's bytes cld2 gives the top language (0..1).
- ``fasttext``: the lid.176 model (``.bin`` or ``.ftz``) from a ``model_path`` the user gives; nothing is
  downloaded. ``language_score`` is the model's probability of the top label.

Both backends report ISO 639-1 codes where one exists (ISO 639-3 / Wikipedia codes otherwise) through one
table, ``normalize_code``: cld2's old ``iw``/``jw`` become ``he``/``jv``, ``zh-Hant`` becomes ``zh``,
Norwegian ``no`` (Bokmål in both models' training data) becomes ``nb``; "unknown" is ``un``.
With ``labels: iso639-3`` the codes are FineWeb-2's ``iso639-3_Script`` instead (``cmn_Hani``; GlotLID's
own labels pass through), and ``meta.script`` records the text's script (ISO 15924), see
``thresher.filters.multilingual.fineweb2_code`` and ``thresher.filters.scripts``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

from thresher.document import Document, MetaKey, Reason
from thresher.steps import FilterStep, MapStep

UNKNOWN = "un"

# Characters pycld2 rejects (measured over every code point: C0 controls but \t \n \x0c \r, DEL and C1
# controls, the noncharacters U+FDD0..U+FDEF and U+xFFFE/U+xFFFF of every plane) plus lone surrogates,
# which cannot be encoded to UTF-8 and which fastText's binding rejects too. The astral noncharacters are
# a separate pattern: in the same class they make the scan ten times slower, and they are rare enough to
# be handled only when cld2 raises.
_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")
_ASTRAL_NONCHARS = re.compile(
    "[" + "".join(f"{chr(p * 0x10000 + 0xFFFE)}{chr(p * 0x10000 + 0xFFFF)}" for p in range(1, 17)) + "]")


# Old, regional or model-specific labels -> the one code thresher uses. Codes not listed pass through.
_CODE_ALIASES: dict[str, str] = {
    "iw": "he", "jw": "jv", "in": "id", "ji": "yi", "mo": "ro",   # withdrawn ISO 639-1 codes (cld2 uses iw, jw)
    "zh-hant": "zh", "zh-hans": "zh", "zh-tw": "zh", "zh-cn": "zh",
    "sr-me": "sr",                                                 # cld2 MONTENEGRIN
    "no": "nb", "nob": "nb", "nno": "nn",                          # both models' "no" is Bokmål
    "als": "gsw",                                                  # fastText's (Wikipedia's) Alemannic
    "fil": "tl",
    "xxx": UNKNOWN, "unknown": UNKNOWN, "und": UNKNOWN,
}


_SCRIPT_CODE = re.compile(r"^[a-z]{2,3}_[A-Z][a-z]{3}$")   # FineWeb-2 / GlotLID: cmn_Hani


def normalize_code(code: str) -> str:
    """One language code for a backend label or a user-given code (``__label__iw`` -> ``he``); a code in
    FineWeb-2's form (``cmn_Hani``) is kept as it is."""
    code = code.removeprefix("__label__").strip()
    if _SCRIPT_CODE.match(code):
        return code
    code = code.lower().replace("_", "-")
    if code.startswith("xx-") or code.startswith("zz"):   # cld2: unknown language in script X / joke languages
        return UNKNOWN
    return _CODE_ALIASES.get(code, code)


def clean_for_lid(text: str) -> str:
    """Replace the characters language-ID libraries raise on by spaces (keeps word boundaries)."""
    # search first: on clean text (nearly all of it) that is ~8x faster than a sub that replaces nothing
    return _BAD_CHARS.sub(" ", text) if _BAD_CHARS.search(text) else text


class _Cld2:
    def __init__(self, best_effort: bool) -> None:
        import pycld2

        self._detect = pycld2.detect
        self._error = pycld2.error
        self.best_effort = best_effort

    def _details(self, text: str) -> tuple:
        try:
            return self._detect(text, isPlainText=True, bestEffort=self.best_effort)
        except self._error:
            pass
        try:   # the rare astral noncharacters, then one retry
            return self._detect(_ASTRAL_NONCHARS.sub(" ", text), isPlainText=True, bestEffort=self.best_effort)
        except (self._error, ValueError):
            # anything cld2 still calls invalid UTF-8: no answer for this text, but no crash either
            return (False, 0, ())

    def detect(self, text: str) -> tuple[str, float]:
        for _name, code, percent, _score in self._details(text)[2]:
            code = normalize_code(code)
            if code != UNKNOWN and percent > 0:
                return code, percent / 100.0
        return UNKNOWN, 0.0

    def detect_many(self, texts: list[str]) -> list[str]:
        return [self.detect(t)[0] for t in texts]


class _FastText:
    def __init__(self, model_path: str | Path | None) -> None:
        if not model_path:
            raise ValueError("lid backend 'fasttext' needs model_path (e.g. lid.176.bin or lid.176.ftz)")
        from thresher.filters.classify import load_fasttext

        self.model = load_fasttext(model_path)

    def detect(self, text: str) -> tuple[str, float]:
        labels, probs = self.model.predict(text.replace("\n", " "), k=1)
        if not labels:
            return UNKNOWN, 0.0
        return normalize_code(labels[0]), float(probs[0])

    def detect_many(self, texts: list[str]) -> list[str]:
        if not texts:
            return []
        # One native call for the whole batch, not one Python call per paragraph. fasttext-predict's
        # multilinePredict returns labels only, the original binding (labels, probs): accept both.
        result = self.model.f.multilinePredict([t.replace("\n", " ") + "\n" for t in texts], 1, 0.0, "strict")
        if isinstance(result, tuple):
            result = result[0]
        return [normalize_code(labels[0]) if len(labels) else UNKNOWN for labels in result]


_PARAGRAPH_SPLIT = re.compile(r"\n\s*")
_LETTER = re.compile(r"[^\W\d_]")


class LanguageID(MapStep):
    """Identify the document's language: ``meta.language`` (code) and ``meta.language_score`` (0..1).

    ``per_paragraph: true`` also identifies each paragraph (non-empty line) and writes ``meta.languages``:
    ``{code: share of the text's characters}`` over paragraphs of at least ``min_paragraph_chars``
    characters that contain letters (shorter ones, like menu items, carry too little signal), for
    mixed-language pages.
    """

    name: ClassVar[str] = "lid"
    META: ClassVar[dict] = {MetaKey.LANGUAGE: str, MetaKey.LANGUAGE_SCORE: float}

    def __init__(self, backend: str = "cld2", model_path: str | None = None, per_paragraph: bool = False,
                 min_paragraph_chars: int = 20, best_effort: bool = True, labels: str = "iso639-1",
                 script: bool = False) -> None:
        if backend not in ("cld2", "fasttext"):
            raise ValueError(f"lid backend must be 'cld2' or 'fasttext', got {backend!r}")
        if labels not in ("iso639-1", "iso639-3"):
            raise ValueError(f"lid labels must be 'iso639-1' or 'iso639-3', got {labels!r}")
        self.labels = labels
        # the script signal: always with FineWeb-2's labels (they name the script), on request otherwise
        self.script = script or labels == "iso639-3"
        self.backend = backend
        self.model_path = model_path
        self.per_paragraph = per_paragraph
        self.min_paragraph_chars = min_paragraph_chars
        self.best_effort = best_effort   # cld2: guess on short text instead of answering "unknown"
        self._impl: _Cld2 | _FastText | None = None

    def setup(self) -> None:
        if self._impl is None:
            self._impl = _Cld2(self.best_effort) if self.backend == "cld2" else _FastText(self.model_path)

    def __getstate__(self) -> dict[str, Any]:
        # The loaded model stays out of pickles; each worker loads its own in setup().
        return {**self.__dict__, "_impl": None}

    def detect(self, text: str) -> tuple[str, float]:
        """(code, score) for one text; ``("un", 0.0)`` when there is nothing to identify."""
        if self._impl is None:
            self.setup()
        text = clean_for_lid(text)
        if not _LETTER.search(text):   # nothing to identify (fastText would still answer its prior, "en")
            return UNKNOWN, 0.0
        return self._impl.detect(text)

    def meta_fields(self) -> dict[str, Any]:
        # {code: share}: a mapping whose keys vary from page to page, stored as JSON text
        fields = {**self.META, "languages": "json"} if self.per_paragraph else dict(self.META)
        return {**fields, MetaKey.SCRIPT: str} if self.script else fields

    def paragraph_shares(self, text: str) -> dict[str, float]:
        """``{code: share of characters}`` over the text's paragraphs that are long enough to identify."""
        if self._impl is None:
            self.setup()
        paragraphs = [p for p in _PARAGRAPH_SPLIT.split(clean_for_lid(text).strip())
                      if len(p) >= self.min_paragraph_chars and _LETTER.search(p)]
        chars: dict[str, int] = {}
        for para, code in zip(paragraphs, self._impl.detect_many(paragraphs)):
            chars[code] = chars.get(code, 0) + len(para)
        total = sum(chars.values())
        return {code: round(n / total, 4) for code, n in sorted(chars.items(), key=lambda kv: -kv[1])} if total else {}

    def map(self, doc: Document) -> Document:
        code, score = self.detect(doc.text)
        if self.script:
            from thresher.filters.scripts import detect_script

            script = doc.meta[MetaKey.SCRIPT] = detect_script(doc.text)
            if self.labels == "iso639-3":
                from thresher.filters.multilingual import fineweb2_code

                code = fineweb2_code(code, script)
        doc.meta[MetaKey.LANGUAGE] = code
        doc.meta[MetaKey.LANGUAGE_SCORE] = round(score, 4)
        if self.per_paragraph:
            doc.meta["languages"] = self.paragraph_shares(doc.text)
        return doc


class LanguageFilter(FilterStep):
    """Keep documents in ``languages`` (any when empty) whose ``language_score`` is at least ``min_score``.

    Uses ``meta.language``/``meta.language_score`` from an earlier ``lid`` step; when they are missing it
    identifies the language itself with the given ``backend``/``model_path`` and records them in ``meta``.
    ``min_score`` may be one number, ``{code: number}`` per language (missing codes: 0), or ``fineweb2``:
    FineWeb-2's threshold for each language (``iso639-3_Script`` codes; 0.65 where it has none), with
    ``{code: number}`` in ``min_score_overrides`` taking precedence.
    Rules: ``language`` (value: the detected code) and ``language_score`` (value: the score).
    """

    name: ClassVar[str] = "language_filter"
    META: ClassVar[dict] = {MetaKey.LANGUAGE: str, MetaKey.LANGUAGE_SCORE: float}  # when no lid step ran before it
    RULE_SIGNALS: ClassVar[dict] = {"language_score": "language_score"}

    def __init__(self, languages: Iterable[str] | str | None = ("en",),
                 min_score: float | dict[str, float] | str = 0.65, backend: str = "cld2",
                 model_path: str | None = None, best_effort: bool = True,
                 min_score_overrides: dict[str, float] | None = None) -> None:
        if isinstance(languages, str):
            languages = [languages]
        self.languages = {normalize_code(code) for code in languages or ()}
        if isinstance(min_score, str) and min_score != "fineweb2":
            raise ValueError(f"language_filter min_score: a number, {{code: number}} or 'fineweb2', got {min_score!r}")
        self.min_score = ({normalize_code(k): float(v) for k, v in min_score.items()}
                          if isinstance(min_score, dict) else min_score if isinstance(min_score, str)
                          else float(min_score))
        self.min_score_overrides = {normalize_code(k): float(v) for k, v in (min_score_overrides or {}).items()}
        self._lid = LanguageID(backend=backend, model_path=model_path, best_effort=best_effort)

    def setup(self) -> None:
        pass   # the fallback LID loads lazily, only if a document arrives without meta.language

    def filter(self, doc: Document) -> Reason | None:
        code = doc.meta.get(MetaKey.LANGUAGE)
        score = doc.meta.get(MetaKey.LANGUAGE_SCORE)
        if code is None or score is None:
            code, score = self._lid.detect(doc.text)
            doc.meta[MetaKey.LANGUAGE] = code
            doc.meta[MetaKey.LANGUAGE_SCORE] = round(score, 4)
        return self.decide(doc)

    def decide(self, doc: Document) -> Reason | None:
        code, score = doc.meta[MetaKey.LANGUAGE], doc.meta[MetaKey.LANGUAGE_SCORE]
        if self.languages and code not in self.languages:
            return self.reject("language", code, sorted(self.languages))
        if code in self.min_score_overrides:
            threshold = self.min_score_overrides[code]
        elif self.min_score == "fineweb2":
            from thresher.filters.multilingual import fineweb2_code, lid_threshold

            threshold = lid_threshold(code if "_" in code else fineweb2_code(code, doc.meta.get(MetaKey.SCRIPT)))
        else:
            threshold = self.min_score.get(code, 0.0) if isinstance(self.min_score, dict) else self.min_score
        if score < threshold:
            return self.reject("language_score", score, threshold)
        return None
