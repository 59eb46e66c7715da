"""``transformer_classify``: a BERT-like classifier or regressor (FineWeb-Edu style) from a local directory.

``transformer_classify: {model: DIR, name: edu, threshold: 2.5, batch_size: 32, max_length: 512}``

- ``DIR``: a Hugging Face model directory the user has (``config.json``, the weights, and the tokenizer
  files), as ``save_pretrained`` writes it, e.g. a local copy of ``HuggingFaceFW/fineweb-edu-classifier``.
  Loaded with ``local_files_only``: nothing is downloaded. Needs the ``transformers`` extra (torch and
  transformers).
- CPU by default (``device: cuda`` for a GPU), ``threads`` torch threads per worker process (default 1:
  the engine already runs one process per core).
- Batched: the engine's batch of documents is sorted by length and run ``batch_size`` at a time, so
  short documents are not padded to the longest one.
- Truncation: each document is cut to its first ``max_length`` tokens (default 512, the length the
  FineWeb-Edu classifier was trained at; the rest of a long document is not seen).
- A regressor (one output) writes ``signals["<name>_score"]`` (the raw output; FineWeb-Edu's
  ``int_score >= 3`` is ``score >= 2.5``); a classifier writes every label's softmax probability to
  ``signals["<name>_<label>"]`` (labels from the config's ``id2label``). ``name`` defaults to the
  directory's name.
- ``threshold`` (optional): drop documents whose ``label`` signal is below it (``label``: ``score`` for a
  regressor; a label name for a classifier), with the Reason ``transformer_<name>.<label>``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from thresher.filters.classify import ModelScores, signal_prefix


class TransformerClassify(ModelScores):
    name: ClassVar[str] = "transformer_classify"
    step_prefix: ClassVar[str] = "transformer"

    def __init__(self, model: str, name: str | None = None, threshold: float | None = None,
                 label: str | None = None, batch_size: int = 32, max_length: int = 512, device: str = "cpu",
                 threads: int = 1) -> None:
        super().__init__(name or signal_prefix(model), threshold, label)
        self.model = str(model)
        self.batch_size = int(batch_size)
        self.max_length = int(max_length)
        self.device = device
        self.threads = threads
        self._loaded: tuple[Any, Any, Any] | None = None
        self.labels: list[str] = []

    def _config(self) -> dict[str, Any]:
        path = Path(self.model).expanduser() / "config.json"
        if not path.is_file():
            raise FileNotFoundError(f"transformer_classify: {path.parent} is not a model directory (no config.json)")
        return json.loads(path.read_text(encoding="utf-8"))

    def output_labels(self) -> list[str]:
        """``["score"]`` for a regressor, else the config's labels: read from config.json, without torch."""
        if not self.labels:
            config = self._config()
            id2label = config.get("id2label") or {}
            n = config.get("num_labels") or len(id2label) or 2
            regression = n == 1 or config.get("problem_type") == "regression"
            self.labels = ["score"] if regression else [str(id2label.get(str(i), f"LABEL_{i}")) for i in range(n)]
        return self.labels

    def setup(self) -> None:
        if self._loaded is not None:
            return
        path = Path(self.model).expanduser()
        self._config()
        try:
            import torch
            from transformers import AutoModelForSequenceClassification, AutoTokenizer
        except ImportError:
            raise ImportError("transformer_classify needs the transformers extra: "
                              "pip install 'thresher[transformers]'") from None
        if self.device == "cpu" and self.threads:
            torch.set_num_threads(self.threads)
        tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        model = AutoModelForSequenceClassification.from_pretrained(str(path), local_files_only=True)
        model = model.to(self.device).eval()
        config = model.config
        regression = config.num_labels == 1 or config.problem_type == "regression"
        self.labels = ["score"] if regression else [str(config.id2label[i]) for i in range(config.num_labels)]
        if self.threshold is not None:
            self.label = self.label or ("score" if regression else None)
            if self.label not in self.labels:
                raise ValueError(f"transformer_classify: threshold needs label: one of {', '.join(self.labels)}")
        self._loaded = (torch, tokenizer, model)

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_loaded": None}   # each worker loads its own model in setup()

    def scores(self, texts: list[str]) -> np.ndarray:
        """One row per text: the regressor's output, or each label's probability."""
        self.setup()
        torch, tokenizer, model = self._loaded
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), len(self.labels)))
        for start in range(0, len(order), self.batch_size):
            chunk = order[start:start + self.batch_size]
            enc = tokenizer([texts[i] for i in chunk], truncation=True, max_length=self.max_length,
                            padding=True, return_tensors="pt").to(self.device)
            with torch.inference_mode():
                logits = model(**enc).logits.float()
            if self.labels != ["score"]:
                logits = torch.softmax(logits, dim=-1)
            out[chunk] = logits.cpu().numpy()
        return out

    def score(self, texts: list[str]) -> list[dict[str, float]]:
        return [dict(zip(self.labels, map(float, row))) for row in self.scores(texts)]
