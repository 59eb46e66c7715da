"""Dedup steps driven phase by phase (index shards -> resolve partitions -> load/filter), as the engine does."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import orjson
import pytest

from thresher.dedup.cli import cli as dedup_cli
from thresher.dedup.common import connected_roots
from thresher.dedup.hashing import line_hashes, shingle_hashes
from thresher.dedup.lines import LineDedup
from thresher.dedup.minhash import MinHashDedup, removal_probability
from thresher.document import Document
from thresher.runner import run_global_step

VOCAB = [f"w{k}" for k in range(3000)]


def make_text(rng: random.Random, words: int = 300) -> str:
    return " ".join(rng.choice(VOCAB) for _ in range(words))


def mutate(rng: random.Random, text: str, rate: float) -> str:
    words = text.split()
    for _ in range(int(len(words) * rate)):
        words[rng.randrange(len(words))] = rng.choice(VOCAB)
    return " ".join(words)


@pytest.fixture
def corpus() -> tuple[dict[str, list[Document]], dict[str, str]]:
    """Three shards: 60 originals, 15 light edits (2% of words replaced) of earlier originals."""
    rng = random.Random(7)
    originals = [Document(id=f"o{i}", text=make_text(rng)) for i in range(60)]
    expected: dict[str, str] = {}
    copies = []
    for i in range(15):
        src = originals[i * 3]
        copies.append(Document(id=f"c{i}", text=mutate(rng, src.text, 0.02)))
        expected[f"c{i}"] = src.id
    # originals in shards 00000/00001, copies last: so the original is always the first occurrence
    shards = {"00000": originals[:30], "00001": originals[30:], "00002": copies}
    return shards, expected


def run_minhash(tmp: Path, shards: dict[str, list[Document]], **params) -> dict[str, Document]:
    copy = {k: [Document(id=d.id, text=d.text, url=d.url, meta=dict(d.meta)) for d in v] for k, v in shards.items()}
    run_global_step(MinHashDedup(**params), copy, tmp)
    return {d.id: d for docs in copy.values() for d in docs}


def removed(out: dict[str, Document]) -> dict[str, str]:
    return {i: d.reason.duplicate_of for i, d in out.items() if d.reason is not None}


def test_minhash_removes_near_duplicates_naming_the_kept_document(tmp_path, corpus):
    shards, expected = corpus
    out = run_minhash(tmp_path / "state", shards)
    assert removed(out) == expected
    for doc_id in expected:
        reason = out[doc_id].reason
        assert reason.step == "minhash_dedup" and reason.rule == "near_duplicate"
        assert 0.7 < reason.similarity <= 1.0
        assert reason.to_dict()["duplicate_of"] == expected[doc_id]


def test_minhash_decisions_do_not_depend_on_shard_order_or_partitions(tmp_path, corpus):
    shards, _ = corpus
    # same content with copies placed before their originals: the copies are now kept
    shards = {"00000": shards["00002"], "00001": shards["00000"], "00002": shards["00001"]}
    reference = removed(run_minhash(tmp_path / "a", shards, n_partitions=1))
    assert set(reference.values()) == {f"c{i}" for i in range(15)}
    reordered = dict(reversed(list(shards.items())))
    assert removed(run_minhash(tmp_path / "b", reordered, n_partitions=3)) == reference
    assert removed(run_minhash(tmp_path / "c", shards, n_partitions=14, batch_bytes=500)) == reference


def test_keep_longest_and_newest(tmp_path):
    rng = random.Random(3)
    base = make_text(rng, 200)
    docs = [Document(id="short", text=base, meta={"date": "2020-01-01"}),
            Document(id="long", text=base + " " + make_text(rng, 5), meta={"date": "2019-05-01T10:00:00Z"}),
            Document(id="other", text=make_text(rng, 200))]
    out = run_minhash(tmp_path / "l", {"00000": docs}, keep="longest")
    assert removed(out) == {"short": "long"}
    out = run_minhash(tmp_path / "n", {"00000": docs}, keep="newest")
    assert removed(out) == {"long": "short"}
    out = run_minhash(tmp_path / "f", {"00000": docs}, keep="first")
    assert removed(out) == {"long": "short"}


def test_empty_and_short_documents(tmp_path):
    docs = [Document(id="e1", text=""), Document(id="e2", text="  ...  "), Document(id="s1", text="hello world"),
            Document(id="s2", text="Hello,  WORLD!"), Document(id="s3", text="hello there")]
    out = run_minhash(tmp_path / "s", {"00000": docs})
    # texts without words never match each other; short texts are one shingle of all their words
    assert removed(out) == {"s2": "s1"}


def test_incremental_against_an_earlier_run(tmp_path, corpus):
    shards, expected = corpus
    run1 = tmp_path / "run1"
    first = run_minhash(run1 / "state" / "minhash_dedup", {"00000": shards["00000"], "00001": shards["00001"]})
    assert removed(first) == {}
    rng = random.Random(11)
    fresh = [Document(id=f"n{i}", text=make_text(rng)) for i in range(5)]
    twin = Document(id="n-twin", text=mutate(rng, fresh[0].text, 0.01))
    new = {"00000": [twin] + shards["00002"], "00001": fresh}
    out = run_minhash(tmp_path / "run2" / "state" / "minhash_dedup", new, against=str(run1))
    # copies of earlier documents go, naming the earlier id; a pair inside the new input is deduped as usual
    assert removed(out) == {**expected, "n0": "n-twin"}
    with pytest.raises(ValueError):
        run_minhash(tmp_path / "run3", new, against=str(run1), ngram=3)


def test_state_is_written_atomically_and_kept(tmp_path, corpus):
    shards, _ = corpus
    state = tmp_path / "st"
    run_minhash(state, shards)
    assert sorted(p.name for p in (state / "index").iterdir()) == ["00000", "00001", "00002"]
    assert (state / "result" / "layout.json").exists()
    assert not list(state.rglob(".*tmp"))
    # a load in a fresh step object (another worker) finds the result without any shared memory
    step = MinHashDedup()
    step.workdir = state
    step.load("00002")
    assert step.filter(Document(id="c0", text="")).duplicate_of == "o0"


def test_explain_prints_curve_and_sample_estimate(tmp_path, corpus, capsys):
    shards, expected = corpus
    path = tmp_path / "in.jsonl"
    with open(path, "wb") as fh:
        for docs in shards.values():
            for d in docs:
                fh.write(orjson.dumps({"id": d.id, "text": d.text}) + b"\n")
    assert dedup_cli(["--explain", "--bands", "20", "--rows", "5", str(path)]) == 0
    text = capsys.readouterr().out
    assert "20 bands x 5 rows" in text
    assert f"{removal_probability(0.5, 20, 5):10.4f}" in text
    assert f"would remove {len(expected)} (" in text
    assert dedup_cli(["--bands", "3"]) == 2


def test_shingles_do_not_depend_on_the_batch():
    texts = ["The cat sat on the mat today", "Don’t stop — believe it", "don't stop believe it", "x"]
    together, off, _ = shingle_hashes(texts, 3)
    for i, t in enumerate(texts):
        alone, _, _ = shingle_hashes([t], 3)
        assert np.array_equal(alone, together[off[i]:off[i + 1]])
    a, _, _ = shingle_hashes([texts[1]], 3)
    b, _, _ = shingle_hashes([texts[2]], 3)
    assert set(a.tolist()) == set(b.tolist())  # punctuation and case do not matter


def test_line_hashes_normalise_and_split_like_str_split():
    h, off = line_hashes(["A line\n  a LINE  \n\n", "x"])
    assert list(np.diff(off)) == [4, 1]
    assert h[0] == h[1] != 0 and h[2] == 0 and h[3] == 0


def test_connected_roots_matches_simple_union_find():
    rng = np.random.default_rng(0)
    n = 500
    u, v = rng.integers(0, n, 300), rng.integers(0, n, 300)
    parent = list(range(n))

    def find(x):
        while parent[x] != x:
            x = parent[x]
        return x

    for a, b in zip(u, v):
        ra, rb = find(a), find(b)
        parent[max(ra, rb)] = min(ra, rb)
    assert connected_roots(u, v, n).tolist() == [find(x) for x in range(n)]


def _line_docs() -> dict[str, list[Document]]:
    menu = "Home | About | Contact"
    docs = [Document(id=f"d{i}", url=f"https://{'a' if i < 3 else 'b'}.example/{i}",
                     text=f"{menu}\nUnique text number {i}.\nShare this article")
            for i in range(5)]
    docs.append(Document(id="only-boiler", url="https://b.example/x", text="home | about | contact\n\nshare this article"))
    return {"00000": docs[:3], "00001": docs[3:]}


def test_line_dedup_keeps_first_occurrence_and_records_removals(tmp_path):
    shards = _line_docs()
    run_global_step(LineDedup(min_docs=3, keep_removed=True, n_partitions=2), shards, tmp_path)
    docs = {d.id: d for v in shards.values() for d in v}
    assert docs["d0"].text == "Home | About | Contact\nUnique text number 0.\nShare this article"
    assert docs["d1"].text == "Unique text number 1."
    assert docs["d4"].signals["line_dedup_lines_removed"] == 2
    assert docs["d4"].meta["removed_lines"] == [
        {"line": "Home | About | Contact", "rule": "duplicate_line", "step": "line_dedup"},
        {"line": "Share this article", "rule": "duplicate_line", "step": "line_dedup"}]
    assert docs["only-boiler"].reason.rule == "all_lines_duplicate"


def test_line_dedup_per_site(tmp_path):
    shards = _line_docs()
    run_global_step(LineDedup(min_docs=3, per_site=True), shards, tmp_path)
    docs = {d.id: d for v in shards.values() for d in v}
    # site a has 3 documents with the menu: d0 keeps it; site b has 3 too (d3, d4, only-boiler): d3 keeps it
    assert docs["d0"].text.startswith("Home") and not docs["d1"].text.startswith("Home")
    assert docs["d3"].text.startswith("Home") and not docs["d4"].text.startswith("Home")
    assert "meta" not in docs["d4"].meta and "removed_lines" not in docs["d4"].meta


def test_exact_dedup_against_an_earlier_run(tmp_path):
    from thresher.dedup.exact import ExactDedup

    old = {"00000": [Document(id="a", text="Alpha  text"), Document(id="a2", text="alpha text"),
                     Document(id="b", text="beta")]}
    run_global_step(ExactDedup(n_partitions=2), old, tmp_path / "run1" / "state" / "exact_dedup")
    assert {d.id: d.reason.duplicate_of for d in old["00000"] if d.reason} == {"a2": "a"}
    new = {"00000": [Document(id="x", text="ALPHA text"), Document(id="y", text="gamma"),
                     Document(id="y2", text="gamma"), Document(id="z", text="beta")]}
    run_global_step(ExactDedup(n_partitions=2, against=str(tmp_path / "run1")), new,
                    tmp_path / "run2" / "state" / "exact_dedup")
    assert {d.id: d.reason.duplicate_of for d in new["00000"] if d.reason} == {"x": "a", "y2": "y", "z": "b"}
    with pytest.raises(ValueError):
        run_global_step(ExactDedup(n_partitions=3, against=str(tmp_path / "run1")),
                        {"00000": [Document(id="q", text="q")]}, tmp_path / "run3")


def test_line_dedup_filter_recomputes_for_an_unexpected_document(tmp_path):
    shards = _line_docs()
    step = LineDedup(min_docs=3)
    run_global_step(step, shards, tmp_path)
    step.load("00001")
    # a document whose line count differs from the one indexed at this position is decided from its text
    doc = Document(id="other", text="Share this article\nsomething new")
    assert step.filter(doc) is None
    assert doc.text == "something new" and doc.signals["line_dedup_lines_removed"] == 1
