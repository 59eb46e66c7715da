"""Model-based quality: the ``classify`` step (fastText), ``quality_bucket`` (Nemotron-CC's ensemble),
``thresher train classifier``, the ``tokens`` step and the run's token totals, ``transformer_classify``.
Every model here is made by the test itself, tiny; nothing is downloaded."""

from __future__ import annotations

import base64
import importlib.util
import json
import random
from pathlib import Path

import numpy as np
import orjson
import pytest
from conftest import page, read_run, warc_record, write_warc

from thresher.document import Document
from thresher.engines.driver import execute, summary_lines
from thresher.engines.local import LocalEngine
from thresher.filters.classify import Classify, QualityBucket, bucket_edges, bucket_of, normalize_for_fasttext
from thresher.pipeline import make_step, pipeline_from_spec
from thresher.report.data import load_plan, step_order
from thresher.run import run_and_report

GOOD_WORDS = "research method analysis evidence study results theory data experiment history".split()
BAD_WORDS = "click buy cheap casino free bonus deal offer viagra winner".split()

needs_fasttext_train = pytest.mark.skipif(
    not (importlib.util.find_spec("fasttext") and hasattr(__import__("fasttext"), "train_supervised")
         if importlib.util.find_spec("fasttext") else False),
    reason="needs a fastText binding that trains (the train extra: fasttext-numpy2-wheel)")
needs_tokenizers = pytest.mark.skipif(not importlib.util.find_spec("tokenizers"),
                                      reason="needs the tokens extra (tokenizers)")


