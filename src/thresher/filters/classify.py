"""Model-based quality: ``classify`` (a fastText model) and ``quality_bucket`` (Nemotron-CC's ensemble).

``classify: {model: PATH, name: dclm, threshold: 0.5, label: hq}``

- ``model``: a fastText supervised model (``.bin`` or ``.ftz``) from a path the user gives, e.g. one made
  by ``thresher train classifier`` or DCLM's ``openhermes_reddit_eli5_vs_rw_v2_bigram_200k_train.bin``.
  Needs the ``fasttext`` extra (or ``train``, whose binding also predicts).
- Every label's probability (fastText's, unrounded) goes to ``signals["<name>_<label>"]`` (``name`` defaults to the model file's
  stem), so a run can be re-thresholded later without re-scoring.
- ``threshold`` (optional): drop the document when the probability of ``label`` is below it, with the
  Reason ``classify_<name>.<label>`` (value: the probability, threshold: the threshold). ``label``
  defaults to ``hq``, the positive label ``thresher train classifier`` writes.
- The text is normalised as DCLM does before it is scored (and trained on): lines joined by single spaces
  (``normalize_for_fasttext``). A batch of documents is scored in one native call where the binding
  returns probabilities for a batch (the fastText training binding does; the predict-only one does not,
  and then each document is one call).

Several ``classify`` steps may run in one pipeline: each step is named ``classify_<name>``, so their
stats and reasons stay apart.

``quality_bucket: {signals: [dclm_hq, edu_score], buckets: 20, min_bucket: 10}``: the ensemble rule of
Nemotron-CC (Su et al., 2024, section 2.2). For each listed signal, every document's score is ranked over
the whole corpus and turned into an integer bucket ``0 .. buckets-1`` by the corpus' quantiles (bucket
``b`` holds the scores between the ``b/buckets`` and ``(b+1)/buckets`` quantiles: with 20 buckets, each
about 5% of the documents); the document's ``quality_bucket`` is the **maximum** of its buckets over the
signals, so a document that any one classifier rates highly ranks high. Written to
``signals["<signal>_bucket"]`` and ``signals["quality_bucket"]``; ``min_bucket`` (optional) drops documents
below it. The quantiles need every score first, so this is a global step (index the scores, one resolve
computes the edges, then each shard is bucketed); ``edges: {signal: [e1, ...]}`` gives fixed edges
instead (e.g. the ones ``state/quality_bucket/edges.json`` of an earlier run recorded), and then the
bucket of a score is the number of edges at or below it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import orjson

from thresher.atomic import save_array, write_json
from thresher.document import Document, Reason
from thresher.steps import FilterStep, GlobalStep

_NOT_WORD = re.compile(r"\W+")


def normalize_for_fasttext(text: str) -> str:
    """DCLM's normalisation, for scoring and training alike: the stripped text's lines joined by spaces
    (fastText reads one document per line)."""
    return " ".join(text.strip().splitlines())


def signal_prefix(path: str | Path) -> str:
    """``models/DCLM-hq.v2.bin`` -> ``DCLM_hq_v2``: a model's default name in signals."""
    return _NOT_WORD.sub("_", Path(path).name.split(".")[0]).strip("_") or "model"


