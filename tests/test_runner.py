"""``Pipeline.run`` (thresher.runner): the step contract in one process, without a run directory."""

from __future__ import annotations

import sys
from pathlib import Path

from thresher import load_pipeline
from thresher.document import Document
from thresher.pipeline import pipeline_from_spec

TESTS = Path(__file__).parent
GOOD = " ".join(["The committee met on Tuesday and agreed to publish the annual report in the spring."] * 12)


def test_run_yields_every_document_kept_or_with_its_reason():
    docs = [Document(id="good", text=GOOD), Document(id="short", text="too short")]
    out = list(load_pipeline("gopher").run(docs))
    assert [d.id for d in out] == ["good", "short"]
    assert out[1].reason is not None and out[1].reason.step.startswith("gopher")


def test_run_includes_global_steps_in_memory(tmp_path):
    docs = [Document(id=str(i), text=GOOD if i != 2 else "another text entirely, kept") for i in range(4)]
    out = list(pipeline_from_spec({"steps": ["exact_dedup"]}).run(docs, workdir=tmp_path))
    assert [d.reason is None for d in out] == [True, False, True, False]
    assert out[1].reason.duplicate_of == "0"


def test_run_batches_and_a_raise_costs_one_document():
    sys.path.insert(0, str(TESTS))
    texts = ["BOOM" if i == 40 else "DROP me" if i == 7 else f"doc {i}" for i in range(70)]
    pipeline = pipeline_from_spec({"steps": ["steps_for_tests:BatchUpper"]})
    out = list(pipeline.run(Document(id=str(i), text=t) for i, t in enumerate(texts)))
    assert [d.id for d in out] == [str(i) for i in range(70)]
    assert out[40].reason.rule == "error" and out[7].reason.rule == "dropped"
    kept = [d for d in out if d.reason is None]
    assert len(kept) == 68 and all(d.text == d.text.upper() for d in kept)
    assert max(d.signals["batch_size"] for d in kept) > 1
