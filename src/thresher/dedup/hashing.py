"""Bulk, deterministic 64-bit hashing of words, word n-grams and lines, vectorised with numpy.

Why not ``hash()`` or one ``xxhash`` call per word: ``hash()`` of a str is salted per process (workers
would disagree), and one Python call per word is the measured bottleneck of MinHash dedup. Here a whole
batch of documents is encoded once into one byte buffer and every segment (word or line) is hashed with
a polynomial rolling hash computed from prefix sums (mod 2**64, numpy's wrapping uint64 arithmetic):

    H[i] = sum_{j<i} b_j * P**j          hash(b[s:e]) = (H[e] - H[s]) * P**-s

then passed through the splitmix64 finaliser so every output bit depends on every input byte. P is odd,
so it has an inverse modulo 2**64. The result depends only on the bytes, never on the batch or process.

Words: after ``str.lower()``, a word is a maximal run of ASCII letters/digits or non-ASCII bytes, minus
the common Unicode punctuation and spaces (U+2000-U+206F, NBSP, guillemets, middle dot), so "Don't",
"don't" and "don’t" tokenise alike. Scripts written without spaces (Chinese, Japanese, Thai) come out as
one word per run of text: MinHash over word n-grams is then coarse for them (a known limitation).
"""

from __future__ import annotations

import numpy as np

_P = 0x100000001B3  # FNV-64 prime: odd, so invertible mod 2**64
_P_INV = pow(_P, -1, 1 << 64)
_M64 = (1 << 64) - 1

# byte -> is part of a word (ASCII alnum, or any byte of a multi-byte UTF-8 sequence)
_WORD_BYTE = np.zeros(256, dtype=bool)
for _c in b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789":
    _WORD_BYTE[_c] = True
_WORD_BYTE[0x80:] = True

_ASCII_LOWER = np.arange(256, dtype=np.uint8)
_ASCII_LOWER[ord("A"):ord("Z") + 1] += 32

# odd per-position multipliers that combine the word hashes of an n-gram (order matters)
_NGRAM_MULT = np.array([(0x9E3779B97F4A7C15 * (2 * k + 1) + 0x632BE59BD9B4E019 * k) & _M64 | 1
                        for k in range(64)], dtype=np.uint64)