def load_fasttext(path: str | Path) -> Any:
    """A fastText model from a path; a clear error when the path or the package is missing."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"fastText model not found: {path}")
    try:
        import fasttext
    except ImportError:
        raise ImportError("a fastText model needs the fasttext extra: pip install 'thresher[fasttext]'") from None
    return fasttext.load_model(str(path))


class FastTextScorer:
    """Every label's probability for texts, with one native call per batch where the binding allows."""

    def __init__(self, path: str | Path) -> None:
        self.model = load_fasttext(path)
        # every label, from a prediction with no words: fasttext-predict's model has no get_labels()
        self.labels = sorted(self.scores(""))

    def scores(self, text: str) -> dict[str, float]:
        try:
            labels, probs = self.model.predict(normalize_for_fasttext(text), k=-1, threshold=0.0)
        except (UnicodeError, TypeError):   # lone surrogates cannot cross into C++: replace them, keep the rest
            text = text.encode("utf-8", "replace").decode("utf-8")
            labels, probs = self.model.predict(normalize_for_fasttext(text), k=-1, threshold=0.0)
        return {label.removeprefix("__label__"): float(p) for label, p in zip(labels, probs)}

    def scores_many(self, texts: list[str]) -> list[dict[str, float]]:
        try:
            result = self.model.f.multilinePredict([normalize_for_fasttext(t) + "\n" for t in texts], -1, 0.0,
                                                   "strict")
        except (UnicodeError, TypeError):
            result = None
        # The training binding returns (labels, probabilities); the predict-only one labels alone.
        if not isinstance(result, tuple):
            return [self.scores(t) for t in texts]
        return [{label.removeprefix("__label__"): float(p) for label, p in zip(labels, probs)}
                for labels, probs in zip(*result)]


class ModelScores(FilterStep):
    """What ``classify`` and ``transformer_classify`` share: a model's score per label written to
    ``signals["<prefix>_<label>"]`` (declared for the output schema), and an optional threshold on one label
    that ``decide`` applies from the stored score (so ``thresher refilter`` needs no model). Several
    instances keep their stats and reasons apart by their names, ``<step_prefix>_<prefix>``."""

    step_prefix: ClassVar[str]

    def __init__(self, prefix: str, threshold: float | None, label: str | None) -> None:
        self.prefix = prefix
        self.name = f"{self.step_prefix}_{prefix}"   # per instance, not per class
        self.threshold = None if threshold is None else float(threshold)
        self.label = label

    def output_labels(self) -> list[str]:
        raise NotImplementedError

    def score(self, texts: list[str]) -> list[dict[str, float]]:
        """Each text's score per label; all texts scored before any document is changed."""
        raise NotImplementedError

    def signal_fields(self) -> dict[str, Any]:
        return {f"{self.prefix}_{label}": float for label in self.output_labels()}

    def rule_signals(self) -> dict[str, str]:
        return {self.label: f"{self.prefix}_{self.label}"} if self.threshold is not None and self.label else {}

    def decide(self, doc: Document) -> Reason | None:
        if self.threshold is None:
            return None
        value = doc.signals[f"{self.prefix}_{self.label}"]
        return self.reject(self.label, value, self.threshold) if value < self.threshold else None

    def _write(self, doc: Document, scores: dict[str, float]) -> None:
        for label, value in scores.items():
            doc.signals[f"{self.prefix}_{label}"] = value

    def filter(self, doc: Document) -> Reason | None:
        self._write(doc, self.score([doc.text])[0])
        return self.decide(doc)

    def process_batch(self, docs: list[Document]) -> list[Document]:
        for doc, scores in zip(docs, self.score([doc.text for doc in docs])):
            self._write(doc, scores)
            doc.reason = self.decide(doc)
        return docs


class Classify(ModelScores):
    """Score documents with a fastText model; optionally drop those below a threshold (module docstring)."""

    name: ClassVar[str] = "classify"
    step_prefix: ClassVar[str] = "classify"

    def __init__(self, model: str, name: str | None = None, threshold: float | None = None,
                 label: str = "hq") -> None:
        super().__init__(name or signal_prefix(model), threshold, label)
        self.model = str(model)
        self._labels: list[str] | None = None
        self._scorer: FastTextScorer | None = None

    def output_labels(self) -> list[str]:
        """The model's labels (the output schema needs them before any worker runs: loads it once)."""
        if self._labels is None:
            self._labels = (self._scorer or FastTextScorer(self.model)).labels
        return self._labels

    def setup(self) -> None:
        if self._scorer is None:
            self._scorer = FastTextScorer(self.model)
            self._labels = self._scorer.labels
            if self.threshold is not None and self.label not in self._labels:
                raise ValueError(f"classify: {self.model} has no label {self.label!r} to threshold "
                                 f"(its labels: {', '.join(self._labels)}); set label:")

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_scorer": None}   # each worker loads its own model in setup()

    def score(self, texts: list[str]) -> list[dict[str, float]]:
        self.setup()
        return self._scorer.scores_many(texts)


