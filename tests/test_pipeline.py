"""Pipelines from YAML and presets: one name for one thing, clear errors for bad configs."""

from __future__ import annotations

import pytest

from thresher.pipeline import STEP_REGISTRY, load_pipeline, pipeline_from_spec, preset_names, step_class


def test_every_registered_step_imports():
    for name in STEP_REGISTRY:
        assert step_class(name).name == name


@pytest.mark.parametrize("name", preset_names())
def test_every_preset_loads(name):
    pipeline = load_pipeline(name)
    assert pipeline.steps and pipeline.name == name


def test_unknown_step_and_bad_params_are_clear_errors():
    with pytest.raises(ValueError, match="unknown step 'nope'"):
        pipeline_from_spec({"steps": ["nope"]})
    with pytest.raises(ValueError, match="bad parameters"):
        pipeline_from_spec({"steps": [{"extract": {"no_such_option": 1}}]})
    with pytest.raises(ValueError, match="one-key mapping"):
        pipeline_from_spec({"steps": [{"extract": {}, "exact_dedup": {}}]})


def test_config_file(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("name: mine\nsteps:\n  - extract: {backend: resiliparse}\n  - exact_dedup\n")
    pipeline = load_pipeline(config=path)
    assert [s.name for s in pipeline.steps] == ["extract", "exact_dedup"] and pipeline.global_steps
