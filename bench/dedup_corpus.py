"""Real-ish web documents for dedup benchmarks, built from real text, with known injected near-duplicates.

How: the paragraphs (lines) of the wcxb-dev ground-truth main contents (1,497 real pages, 1,295 sites)
form a pool. A document takes a target length in words from the real page-length distribution scaled by
``scale`` (0.4: a mean of about 3.5 KB, the size of an extracted Common Crawl page), then draws whole
paragraphs from the pool until it reaches it; in each drawn paragraph 10% of the words are replaced by
random words of the pool, so documents do not share long verbatim runs by accident (in real crawls they
share boilerplate lines, which the unmutated short lines still provide). A fraction ``dup_rate`` of the
documents are instead edited copies of an earlier document (edit kind and rate drawn from
``thresher_eval.dedup``'s swap / insert / delete / boilerplate at 1-10%): the ground truth.

Everything is a function of (seed, index), so shards can be generated independently and identically.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import orjson

from thresher_eval.dedup import EDIT_KINDS, load_wcxb_texts, mutate

DUP_RATES = (0.01, 0.03, 0.05, 0.1)


class Corpus:
    def __init__(self, data: Path, seed: int = 0, scale: float = 0.4, dup_rate: float = 0.1):
        texts = load_wcxb_texts(Path(data), min_words=1)
        self.paragraphs = [p.strip() for _, t in texts for p in t.split("\n") if p.strip()]
        self.lengths = [len(t.split()) for _, t in texts]
        self.vocab = sorted({w for p in self.paragraphs for w in p.split()})
        self.seed, self.scale, self.dup_rate = seed, scale, dup_rate

    def _fresh(self, rng: random.Random) -> str:
        target = max(30, int(rng.choice(self.lengths) * self.scale))
        out, words = [], 0
        while words < target:
            para = self.paragraphs[rng.randrange(len(self.paragraphs))].split()
            for _ in range(len(para) // 10):
                para[rng.randrange(len(para))] = self.vocab[rng.randrange(len(self.vocab))]
            out.append(" ".join(para))
            words += len(para)
        return "\n".join(out)

    def doc(self, i: int) -> dict:
        """Document ``i``: {"id", "text", and for an injected copy "dup_of", "edit"}."""
        rng = random.Random(f"{self.seed}:{i}")
        if i > 0 and rng.random() < self.dup_rate:
            src = rng.randrange(max(0, i - 50000), i)
            source = self.doc(src)
            src = source.get("dup_of_index", src)  # a copy of a copy points at the original
            kind, rate = rng.choice(EDIT_KINDS), rng.choice(DUP_RATES)
            return {"id": f"doc{i}", "text": mutate(source["text"], kind, rate, rng, self.vocab),
                    "dup_of": f"doc{src}", "dup_of_index": src, "edit": f"{kind}@{rate}"}
        return {"id": f"doc{i}", "text": self._fresh(rng)}

    def docs(self, start: int, stop: int) -> Iterator[dict]:
        for i in range(start, stop):
            yield self.doc(i)


def write_jsonl(corpus: Corpus, n: int, path: Path, truth: Path) -> None:
    """The documents as JSONL (id, text), and the injected pairs as JSONL (id, dup_of, edit)."""
    with open(path, "wb") as out, open(truth, "wb") as gt:
        for d in corpus.docs(0, n):
            out.write(orjson.dumps({"id": d["id"], "text": d["text"]}) + b"\n")
            if "dup_of" in d:
                gt.write(orjson.dumps({"id": d["id"], "dup_of": d["dup_of"], "edit": d["edit"]}) + b"\n")