def bucket_edges(scores: np.ndarray, buckets: int) -> list[float]:
    """The ``buckets - 1`` inner quantiles of ``scores``: bucket ``b`` is ``edges[b-1] <= score < edges[b]``."""
    if len(scores) == 0:
        return []
    return [float(q) for q in np.quantile(scores, np.arange(1, buckets) / buckets)]


def bucket_of(score: float, edges: list[float]) -> int:
    """How many edges lie at or below ``score`` (0 .. len(edges))."""
    return int(np.searchsorted(edges, score, side="right"))


class QualityBucket(GlobalStep):
    """Nemotron-CC's ensemble: per signal a corpus-quantile bucket, then the maximum (module docstring)."""

    name: ClassVar[str] = "quality_bucket"

    def __init__(self, signals: list[str] | str, buckets: int = 20, min_bucket: int | None = None,
                 edges: dict[str, list[float]] | None = None) -> None:
        self.signals = [signals] if isinstance(signals, str) else list(signals)
        if not self.signals:
            raise ValueError("quality_bucket needs at least one signal (e.g. signals: [dclm_hq])")
        if buckets < 2:
            raise ValueError(f"quality_bucket: buckets must be at least 2, got {buckets}")
        self.buckets = int(buckets)
        self.min_bucket = min_bucket
        self.fixed_edges = {k: [float(e) for e in v] for k, v in (edges or {}).items()}
        missing = [s for s in self.signals if edges is not None and s not in self.fixed_edges]
        if missing:
            raise ValueError(f"quality_bucket: edges given, but none for {', '.join(missing)}")
        self._scores: dict[str, list[list[float]]] = {}
        self._edges: dict[str, list[float]] = {}

    def signal_fields(self) -> dict[str, Any]:
        return {**{f"{s}_bucket": int for s in self.signals}, "quality_bucket": int}

    def rule_signals(self) -> dict[str, str]:
        return {"bucket": "quality_bucket"} if self.min_bucket is not None else {}

    def _score(self, doc: Document, signal: str) -> float:
        try:
            return float(doc.signals[signal])
        except KeyError:
            raise ValueError(f"quality_bucket: document has no signal {signal!r}; an earlier step "
                             "(classify, ...) must write it") from None

    def index(self, doc: Document, shard: str) -> None:
        self._scores.setdefault(shard, []).append([self._score(doc, s) for s in self.signals])

    def finish_index(self, shard: str) -> None:
        rows = self._scores.pop(shard, [])
        save_array(self.workdir / f"scores-{shard}.npy",
                   np.array(rows, dtype=np.float64).reshape(len(rows), len(self.signals)))

    def resolve(self, partition: int, n_partitions: int, shards: list[str]) -> None:
        if self.fixed_edges:
            edges = {s: self.fixed_edges[s] for s in self.signals}
        else:
            parts = [np.load(self.workdir / f"scores-{shard}.npy") for shard in shards]
            scores = np.concatenate(parts) if parts else np.zeros((0, len(self.signals)))
            edges = {s: bucket_edges(scores[:, j], self.buckets) for j, s in enumerate(self.signals)}
        write_json(self.workdir / "edges.json", edges)

    def load(self, shard: str) -> None:
        self._edges = orjson.loads((self.workdir / "edges.json").read_bytes())

    def filter(self, doc: Document) -> Reason | None:
        best = 0
        for signal in self.signals:
            bucket = bucket_of(self._score(doc, signal), self._edges[signal])
            doc.signals[f"{signal}_bucket"] = bucket
            best = max(best, bucket)
        doc.signals["quality_bucket"] = best
        if self.min_bucket is not None and best < self.min_bucket:
            return self.reject("bucket", best, self.min_bucket)
        return None
