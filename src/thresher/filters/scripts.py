"""Writing systems: which script a text is in, and its words when the script has no spaces.

``detect_script(text)`` names the text's main script as an ISO 15924 code (``Latn``, ``Cyrl``, ``Hani``,
``Jpan``, ``Thai``, ...; ``Zyyy`` when it has no letters), by counting its letters per Unicode block.
Chinese is ``Hani`` (simplified and traditional alike, as FineWeb-2 labels ``cmn_Hani``); Han with
kana is ``Jpan``; Korean is ``Hang``.

``words(text, script)`` is a text's words for the six scripts written without spaces between words
(``UNSPACED``: Chinese, Japanese, Thai, Lao, Khmer, Burmese). They come from ICU's dictionary word
breaker (``icu4py``, the ``multilingual`` extra), chosen by measurement (docs/multilingual.md: one
package for all six scripts; on 300 Chinese pages 1.9 M characters/s and a word-boundary F1 of 0.88
against jieba, the segmenter datatrove's Chinese tokenizer uses). Without ICU installed the fallback is
one word per character of those scripts (other runs are split as usual): a character-unigram splitter,
which counts and shingles consistently but makes mean word length ~1 (the ``multilingual_quality``
step then leaves its word-length rules off for those scripts).

Importing this module registers ``words`` as the word splitter of each unspaced script
(``thresher.filters.text.register_word_splitter``): every quality rule and MinHash's shingles then see
these words for documents whose ``meta.script`` is one of them.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from functools import lru_cache

import numpy as np

from thresher.filters.text import WordSplitter, register_word_splitter, tokenize

UNKNOWN_SCRIPT = "Zyyy"

# Unicode blocks of letters -> ISO 15924 script. Published Unicode block ranges (Blocks.txt); only the
# blocks that hold a script's letters, so digits, punctuation and symbols are not counted.
_BLOCKS: list[tuple[int, int, str]] = sorted([
    (0x41, 0x5A, "Latn"), (0x61, 0x7A, "Latn"), (0xC0, 0x24F, "Latn"), (0x1E00, 0x1EFF, "Latn"),
    (0xFF21, 0xFF3A, "Latn"), (0xFF41, 0xFF5A, "Latn"),
    (0x370, 0x3FF, "Grek"), (0x1F00, 0x1FFF, "Grek"),
    (0x400, 0x52F, "Cyrl"), (0x1C80, 0x1C8F, "Cyrl"), (0x2DE0, 0x2DFF, "Cyrl"), (0xA640, 0xA69F, "Cyrl"),
    (0x530, 0x58F, "Armn"), (0x590, 0x5FF, "Hebr"),
    (0x600, 0x6FF, "Arab"), (0x750, 0x77F, "Arab"), (0x8A0, 0x8FF, "Arab"), (0xFB50, 0xFDFF, "Arab"),
    (0xFE70, 0xFEFF, "Arab"),
    (0x700, 0x74F, "Syrc"), (0x780, 0x7BF, "Thaa"), (0x7C0, 0x7FF, "Nkoo"),
    (0x900, 0x97F, "Deva"), (0xA8E0, 0xA8FF, "Deva"), (0x980, 0x9FF, "Beng"), (0xA00, 0xA7F, "Guru"),
    (0xA80, 0xAFF, "Gujr"), (0xB00, 0xB7F, "Orya"), (0xB80, 0xBFF, "Taml"), (0xC00, 0xC7F, "Telu"),
    (0xC80, 0xCFF, "Knda"), (0xD00, 0xD7F, "Mlym"), (0xD80, 0xDFF, "Sinh"),
    (0xE00, 0xE7F, "Thai"), (0xE80, 0xEFF, "Laoo"), (0xF00, 0xFFF, "Tibt"),
    (0x1000, 0x109F, "Mymr"), (0xA9E0, 0xA9FF, "Mymr"), (0xAA60, 0xAA7F, "Mymr"),
    (0x10A0, 0x10FF, "Geor"), (0x1C90, 0x1CBF, "Geor"), (0x2D00, 0x2D2F, "Geor"),
    (0x1100, 0x11FF, "Hang"), (0x3130, 0x318F, "Hang"), (0xA960, 0xA97F, "Hang"), (0xAC00, 0xD7FF, "Hang"),
    (0x1200, 0x139F, "Ethi"), (0x2D80, 0x2DDF, "Ethi"), (0x13A0, 0x13FF, "Cher"), (0x1400, 0x167F, "Cans"),
    (0x1780, 0x17FF, "Khmr"), (0x19E0, 0x19FF, "Khmr"), (0x1800, 0x18AF, "Mong"), (0x2D30, 0x2D7F, "Tfng"),
    (0x3040, 0x309F, "Hira"), (0x30A0, 0x30FF, "Kana"), (0x31F0, 0x31FF, "Kana"), (0xFF66, 0xFF9F, "Kana"),
    (0x3100, 0x312F, "Bopo"),
    (0x2E80, 0x2FDF, "Hani"), (0x3400, 0x4DBF, "Hani"), (0x4E00, 0x9FFF, "Hani"), (0xF900, 0xFAFF, "Hani"),
    (0x20000, 0x3134F, "Hani"),
])
_STARTS = np.array([b[0] for b in _BLOCKS], dtype=np.uint32)
_ENDS = np.array([b[1] for b in _BLOCKS], dtype=np.uint32)
_NAMES = sorted({b[2] for b in _BLOCKS})
_BLOCK_SCRIPT = np.array([_NAMES.index(b[2]) for b in _BLOCKS], dtype=np.int64)
_KANA = (_NAMES.index("Hira"), _NAMES.index("Kana"))
_HANI = _NAMES.index("Hani")
# How much of a text is enough to name its script: the script of a page does not change after 20k characters.
_SAMPLE_CHARS = 20_000


def script_of(char: str) -> str:
    """The script of one character (``Zyyy`` for digits, punctuation, symbols, spaces)."""
    cp = ord(char)
    i = bisect_right(_BLOCKS, (cp, 0x10FFFF, "~")) - 1
    return _BLOCKS[i][2] if i >= 0 and cp <= _BLOCKS[i][1] else UNKNOWN_SCRIPT


def script_counts(text: str) -> dict[str, int]:
    """Letters per script in (the first 20,000 characters of) ``text``."""
    cps = np.frombuffer(text[:_SAMPLE_CHARS].encode("utf-32-le", "replace"), dtype=np.uint32)
    idx = np.searchsorted(_STARTS, cps, side="right") - 1
    inside = (idx >= 0) & (cps <= _ENDS[np.maximum(idx, 0)])
    counts = np.bincount(_BLOCK_SCRIPT[idx[inside]], minlength=len(_NAMES))
    return {_NAMES[i]: int(counts[i]) for i in np.flatnonzero(counts)}


def detect_script(text: str) -> str:
    """The main script of ``text`` (ISO 15924), ``Zyyy`` when it has no letters.

    Japanese mixes Han and kana: a text whose kana are at least a tenth of its Han + kana letters is
    ``Jpan``, its Han and kana counted together (Chinese pages carry a stray kana now and then, Japanese
    prose is a third kana or more)."""
    counts = script_counts(text)
    kana = sum(counts.pop(_NAMES[k], 0) for k in _KANA)
    if kana:
        han = counts.pop("Hani", 0)
        if kana >= 0.1 * (han + kana):
            counts["Jpan"] = han + kana
        else:
            counts["Hani"] = han
    if not counts:
        return UNKNOWN_SCRIPT
    return max(counts.items(), key=lambda kv: kv[1])[0]


# The scripts written without spaces between words, and the ICU locale whose dictionary splits them.
UNSPACED: dict[str, str] = {"Hani": "zh", "Jpan": "ja", "Thai": "th", "Laoo": "lo", "Khmr": "km", "Mymr": "my"}
_UNSPACED_CHAR = re.compile("[" + "".join(
    f"{chr(a)}-{chr(b)}" for a, b, s in _BLOCKS if s in ("Hani", "Hira", "Kana", "Thai", "Laoo", "Khmr", "Mymr")) + "]")
_UNSPACED_SPLIT = re.compile(f"({_UNSPACED_CHAR.pattern})")


@lru_cache(maxsize=1)
def icu_available() -> bool:
    """True when ICU's word breaker (``icu4py``) is installed."""
    try:
        import icu4py.breakers  # noqa: F401
    except ImportError:
        return False
    return True


