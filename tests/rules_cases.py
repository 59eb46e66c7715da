"""Texts that pin the Gopher, FineWeb and tokenizer figures (tests/test_rules_parity.py).

The expected outputs in fixtures/rules/parity.json were computed by the rule code before issue 17 item 3
(commit 5cc9fb2) and must never be regenerated from newer code: they are the reference the bulk rewrite is
held to.
"""

from __future__ import annotations

import random

_WORDS = ("the of and to in a is that for it as was with be by on not he I this are or his from at which but "
          "have an they you were her she there been one all we their has would when if so no will more out up "
          "into do any time your some them could these than other about only then its like over such our man "
          "café naïve Ærø Москва мир 東京 ünïcödé straße ΑΘΗΝΑ ９９ １ it's don't well-known U.S. Mr. 3.5 1,000 "
          "e.g. (see) [1] — – ... … • # ## #tag @user https://example.org/a?b=1 www.x.org 10-20 AI/ML").split()


def _random_text(rng: random.Random, n_words: int, line_every: int = 12) -> str:
    out = []
    for i in range(n_words):
        out.append(rng.choice(_WORDS))
        out.append("\n" if i % line_every == line_every - 1 else " ")
    return "".join(out)


def _long_repetitive(rng: random.Random) -> str:
    blocks = [_random_text(rng, rng.randint(5, 60)) for _ in range(40)]
    parts = []
    for _ in range(3000):
        parts.append(rng.choice(blocks) if rng.random() < 0.6 else _random_text(rng, rng.randint(3, 40)))
        parts.append(rng.choice(["\n", "\n\n", "\n\n\n", " ", "\n\n\n\n"]))
    return "".join(parts)


def cases() -> dict[str, str]:
    rng = random.Random(17)
    c = {
        "empty": "",
        "space": " ",
        "newline": "\n",
        "newlines": "\n\n\n",
        "blank_lines": " \n\t\n \n",
        "one_word": "word",
        "one_char": "x",
        "one_punct": "•",
        "fullwidth_one": "１ １ １１ ９",
        "unicode_words": "Москва — столица России. 東京は日本の首都です。 Ærø straße naïve café ΑΘΗΝΑ ünïcödé "
                         "עברית العربية हिन्दी ภาษาไทย 😀 👍🏽 e\u0301 ＡＢＣ １２３ ½ ² ⅷ",
        "repeated_lines": "the same line again\n" * 12 + "and one other line\n",
        "repeated_lines_crlf": "the same line again\r\n" * 5 + "other\r\nline\x0bvertical\x0cfeed\x1cfs\x85nel"
                               "\u2028ls\u2029ps\n",
        "repeated_paragraphs": ("a paragraph of text\nwith two lines\n\n" * 4 + "another\n\n\n"
                                "odd run\n\n\n\nfour\n\n\n\n\nfive\n\n  \n\nspaces between\n\n"
                                + "a paragraph of text\nwith two lines\n\n\n"),
        "paragraph_edges": "\n\n  lead and trail  \n\n\n",
        "line_edges": "\nfirst\n\nsecond\n",
        "periodic_1": " ".join(["buffalo"] * 60),
        "periodic_2": " ".join(["ding", "dong"] * 40),
        "periodic_3": " ".join(["a", "b", "c"] * 40),
        "periodic_5": " ".join("one two three four five".split() * 20),
        "periodic_7": " ".join("one two three four five six seven".split() * 12),
        "overlap_skip": "x y z x y z x y q x y z x y z x y z w x y z x y z x y z x y",
        "ngram_ties": "alpha beta gamma delta alpha beta gamma delta epsilon zeta eta theta epsilon zeta eta theta "
                      "longerword anotherword longerword anotherword",
        "top_ties_first_seen": "b c a b a b c a b c x y z x y z",
        "joined_vs_spaced": "ab c a bc ab c a bc ab c a bc ab c a bc ab c a bc ab c",
        "punctuation": "Mr. Smith of the U.S. said it's 3.5% (AT&T). well-known COVID-19 and/or 10-20 1,000 "
                       "x... see https://example.org/a?b=1. ok — dash – en … ellipsis ### # #tag\n"
                       "• bullet one\n- bullet two\n  • indented bullet…\nend with dots...\n",
        "bullets_ellipses": "• item one\n• item two...\n- item three\n• item four…\n  - item five\n",
        "controls": "nul\x00 bell\x07 esc\x1b c1\x85 line\u2028sep\u2029end. tab\tsep\u00a0nbsp\u3000ideo",
        "surrogates": "broken \ud800 surrogate \udfff here. And more text.",
        "terminal_marks": "Line one.\nLine two!\nLine three?\nLine four。\nLine five؟\nline six\n"
                          "Line seven॥\nshort\n" + "A fairly long line that ends without any punctuation at all\n",
        "stop_words": "the be to of and that have with The BE To " * 3,
        "long_word": "x" * 5000 + " y",
        "prose": _random_text(rng, 400),
        "prose_dense_lines": _random_text(rng, 300, line_every=2),
    }
    c["long_repetitive"] = _long_repetitive(rng)  # ~100k words, repeated blocks of every size
    c["long_periodic"] = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit.\n" * 4000
                          + _random_text(rng, 20000))
    c["long_prose"] = _random_text(rng, 120_000)
    return c