def _doc_text(words: list[str], rng: random.Random, n: int = 40) -> str:
    lines = [" ".join(rng.choice(words) for _ in range(n // 4)) for _ in range(4)]
    return "\n".join(lines)


def _write_jsonl(path: Path, texts: list[str], prefix: str) -> Path:
    path.write_text("".join(json.dumps({"id": f"{prefix}{i}", "text": t}) + "\n" for i, t in enumerate(texts)))
    return path


@pytest.fixture(scope="module")
def sets(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("sets")
    rng = random.Random(1)
    good = [_doc_text(GOOD_WORDS, rng) for _ in range(150)]
    bad = [_doc_text(BAD_WORDS, rng) for _ in range(200)]
    return _write_jsonl(folder / "good.jsonl", good, "g"), _write_jsonl(folder / "bad.jsonl", bad, "b")


@pytest.fixture(scope="module")
def model(sets, tmp_path_factory) -> Path:
    pytest.importorskip("fasttext")
    from thresher.train import FastTextParams, train_classifier

    out = tmp_path_factory.mktemp("model") / "quality.bin"
    train_classifier([str(sets[0])], [str(sets[1])], out, params=FastTextParams(bucket=10_000),
                     log=lambda _line: None)
    return out


# -- train classifier ---------------------------------------------------------------------------------------
@needs_fasttext_train
def test_train_classifier_balances_holds_out_and_reports(sets, tmp_path, capsys):
    from thresher.train import cli

    out = tmp_path / "m.bin"
    assert cli(["classifier", "--positive", str(sets[0]), "--negative", str(sets[1]), "-o", str(out), "--bucket", "10000"]) == 0
    printed = capsys.readouterr().out
    # 150 positives, 200 negatives: balanced to 150 each, 10% of each held out
    assert "positive 150, negative 200" in printed and "balanced to 150 each" in printed
    assert "training on 135 + 135, holding out 15 + 15" in printed
    assert "precision 1.000, recall 1.000" in printed and "AUC 1.000" in printed   # separable vocabularies
    assert out.is_file()


@needs_fasttext_train
def test_train_classifier_reports_unreadable_records_and_carries_on(sets, tmp_path, capsys):
    from thresher.train import cli

    broken = tmp_path / "broken.jsonl"
    # a whole file minus its tail, cut mid-record (fastText training on a handful of documents is erratic)
    broken.write_bytes(Path(sets[0]).read_bytes()[:-150] + b'{"id": "x", "text": \n')
    out = tmp_path / "m.bin"
    assert cli(["classifier", "--positive", str(broken), "--negative", str(sets[1]), "-o", str(out), "--bucket", "10000"]) == 0
    printed = capsys.readouterr().out
    assert "skipped:" in printed and f"{broken}:" in printed and "unreadable 1" in printed and out.is_file()


@needs_fasttext_train
def test_train_classifier_reads_warc_extracts_html_and_counts_what_is_not_text(sets, tmp_path, capsys):
    from thresher.train import cli

    rng = random.Random(2)
    records = [warc_record(f"https://e.org/{i}", page(f"T{i}", [_doc_text(GOOD_WORDS, rng)] * 3)) for i in range(20)]
    records.append(warc_record("https://e.org/img.png", b"\x89PNG....", content_type="image/png"))
    warc = write_warc(tmp_path / "good.warc.gz", records)
    out = tmp_path / "m.bin"
    assert cli(["classifier", "--positive", str(warc), "--negative", str(sets[1]), "-o", str(out),
                "--bucket", "10000"]) == 0
    printed = capsys.readouterr().out
    assert "positive 20, negative 200, unreadable 0, without text 1; balanced to 20 each" in printed


def test_train_classifier_without_documents_is_a_usage_error(tmp_path, capsys):
    from thresher.train import cli

    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    some = _write_jsonl(tmp_path / "some.jsonl", ["a b c"], "s")
    assert cli(["classifier", "--positive", str(empty), "--negative", str(some), "-o", str(tmp_path / "m")]) == 2
    assert "need documents in both sets (positive: 0, negative: 1)" in capsys.readouterr().err


@needs_fasttext_train
def test_training_retries_a_spurious_nan_and_reports_a_real_divergence(monkeypatch, capsys):
    import fasttext

    from thresher.train import FastTextParams, _finite, fit

    real = fasttext.train_supervised
    calls = []

    def flaky(**kw):
        calls.append(kw)
        if len(calls) == 1:
            raise RuntimeError("Encountered NaN.")
        return real(**kw)

    monkeypatch.setattr(fasttext, "train_supervised", flaky)
    model = fit(["research data study"] * 5, ["casino bonus deal"] * 5, FastTextParams(bucket=1000))
    # the first call raised; a later one may also return a model that scores NaN (tiny sets do), which is
    # retried the same way, with the same settings
    assert len(calls) >= 2 and all(c == calls[0] for c in calls) and model.get_labels()
    assert _finite(model, ["research data study", "casino bonus deal"])
    assert "hit NaN (attempt 1 of 5)" in capsys.readouterr().err

    def diverges(**kw):
        raise RuntimeError("Encountered NaN.")

    monkeypatch.setattr(fasttext, "train_supervised", diverges)
    with pytest.raises(RuntimeError, match="diverged.*lower --lr"):
        fit(["a"], ["b"], FastTextParams(bucket=1000))


def test_roc_auc_counts_ties_half_and_matches_pairs():
    from thresher.train import binary_metrics, roc_auc

    rng = np.random.default_rng(0)
    scores = rng.integers(0, 5, 60).astype(float)   # many ties
    labels = rng.random(60) < 0.4
    pos, neg = scores[labels], scores[~labels]
    pairs = ((pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])).mean()
    assert roc_auc(scores, labels) == pytest.approx(pairs)
    m = binary_metrics(np.array([0.9, 0.8, 0.2, 0.6]), np.array([True, False, True, False]))
    assert (m["kept"], m["precision"], m["recall"]) == (3, 1 / 3, 0.5)


# -- classify -----------------------------------------------------------------------------------------------
@needs_fasttext_train
def test_classify_writes_every_label_and_drops_below_threshold(model):
    rng = random.Random(7)
    step = Classify(model=str(model), name="q", threshold=0.5)
    good = Document(id="g", text=_doc_text(GOOD_WORDS, rng))
    bad = Document(id="b", text=_doc_text(BAD_WORDS, rng))
    out = step.process_batch([good, bad])
    assert set(good.signals) == {"q_hq", "q_lq"} and good.signals["q_hq"] > 0.5
    assert good.signals["q_hq"] + good.signals["q_lq"] == pytest.approx(1, abs=1e-4)
    assert good.reason is None
    assert bad.reason.to_dict() == {"step": "classify_q", "rule": "hq", "value": bad.signals["q_hq"],
                                    "threshold": 0.5}
    assert [d.id for d in out] == ["g", "b"]


@needs_fasttext_train
def test_classify_batch_equals_one_by_one_and_the_binding_directly(model):
    import fasttext

    rng = random.Random(3)
    texts = [_doc_text(GOOD_WORDS + BAD_WORDS, rng) for _ in range(20)] + ["", "   \n  ", "x\u2028y\r\nz"]
    one = [Classify(model=str(model)).process(Document(id=str(i), text=t)).signals for i, t in enumerate(texts)]
    docs = [Document(id=str(i), text=t) for i, t in enumerate(texts)]
    Classify(model=str(model)).process_batch(docs)
    assert [d.signals for d in docs] == one
    raw = fasttext.load_model(str(model))
    for text, signals in zip(texts, one):
        labels, probs = raw.predict(normalize_for_fasttext(text), k=-1)
        assert signals == {f"quality_{lab.removeprefix('__label__')}": float(p)
                           for lab, p in zip(labels, probs)}


@needs_fasttext_train
def test_classify_with_a_batch_call_that_returns_labels_only(model):
    # fasttext-predict (the fasttext extra; not in dev, which holds the training binding) returns labels
    # only from multilinePredict: the step then scores each document alone, to the same result
    texts = ["research data study", "casino bonus deal", ""]
    expected = [Classify(model=str(model)).process(Document(id=str(i), text=t)).signals for i, t in enumerate(texts)]
    step = Classify(model=str(model))
    step.setup()
    native = step._scorer.model.f

    class LabelsOnly:
        def multilinePredict(self, *args):
            return native.multilinePredict(*args)[0]

        def __getattr__(self, name):
            return getattr(native, name)

    step._scorer.model.f = LabelsOnly()
    docs = [Document(id=str(i), text=t) for i, t in enumerate(texts)]
    step.process_batch(docs)
    assert [d.signals for d in docs] == expected


@needs_fasttext_train
def test_classify_survives_lone_surrogates(model):
    doc = Classify(model=str(model)).process(Document(id="s", text="research \ud800 data"))
    assert "quality_hq" in doc.signals


@needs_fasttext_train
def test_classify_unknown_label_and_missing_model_are_clear_errors(model, tmp_path):
    with pytest.raises(ValueError, match="no label 'good'.*its labels: .*hq"):
        Classify(model=str(model), threshold=0.5, label="good").setup()
    with pytest.raises(FileNotFoundError, match="fastText model not found"):
        Classify(model=str(tmp_path / "none.bin")).setup()


@needs_fasttext_train
def test_two_classifiers_and_the_bucket_ensemble_in_a_run(model, sets, tmp_path):
    spec = {"name": "models", "steps": [
        {"classify": {"model": str(model), "name": "a"}},
        {"classify": {"model": str(model), "name": "b"}},
        {"quality_bucket": {"signals": ["a_hq", "b_lq"], "buckets": 4, "min_bucket": 3}},
    ]}
    total = execute([str(sets[0]), str(sets[1])], tmp_path / "run", pipeline_from_spec(spec), LocalEngine(1),
                    quiet=True)
    assert total["reconciled"] and total["read"] == 350
    assert {"classify_a", "classify_b", "quality_bucket"} <= set(total["steps"])
    # the report orders the per-instance step names where the pipeline has them
    assert step_order(total, load_plan(tmp_path / "run")) == ["classify_a", "classify_b", "quality_bucket"]
    run = read_run(tmp_path / "run")
    docs = run["kept"] + run["rejected"]
    a = np.array([d["signals"]["a_hq"] for d in docs])
    b = np.array([d["signals"]["b_lq"] for d in docs])
    edges = json.loads((tmp_path / "run" / "state" / "quality_bucket" / "edges.json").read_text())
    assert edges == {"a_hq": bucket_edges(a, 4), "b_lq": bucket_edges(b, 4)}
    for d in docs:
        s = d["signals"]
        assert s["a_hq_bucket"] == bucket_of(s["a_hq"], edges["a_hq"])
        assert s["quality_bucket"] == max(s["a_hq_bucket"], s["b_lq_bucket"])
        assert (s["quality_bucket"] >= 3) == (d.get("reason") is None)
    # the max of two buckets: at least the top quarter of either classifier is kept
    assert len(run["kept"]) >= 350 // 4


@needs_fasttext_train
def test_refilter_rethresholds_a_classifier_from_its_stored_scores(model, sets, tmp_path):
    from thresher.refilter import refilter

    def spec(threshold):
        return {"name": "q", "steps": [{"classify": {"model": str(model), "name": "q", "threshold": threshold}}]}

    old = execute([str(sets[0]), str(sets[1])], tmp_path / "old", pipeline_from_spec(spec(0.5)), LocalEngine(1),
                  quiet=True)
    kept_scores = sorted(d["signals"]["q_hq"] for d in read_run(tmp_path / "old")["kept"])
    # just above the median kept score: drops at least half of what 0.5 kept (scores of these separable sets
    # often tie, all at the model's ceiling, so the median itself would drop nothing)
    stricter = float(np.nextafter(kept_scores[len(kept_scores) // 2], 2.0))
    total = refilter(tmp_path / "old", tmp_path / "new", pipeline_from_spec(spec(stricter)))
    direct = execute([str(sets[0]), str(sets[1])], tmp_path / "direct", pipeline_from_spec(spec(stricter)),
                     LocalEngine(1), quiet=True)
    assert total["kept"] == direct["kept"] < old["kept"]   # the stricter threshold dropped more
    refiltered = sorted(d["id"] for d in read_run(tmp_path / "new")["kept"])
    assert refiltered == sorted(d["id"] for d in read_run(tmp_path / "direct")["kept"])


def test_bucket_edges_are_corpus_quantiles():
    scores = np.arange(100) / 100
    edges = bucket_edges(scores, 20)
    assert len(edges) == 19
    assert [bucket_of(s, edges) for s in scores[::5]] == list(range(20))
    assert np.bincount([bucket_of(s, edges) for s in scores]).tolist() == [5] * 20
    assert bucket_of(-1.0, edges) == 0 and bucket_of(2.0, edges) == 19


def test_quality_bucket_with_fixed_edges_and_a_missing_signal(tmp_path):
    step = QualityBucket(signals=["x"], edges={"x": [0.2, 0.5]})
    step.workdir = tmp_path
    step.resolve(0, 1, [])
    step.load("00000")
    doc = Document(id="1", signals={"x": 0.5})
    assert step.filter(doc) is None and doc.signals["quality_bucket"] == 2
    with pytest.raises(ValueError, match="no signal 'x'"):
        step.filter(Document(id="2"))
    with pytest.raises(ValueError, match="none for y"):
        QualityBucket(signals=["x", "y"], edges={"x": [0.5]})


# -- tokens -------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tokenizer_json(tmp_path_factory) -> Path:
    pytest.importorskip("tokenizers")
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocab = {"[UNK]": 0, **{w: i + 1 for i, w in enumerate(GOOD_WORDS + BAD_WORDS)}}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    path = tmp_path_factory.mktemp("tok") / "tokenizer.json"
    tok.save(str(path))
    return path


@needs_tokenizers
def test_tokens_counts_with_a_tokenizer_json(tokenizer_json):
    step = make_step("tokens", {"tokenizer": str(tokenizer_json)})
    docs = [Document(id="1", text="research data, casino!"), Document(id="2", text="")]
    step.process_batch(docs)
    # Whitespace pre-tokeniser: research | data | , | casino | !
    assert [d.signals["tokens"] for d in docs] == [5, 0]
    assert make_step("tokens", {"tokenizer": str(tokenizer_json)}).process(Document(id="3", text="a b")).signals == {
        "tokens": 2}


def test_tokens_counts_with_a_local_tiktoken_file(tmp_path):
    pytest.importorskip("tiktoken")
    # a cl100k-patterned encoding of the 256 single bytes plus one merge ("ab"): nothing downloaded
    ranks = {bytes([i]): i for i in range(256)} | {b"ab": 256}
    path = tmp_path / "cl100k_base.tiktoken"
    path.write_text("".join(f"{base64.b64encode(t).decode()} {r}\n" for t, r in ranks.items()))
    step = make_step("tokens", {"tokenizer": str(path)})
    doc = step.process(Document(id="1", text="ab abc é"))
    # "ab" -> 1; " abc" -> " ", "ab", "c"; " é" -> " ", two UTF-8 bytes
    assert doc.signals["tokens"] == 1 + 3 + 3
    other = tmp_path / "mine.tiktoken"
    other.write_text(path.read_text())
    with pytest.raises(ValueError, match="named after its encoding"):
        make_step("tokens", {"tokenizer": str(other)}).setup()


def test_tokens_needs_an_existing_tokenizer_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="tokenizer not found"):
        make_step("tokens", {"tokenizer": str(tmp_path / "tokenizer.json")}).setup()


@needs_tokenizers
def test_run_totals_tokens_read_kept_and_dropped_per_step(tokenizer_json, tmp_path):
    texts = ["research data " * 5, "casino bonus", "study theory history " * 3, "x " * 400, "free deal"]
    inp = _write_jsonl(tmp_path / "in.jsonl", texts, "d")
    spec = {"name": "tok", "steps": [
        {"steps_for_tests:DropShort": {"min_words": 1, "max_words": 300}},   # drops "x " * 400 uncounted
        {"tokens": {"tokenizer": str(tokenizer_json)}},
        "exact_dedup",
        {"steps_for_tests:DropShort": {"min_words": 5}},   # drops the two short ones
    ]}
    total = run_and_report([str(inp)], tmp_path / "run", pipeline_from_spec(spec), LocalEngine(1), quiet=True)
    assert total["reconciled"] and total["read"] == 5 and total["kept"] == 2
    # counted: 10 + 2 + 9 + 2; the long document was dropped before the tokens step: not counted
    assert total["tokens"] == {"read": 23, "kept": 19, "rejected": 4, "errors": 0}
    assert total["steps"]["drop_short"]["tokens_dropped"] == 4
    summary = orjson.loads((tmp_path / "run" / "stats" / "summary.json").read_bytes())
    assert summary["tokens"] == total["tokens"]
    assert summary_lines(total)[1] == "tokens: read 23, kept 19 (82.6%), dropped 4"
    kept = read_run(tmp_path / "run")["kept"]
    assert sorted(d["signals"]["tokens"] for d in kept) == [9, 10]
    report = (tmp_path / "run" / "report.html").read_text()
    assert '<p data-stat="tokens">tokens: read 23, kept 19 (82.6%), dropped 4</p>' in report
    assert "tokens dropped, by step: <code>drop_short</code> 4" in report


def test_a_run_without_a_tokens_step_reports_no_tokens(tmp_path):
    inp = _write_jsonl(tmp_path / "in.jsonl", ["one two three"], "d")
    total = run_and_report([str(inp)], tmp_path / "run", pipeline_from_spec({"steps": ["exact_dedup"]}),
                           LocalEngine(1), quiet=True)
    assert "tokens" not in total and not any(line.startswith("tokens") for line in summary_lines(total))
    assert "data-stat=\"tokens" not in (tmp_path / "run" / "report.html").read_text()
    assert "tokens_in" not in total["steps"]["exact_dedup"]


# -- transformer_classify -----------------------------------------------------------------------------------
needs_torch = pytest.mark.skipif(
    not (importlib.util.find_spec("torch") and importlib.util.find_spec("transformers")),
    reason="needs the transformers extra (torch + transformers, several GB: not installed in CI)")


def _tiny_bert(folder: Path, num_labels: int, tokenizer_json: Path) -> Path:
    """A randomly initialised two-layer BERT and a word-level tokenizer, saved as a model directory."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, PreTrainedTokenizerFast

    torch.manual_seed(0)
    labels = {0: "bad", 1: "good"} if num_labels == 2 else {0: "LABEL_0"}
    config = BertConfig(vocab_size=32, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=64, num_labels=num_labels,
                        id2label=labels, label2id={v: k for k, v in labels.items()},
                        problem_type="regression" if num_labels == 1 else None)
    BertForSequenceClassification(config).save_pretrained(folder)
    tok = PreTrainedTokenizerFast(tokenizer_file=str(tokenizer_json), unk_token="[UNK]", pad_token="[UNK]")
    tok.save_pretrained(folder)
    return folder


@needs_torch
@needs_tokenizers
def test_transformer_regressor_scores_batched_as_one_by_one_and_truncates(tokenizer_json, tmp_path):
    folder = _tiny_bert(tmp_path / "edu", 1, tokenizer_json)
    step = make_step("transformer_classify", {"model": str(folder), "threshold": 0.0, "batch_size": 3,
                                              "max_length": 8})
    rng = random.Random(0)
    texts = [" ".join(rng.choice(GOOD_WORDS) for _ in range(rng.randint(1, 12))) for _ in range(7)]
    docs = [Document(id=str(i), text=t) for i, t in enumerate(texts)]
    step.process_batch(docs)
    for doc, text in zip(docs, texts):
        alone = step.process(Document(id="x", text=text))
        assert alone.signals["edu_score"] == pytest.approx(doc.signals["edu_score"], abs=1e-4)
        assert (doc.reason is None) == (doc.signals["edu_score"] >= 0.0)
        if doc.reason is not None:
            assert doc.reason.key == "transformer_edu.score"
    # max_length 8: words past the first 8 tokens change nothing
    long = " ".join(GOOD_WORDS[:8])
    assert step.process(Document(id="a", text=long)).signals == step.process(
        Document(id="b", text=long + " casino casino")).signals


@needs_torch
@needs_tokenizers
def test_transformer_classifier_writes_label_probabilities(tokenizer_json, tmp_path):
    folder = _tiny_bert(tmp_path / "qc", 2, tokenizer_json)
    doc = make_step("transformer_classify", {"model": str(folder), "name": "qc"}).process(
        Document(id="1", text="research data"))
    assert set(doc.signals) == {"qc_bad", "qc_good"}
    assert doc.signals["qc_bad"] + doc.signals["qc_good"] == pytest.approx(1, abs=1e-5)
    with pytest.raises(ValueError, match="threshold needs label: one of bad, good"):
        make_step("transformer_classify", {"model": str(folder), "threshold": 0.5}).setup()


def test_transformer_classify_names_a_missing_model_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a model directory"):
        make_step("transformer_classify", {"model": str(tmp_path)}).setup()


# -- thresher eval quality ----------------------------------------------------------------------------------
@needs_fasttext_train
def test_eval_quality_cross_validates_a_classifier_against_the_presets(tmp_path, capsys):
    from thresher_eval import quality

    rng = random.Random(5)
    rows = [{"text": _doc_text(GOOD_WORDS, rng), "label": 1} for _ in range(12)]
    rows += [{"text": _doc_text(BAD_WORDS, rng), "label": 0} for _ in range(10)]
    (tmp_path / "quality").mkdir()
    (tmp_path / "quality" / "dclm-human-dev.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert quality.cli(["--data", str(tmp_path), "--no-candidates", "--folds", "2", "--repeats", "1",
                        "--json", str(tmp_path / "out.json")]) == 0
    out = capsys.readouterr().out
    results = json.loads((tmp_path / "out.json").read_text())
    default_kept = results["preset default"]["kept"]
    at_half = results["fastText, DCLM labels, 2-fold CV x 1: hq >= 0.5"]
    best = results[f"fastText, DCLM labels, 2-fold CV x 1: best {default_kept}"]
    assert at_half["n"] == 22 and best["kept"] == default_kept
    assert at_half["auc"] == 1.0 and at_half["precision"] == 1.0   # separable vocabularies, even 2-fold
    assert "ROC AUC 1.000" in out and "WCXB" not in out   # no wcxb-dev/ in this data folder: no proxy rows


def test_folds_are_stratified():
    from thresher_eval.quality import _folds

    labels = [1] * 12 + [0] * 10
    fold = _folds(labels, 5, seed=0)
    for k in range(5):
        members = [y for y, f in zip(labels, fold) if f == k]
        assert sum(members) in (2, 3) and len(members) - sum(members) == 2