def _icu_words(text: str, locale: str) -> list[str]:
    from icu4py.breakers import WordBreaker

    return [w for w in WordBreaker(text, locale) if not w.isspace()]


def character_words(text: str) -> list[str]:
    """The fallback splitter: usual tokens, with each character of an unspaced script one word."""
    out: list[str] = []
    for token in tokenize(text):
        if _UNSPACED_CHAR.search(token):
            # each unspaced-script character alone; runs of anything else between them stay one word
            for piece in _UNSPACED_SPLIT.split(token):
                if not piece:
                    continue
                if out and len(piece) == 1 and unicodedata.category(piece).startswith("M"):
                    out[-1] += piece   # a vowel sign or tone mark belongs to the letter before it
                else:
                    out.append(piece)
        else:
            out.append(token)
    return out


def words(text: str, script: str | None) -> list[str]:
    """The words of ``text`` written in ``script``: ICU's dictionary words for an unspaced script (the
    character fallback without ICU), :func:`thresher.filters.text.tokenize` for any other."""
    locale = UNSPACED.get(script or "")
    if locale is None:
        return tokenize(text)
    return _icu_words(text, locale) if icu_available() else character_words(text)


def splitter(script: str) -> WordSplitter:
    """``words`` bound to one script."""
    def split(text: str) -> list[str]:
        return words(text, script)
    split.__name__ = f"words_{script}"
    return split


for _script in UNSPACED:
    register_word_splitter(_script, splitter(_script))
