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
import pickle
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from thresher.document import Document
from thresher.io.base import READER_OPTIONS
from thresher.io.writers import EXTENSIONS, PARTITION_KEYS
from thresher.runner import run_steps
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
    "multilingual_quality": "thresher.filters.multilingual:MultilingualQuality",
    "refinedweb_quality": "thresher.filters.refinedweb:RefinedWebQuality",
    "refinedweb_lines": "thresher.filters.refinedweb:RefinedWebLines",
    "classify": "thresher.filters.classify:Classify",
    "quality_bucket": "thresher.filters.classify:QualityBucket",
    "transformer_classify": "thresher.filters.transformer:TransformerClassify",
    "tokens": "thresher.filters.tokens:Tokens",
}


def step_class(name: str) -> type[Step]:
    """A registered step, or a user's own step written as ``package.module:ClassName``.

    The latter imports ``package.module`` (a config file can run the code of any installed module, as a
    Python script can), but the class must be a ``Step``: ``os:system`` or ``subprocess:Popen`` is refused
    before anything is called."""
    if not isinstance(name, str):
        raise ValueError(f"a step name is a string, got {name!r}")
    if ":" in name:
        target = name
    else:
        try:
            target = STEP_REGISTRY[name]
        except KeyError:
            known = ", ".join(sorted(STEP_REGISTRY))
            raise ValueError(f"unknown step {name!r}; known steps: {known}") from None
    module, _, attr = target.partition(":")
    try:
        cls = getattr(importlib.import_module(module), attr)
    except ImportError as exc:
        raise ValueError(f"step {name!r}: cannot import {module!r}: {exc}") from None
    except (AttributeError, ValueError):
        raise ValueError(f"step {name!r}: module {module!r} has no {attr!r}") from None
    if not (isinstance(cls, type) and issubclass(cls, Step)):
        raise ValueError(f"step {name!r} is not a thresher step (a subclass of thresher.steps.Step)")
    return cls


def make_step(name: str, params: dict[str, Any] | None = None) -> Step:
    cls = step_class(name)
    if params is not None and not isinstance(params, dict):
        raise ValueError(f"step {name!r}: parameters are a mapping {{name: value}}, got {params!r}")
    try:
        return cls(**(params or {}))
    except Exception as exc:  # noqa: BLE001 - any constructor error is a config mistake, said in one line
        message = " ".join(str(exc).split())
        raise ValueError(f"step {name!r}: bad parameters {params!r}: {type(exc).__name__}: {message}") from None


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

    def run(self, docs: Iterable[Document], workdir: str | Path | None = None) -> Iterator[Document]:
        """Every document through the steps in this process: yields each one, in input order, kept
        (``reason is None``) or with the reason that dropped it (a step that raised on it: rule ``error``).
        Steps are set up here, once per call. Global steps (deduplication) need every document first, so
        with one in the pipeline the documents are held in memory; their state goes to ``workdir`` (a
        temporary directory if not given). Reading and writing are left to the caller."""
        return run_steps(self.steps, docs, Path(workdir) if workdir is not None else None)

    def fingerprint(self) -> str:
        """Identifies the configuration: a resumed run refuses a changed pipeline (``state/plan.json``), and
        each worker process sets a pipeline up once (``engines/tasks.py:ready_pipeline``)."""
        # pickle is deterministic for a spec (plain data); a pipeline built in code hashes its steps
        blob = pickle.dumps(self.spec if self.spec is not None else self.steps)
        return hashlib.sha256(blob).hexdigest()[:16]


def step_entries(raw_steps: list[Any]) -> list[tuple[str, dict[str, Any] | None]]:
    """The ``steps:`` list of a YAML config as (name, parameters) pairs, parameters ``None`` if not given."""
    entries = []
    for entry in raw_steps or []:
        if isinstance(entry, str):
            entries.append((entry, None))
        elif isinstance(entry, dict) and len(entry) == 1:
            (name, params), = entry.items()
            entries.append((name, params))
        else:
            raise ValueError(f"a step is a name or a one-key mapping {{name: {{params}}}}, got {entry!r}")
    return entries


def _parse_steps(raw_steps: list[Any]) -> list[Step]:
    return [make_step(name, params) for name, params in step_entries(raw_steps)]


_SPEC_KEYS = {"name", "description", "reader", "writer", "steps"}


def pipeline_from_spec(spec: dict[str, Any]) -> Pipeline:
    """A pipeline from its plain-data form; any mistake is a ValueError of one line."""
    if not isinstance(spec, dict) or not isinstance(spec.get("steps"), list):
        raise ValueError("a pipeline config is a mapping with a 'steps' list")
    unknown = sorted(map(str, set(spec) - _SPEC_KEYS))
    if unknown:
        raise ValueError(f"unknown key(s) {', '.join(unknown)} in the pipeline config; known: "
                         f"{', '.join(sorted(_SPEC_KEYS))}")
    for part in ("reader", "writer"):
        if not isinstance(spec.get(part) or {}, dict):
            raise ValueError(f"'{part}' is a mapping of options, got {spec[part]!r}")
    reader = dict(spec.get("reader") or {})
    if bad := sorted(map(str, set(reader) - READER_OPTIONS)):
        raise ValueError(f"unknown reader option(s) {', '.join(bad)}; known: {', '.join(sorted(READER_OPTIONS))}")
    writer = dict(spec.get("writer") or {})
    if writer.get("format", "jsonl.zst") not in EXTENSIONS:
        raise ValueError(f"unknown writer format {writer['format']!r}; choose from {', '.join(sorted(EXTENSIONS))}")
    if writer.get("partition_by") not in (None, *PARTITION_KEYS):
        raise ValueError(f"unknown writer partition_by {writer['partition_by']!r}; choose from "
                         f"{', '.join(sorted(PARTITION_KEYS))}")
    return Pipeline(steps=_parse_steps(spec["steps"]), name=str(spec.get("name", "custom")), reader=reader,
                    writer=writer, spec=spec)


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
        try:
            spec = yaml.safe_load(Path(config).read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:  # a !!python tag is refused here too: safe_load builds plain data only
            mark = getattr(exc, "problem_mark", None)
            where = f"{config}:{mark.line + 1}:{mark.column + 1}" if mark else str(config)
            problem = " ".join(str(getattr(exc, "problem", None) or exc).split())
            raise ValueError(f"{where}: not valid YAML ({problem})") from None
        except UnicodeDecodeError as exc:
            raise ValueError(f"{config}: not a text file (UTF-8): {exc}") from None
    else:
        spec = preset_spec(preset or "default")
    return pipeline_from_spec(spec)
