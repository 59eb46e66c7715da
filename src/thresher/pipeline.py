"""Pipelines: an ordered list of steps, written in YAML or built in Python with the same names.

YAML shape (presets live in ``thresher/presets/``)::

    name: default
    reader: {text_field: text, id_field: id, url_field: url}   # optional
    writer: {format: jsonl.zst}                               # or parquet
    steps:
      - extract: {backend: resiliparse}
      - lid                                                    # no parameters
"""

from __future__ import annotations

import hashlib
import importlib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
import yaml

from thresher.steps import GlobalStep, Step

# name -> "module:Class". Lazy, so a pipeline that does not use a heavy step never imports it.
# Add a step here when you add its module; the name is the one users write in YAML.
STEP_REGISTRY: dict[str, str] = {
    "extract": "thresher.extract.html:Extract",
    "clean": "thresher.extract.clean:Clean",
    "exact_dedup": "thresher.dedup.exact:ExactDedup",
    "minhash_dedup": "thresher.dedup.minhash:MinHashDedup",
    "line_dedup": "thresher.dedup.lines:LineDedup",
    "lid": "thresher.filters.lang:LanguageID",
    "language_filter": "thresher.filters.lang:LanguageFilter",
    "pii": "thresher.filters.pii:PIIRedact",
    "url_filter": "thresher.filters.url:URLFilter",
    "gopher_quality": "thresher.filters.gopher:GopherQuality",
    "gopher_repetition": "thresher.filters.gopher:GopherRepetition",
    "c4_lines": "thresher.filters.c4:C4Lines",
    "c4_badwords": "thresher.filters.c4:C4Badwords",
    "fineweb_quality": "thresher.filters.fineweb:FineWebQuality",
    "refinedweb_quality": "thresher.filters.refinedweb:RefinedWebQuality",
    "refinedweb_lines": "thresher.filters.refinedweb:RefinedWebLines",
    "classify": "thresher.filters.classify:Classify",
    "quality_bucket": "thresher.filters.classify:QualityBucket",
    "transformer_classify": "thresher.filters.transformer:TransformerClassify",
    "tokens": "thresher.filters.tokens:Tokens",
}


def step_class(name: str) -> type[Step]:
    """A registered step, or a user's own step written as ``package.module:ClassName``."""
    if ":" in name:
        target = name
    else:
        try:
            target = STEP_REGISTRY[name]
        except KeyError:
            known = ", ".join(sorted(STEP_REGISTRY))
            raise ValueError(f"unknown step {name!r}; known steps: {known}") from None
    module, _, cls = target.partition(":")
    return getattr(importlib.import_module(module), cls)


def make_step(name: str, params: dict[str, Any] | None = None) -> Step:
    try:
        return step_class(name)(**(params or {}))
    except TypeError as exc:
        raise ValueError(f"step {name!r}: bad parameters {params!r}: {exc}") from None


@dataclass
class Pipeline:
    """Steps plus how to read and write. ``spec`` is the plain-data form, saved in the run directory."""

    steps: list[Step]
    name: str = "custom"
    reader: dict[str, Any] = field(default_factory=dict)
    writer: dict[str, Any] = field(default_factory=dict)
    spec: dict[str, Any] | None = None

    @property
    def global_steps(self) -> list[GlobalStep]:
        return [s for s in self.steps if isinstance(s, GlobalStep)]

    def fingerprint(self) -> str:
        """Identifies the configuration, so a resumed run refuses a changed pipeline."""
        data = self.spec if self.spec is not None else {"steps": [type(s).__name__ for s in self.steps]}
        return hashlib.sha256(orjson.dumps(data, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]


def _parse_steps(raw_steps: list[Any]) -> list[Step]:
    steps = []
    for entry in raw_steps or []:
        if isinstance(entry, str):
            steps.append(make_step(entry))
        elif isinstance(entry, dict) and len(entry) == 1:
            (name, params), = entry.items()
            steps.append(make_step(name, params))
        else:
            raise ValueError(f"a step is a name or a one-key mapping {{name: {{params}}}}, got {entry!r}")
    return steps


def pipeline_from_spec(spec: dict[str, Any]) -> Pipeline:
    if not isinstance(spec, dict) or "steps" not in spec:
        raise ValueError("a pipeline config is a mapping with a 'steps' list")
    return Pipeline(steps=_parse_steps(spec["steps"]), name=spec.get("name", "custom"),
                    reader=dict(spec.get("reader") or {}), writer=dict(spec.get("writer") or {}), spec=spec)


def preset_names() -> list[str]:
    return sorted(p.name[:-5] for p in resources.files("thresher.presets").iterdir() if p.name.endswith(".yaml"))


def preset_spec(name: str) -> dict[str, Any]:
    path = resources.files("thresher.presets") / f"{name}.yaml"
    if not path.is_file():
        raise ValueError(f"unknown preset {name!r}; presets: {', '.join(preset_names())}")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def load_pipeline(preset: str | None = None, config: str | Path | None = None) -> Pipeline:
    """A pipeline from a preset name or a YAML file (exactly one; neither means the ``default`` preset)."""
    if preset and config:
        raise ValueError("give a preset or a config file, not both")
    if config:
        spec = yaml.safe_load(Path(config).read_text(encoding="utf-8"))
    else:
        spec = preset_spec(preset or "default")
    return pipeline_from_spec(spec)
