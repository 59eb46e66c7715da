"""Pipelines from YAML and presets: one name for one thing, clear errors for bad configs."""

from __future__ import annotations

import subprocess
import sys

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


@pytest.mark.parametrize("step", ["os:system", "subprocess:Popen", "builtins:print", "thresher.document:Document"])
def test_a_module_class_step_must_be_a_step_and_nothing_is_called_before_the_check(tmp_path, step):
    marker = tmp_path / "ran"
    path = tmp_path / "evil.yaml"
    path.write_text(f"steps:\n  - {step}: {{args: 'touch {marker}', shell: true}}\n")
    with pytest.raises(ValueError, match="is not a thresher step"):
        load_pipeline(config=path)
    assert not marker.exists()


def test_yaml_tags_cannot_construct_objects(tmp_path):
    marker = tmp_path / "ran"
    path = tmp_path / "tag.yaml"
    path.write_text(f"steps: !!python/object/apply:os.system ['touch {marker}']\n")
    with pytest.raises(ValueError, match="not valid YAML") as err:
        load_pipeline(config=path)
    assert not marker.exists() and "\n" not in str(err.value)


@pytest.mark.parametrize("text, message", [
    ("steps: extract\n", "'steps' list"),
    ("- extract\n", "'steps' list"),
    ("steps: [extract]\nstep: [lid]\n", "unknown key"),
    ("steps:\n  - extract: [1, 2]\n", "parameters are a mapping"),
    ("steps:\n  - extract: {backend: nope}\n", "bad parameters"),
    ("steps: [no_such_module_xyz:Step]\n", "cannot import"),
    ("steps: ['thresher.steps:Nope']\n", "has no 'Nope'"),
    ("steps: [42]\n", "a step is a name"),
    ("steps: [{42: {}}]\n", "a step name is a string"),
    ("steps: [extract]\nreader: {text_feild: body}\n", "unknown reader option"),
    ("steps: [extract]\nreader: text\n", "'reader' is a mapping"),
    ("steps: [extract]\nwriter: {format: csv}\n", "unknown writer format"),
    ("steps: [extract\n", "not valid YAML"),
    ("\x00\x01\x02", "not valid YAML"),
])
def test_every_config_mistake_is_one_line(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ValueError, match=message) as err:
        load_pipeline(config=path)
    assert "\n" not in str(err.value)


def test_a_bad_config_is_exit_code_2_and_one_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("steps: [os:system]\n")
    (tmp_path / "in.jsonl").write_text('{"text": "x"}\n')
    result = subprocess.run([sys.executable, "-m", "thresher", "run", str(tmp_path / "in.jsonl"), "-o",
                             str(tmp_path / "run"), "--config", str(path)], capture_output=True, text=True)
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "is not a thresher step" in result.stderr