class _Powers:
    """P**i and P**-i for i < n, grown on demand and shared by every call in the process."""

    def __init__(self) -> None:
        self.fwd = np.ones(1, dtype=np.uint64)
        self.inv = np.ones(1, dtype=np.uint64)

    def get(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        if n > len(self.fwd):
            size = max(n, 2 * len(self.fwd), 1 << 16)
            self.fwd = self._powers(_P, size)
            self.inv = self._powers(_P_INV, size)
        return self.fwd[:n], self.inv[:n]


    @staticmethod
    def _powers(base: int, size: int) -> np.ndarray:
        # doubling: out[k:2k] = out[:k] * base**k, so log2(size) vector multiplies (cumprod is slow)
        out = np.ones(size, dtype=np.uint64)
        out[1:2] = base
        k = 2 if size > 1 else 1
        with np.errstate(over="ignore"):
            while k < size:
                step = np.uint64(pow(base, k, 1 << 64))
                m = min(k, size - k)
                np.multiply(out[:m], step, out=out[k:k + m])
                k += m
        return out


_POWERS = _Powers()


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser, elementwise on uint64 (wrapping)."""
    x = x.astype(np.uint64, copy=True)
    with np.errstate(over="ignore"):
        x ^= x >> np.uint64(30)
        x *= np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(27)
        x *= np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
    return x


def segment_hashes(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """64-bit hash of each byte segment ``buf[starts[k]:ends[k]]`` (uint8 buffer), in one vectorised pass."""
    if len(starts) == 0:
        return np.zeros(0, dtype=np.uint64)
    fwd, inv = _POWERS.get(len(buf) + 1)
    with np.errstate(over="ignore"):
        prefix = np.empty(len(buf) + 1, dtype=np.uint64)
        prefix[0] = 0
        np.multiply(fwd[: len(buf)], buf, out=prefix[1:])
        np.cumsum(prefix[1:], out=prefix[1:])
        raw = (prefix[ends] - prefix[starts]) * inv[starts]
        # fold the length in, so that segments of zero bytes and their prefixes cannot collide
        raw += (ends - starts).astype(np.uint64) * np.uint64(0xD6E8FEB86659FD93)
    return mix64(raw)


def _encode_batch(texts: list[str], lower: bool) -> tuple[np.ndarray, np.ndarray]:
    """One uint8 buffer of all texts separated by a newline, and each text's start offset (plus the end)."""
    if lower:
        # ASCII texts are lowercased below with one table lookup over the buffer; str.lower only for the rest
        encoded = [(t if t.isascii() else t.lower()).encode("utf-8", errors="replace") for t in texts]
        buf = _ASCII_LOWER[np.frombuffer(b"\n".join(encoded), dtype=np.uint8)]
    else:
        encoded = [t.encode("utf-8", errors="replace") for t in texts]
        buf = np.frombuffer(b"\n".join(encoded), dtype=np.uint8)
    lens = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    starts = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(lens + 1, out=starts[1:])
    starts[-1] -= 1  # no separator after the last text: starts[-1] == len(buf)
    return buf, starts


def word_spans(buf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(starts, ends) of the words in a lowercased UTF-8 buffer."""
    isw = _WORD_BYTE[buf]
    if len(buf) >= 2:
        # Unicode punctuation/space in U+2000-U+206F is E2 80 xx / E2 81 xx; NBSP, «, », · are C2 xx
        last = len(buf) - 1
        lead = np.flatnonzero(buf[:-1] == 0xE2)
        lead = lead[(buf[lead + 1] == 0x80) | (buf[lead + 1] == 0x81)]
        for k in range(3):
            isw[np.minimum(lead + k, last)] = False
        c2 = np.flatnonzero(buf[:-1] == 0xC2)
        c2 = c2[np.isin(buf[c2 + 1], (0xA0, 0xAB, 0xBB, 0xB7, 0xA1, 0xBF))]
        isw[c2] = False
        isw[c2 + 1] = False
    edges = np.diff(isw.astype(np.int8), prepend=np.int8(0), append=np.int8(0))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def shingle_hashes(texts: list[str], ngram: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Word ``ngram``-shingle hashes of a batch of texts, flat, with row offsets.

    Returns ``(hashes, offsets, n_words)``: the shingles of text ``i`` are
    ``hashes[offsets[i]:offsets[i+1]]``. A text with fewer than ``ngram`` words (but at least one) gives
    one shingle of all its words; a text without words gives none.
    """
    n_docs = len(texts)
    buf, doc_starts = _encode_batch(texts, lower=True)
    ws, we = word_spans(buf)
    words = segment_hashes(buf, ws, we)
    doc_of_word = np.searchsorted(doc_starts, ws, side="right") - 1
    n_words = np.bincount(doc_of_word, minlength=n_docs).astype(np.int64)
    word_off = np.zeros(n_docs + 1, dtype=np.int64)
    np.cumsum(n_words, out=word_off[1:])
    # number of shingles per doc: max(w - n + 1, 1 if w > 0 else 0)
    per_doc = np.where(n_words >= ngram, n_words - ngram + 1, (n_words > 0).astype(np.int64))
    offsets = np.zeros(n_docs + 1, dtype=np.int64)
    np.cumsum(per_doc, out=offsets[1:])
    total = int(offsets[-1])
    if total == 0:
        return np.zeros(0, dtype=np.uint64), offsets, n_words
    out = np.empty(total, dtype=np.uint64)
    # full shingles: contiguous slices of the flat word array, kept where all n words are in one doc
    m = len(words) - ngram + 1
    short_slot = np.zeros(total, dtype=bool)
    short = np.flatnonzero((n_words > 0) & (n_words < ngram))
    short_slot[offsets[short]] = True
    with np.errstate(over="ignore"):
        if m > 0:
            acc = words[:m] * _NGRAM_MULT[0]
            for k in range(1, ngram):
                acc += words[k:k + m] * _NGRAM_MULT[k]
            acc = acc[doc_of_word[:m] == doc_of_word[ngram - 1:]]
            acc += np.uint64(ngram)
            out[~short_slot] = mix64(acc)
        if len(short):
            # a document shorter than ngram words: one shingle of all its words
            acc = np.full(len(short), np.uint64(0))
            for k in range(ngram - 1):
                has = n_words[short] > k
                term = words[np.where(has, word_off[short] + k, 0)] * _NGRAM_MULT[k]
                acc += np.where(has, term, np.uint64(0))
            acc += n_words[short].astype(np.uint64)
            out[short_slot] = mix64(acc)
    return out, offsets, n_words


_SPACE_BYTE = np.zeros(256, dtype=bool)
for _c in b" \t\r\v\f":
    _SPACE_BYTE[_c] = True


def line_hashes(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Hash every line (split on ``\\n``, as ``str.split("\\n")`` does) of each text, normalised:
    lowercased, outer ASCII whitespace stripped. A blank line hashes to 0.

    Returns ``(hashes, offsets)``: ``hashes[offsets[i]:offsets[i+1]]`` are text ``i``'s lines in order.
    """
    counts = np.fromiter((t.count("\n") + 1 for t in texts), dtype=np.int64, count=len(texts))
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    if not texts:
        return np.zeros(0, dtype=np.uint64), offsets
    buf = np.frombuffer("\n".join(texts).lower().encode("utf-8", errors="replace"), dtype=np.uint8)
    n = len(buf)
    newline = np.flatnonzero(buf == 10)
    starts = np.concatenate([[0], newline + 1]).astype(np.int64)
    ends = np.concatenate([newline, [n]]).astype(np.int64)
    # first and last non-space byte of each line, by binary search in the sorted non-space positions
    solid = np.flatnonzero(~_SPACE_BYTE[buf] & (buf != 10))
    i = np.searchsorted(solid, starts)
    j = np.searchsorted(solid, ends) - 1
    blank = i > j
    s2 = np.where(blank, starts, solid[np.minimum(i, len(solid) - 1)] if len(solid) else starts)
    e2 = np.where(blank, starts, solid[np.maximum(j, 0)] + 1 if len(solid) else starts)
    hashes = segment_hashes(buf, s2, e2)
    hashes[blank] = 0
    return hashes, offsets