def _digest(items: list[str]) -> dict[str, object]:
    import hashlib

    joined = "\x00".join(items).encode("utf-8", "surrogatepass")
    return {"n": len(items), "sha256": hashlib.sha256(joined).hexdigest()}


def outputs(text: str) -> dict[str, object]:
    """Every figure the reference pins for ``text``: tokens, the shared statistics, each step's reason and
    signals in its default setting and in one other."""
    from thresher.document import Document
    from thresher.filters.fineweb import FineWebQuality
    from thresher.filters.gopher import GopherQuality, GopherRepetition
    from thresher.filters.text import TextStats, duplicates, tokenize

    out: dict[str, object] = {}
    for urls in (False, True):
        toks = tokenize(text, urls)
        out[f"tokens_urls_{urls}"] = toks if len(text) < 3000 else _digest(toks)
    st = TextStats(text)
    out["stats"] = {
        "words": _digest(st.words), "non_symbol_words": _digest(st.non_symbol_words),
        "alpha_word_count": st.alpha_word_count, "distinct_stop_words": st.distinct_stop_words,
        "lines": _digest(st.lines), "nl_lines": _digest(st.nl_lines),
        "nonempty_nl_lines": _digest(st.nonempty_nl_lines), "rep_lines": _digest(st.rep_lines),
        "paragraphs": _digest(st.paragraphs), "dup_paragraphs": list(duplicates(st.paragraphs)),
        "dup_rep_lines": list(duplicates(st.rep_lines)),
        "top_ngram_chars": [st.top_ngram_chars(n) for n in range(1, 6)],
        "duplicate_ngram_chars": [st.duplicate_ngram_chars(n) for n in range(1, 13)],
    }
    # a fresh TextStats asked for n-grams out of order (the caches fill from the other end)
    st2 = TextStats(text)
    out["stats"]["out_of_order"] = [st2.duplicate_ngram_chars(9), st2.top_ngram_chars(4),
                                    st2.duplicate_ngram_chars(6), st2.top_ngram_chars(2)]
    steps = {
        "gopher_repetition": GopherRepetition(),
        "gopher_repetition_custom": GopherRepetition(dup_line_frac=None, top_n_grams={3: 0.1, 1: 0.3},
                                                     dup_n_grams={7: 0.05, 4: 0.1}),
        "gopher_quality": GopherQuality(),
        "gopher_quality_custom": GopherQuality(min_doc_words=5, max_doc_words=50, stop_words=["and", "мир", "x"]),
        "fineweb_quality": FineWebQuality(),
        "fineweb_quality_custom": FineWebQuality(line_punct_exclude_zero=True, short_line_length=10,
                                                 char_duplicates_ratio=None),
    }
    for name, step in steps.items():
        doc = step.process(Document(id="d", text=text))
        out[name] = {"reason": doc.reason.to_dict() if doc.reason else None, "signals": doc.signals}
    return out


if __name__ == "__main__":  # writes the reference: only ever run on the code before issue 17 item 3
    import json
    import sys
    from pathlib import Path

    path = Path(__file__).parent / "fixtures" / "rules" / "parity.json"
    if path.exists() and "--force" not in sys.argv:
        sys.exit(f"{path} exists: it is the reference, computed by the code before issue 17 item 3")
    ref = {name: outputs(text) for name, text in cases().items()}
    path.write_text(json.dumps(ref, ensure_ascii=True, indent=0, sort_keys=True) + "\n")
    print(path, path.stat().st_size)


def gopher_scan(words: list[str], n: int) -> int:
    """Reference for Gopher's duplicate n-gram characters (datatrove's find_all_duplicate over word tuples):
    left to right, jump n words after a repeat."""
    seen, total, i = set(), 0, 0
    while i < len(words) - n + 1:
        gram = tuple(words[i:i + n])
        if gram in seen:
            total += sum(map(len, gram))
            i += n
        else:
            seen.add(gram)
            i += 1
    return total
