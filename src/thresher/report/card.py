"""``RUN_DIR/README.md``: a Hugging Face dataset card for the run's output.

Its YAML header names two configurations, ``kept`` (the default) and ``rejected``, with their files and
their features (the run's schema, ``thresher.schema``), so ``datasets.load_dataset(RUN_DIR)`` loads
``kept/`` with every column typed, even a key that happens to be null throughout one file. The body says
what made the data: the pipeline, its sources, counts, languages and drop reasons.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from thresher.io.writers import EXTENSIONS
from thresher.schema import Schema


class _NoAliases(yaml.SafeDumper):
    """Writes repeated data (both configs' features) out in full: no ``&id001`` anchors in the card."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


_NOT_A_LANGUAGE = {"un", "unknown", "xx", "zxx", "und", "None"}


def card_text(summary: dict[str, Any], plan: dict[str, Any], schema: Schema, writer_fmt: str,
              top: int = 10) -> str:
    spec = plan.get("pipeline") or {}
    ext = EXTENSIONS[writer_fmt]
    features = schema.features()
    languages = sorted(summary.get("languages", {}).items(), key=lambda kv: -kv[1])
    # kept/ partitioned by language (writer: partition_by): one folder per language
    kept_glob = f"kept/*/*{ext}" if (spec.get("writer") or {}).get("partition_by") else f"kept/*{ext}"
    header: dict[str, Any] = {
        "pretty_name": f"thresher run ({plan.get('pipeline_name') or summary.get('pipeline') or 'custom'})",
        "language": [code for code, _ in languages if code not in _NOT_A_LANGUAGE][:20],
        "tags": ["thresher", "web-crawl", "pretraining"],
        "configs": [
            {"config_name": "kept", "default": True, "data_files": [{"split": "train", "path": kept_glob}]},
            {"config_name": "rejected", "data_files": [{"split": "train", "path": f"rejected/*{ext}"}]},
        ],
        "dataset_info": [{"config_name": name, "features": features} for name in ("kept", "rejected")],
    }
    if not header["language"]:
        del header["language"]
    steps = plan.get("steps") or [next(iter(s)) if isinstance(s, dict) else str(s) for s in spec.get("steps") or []]
    inputs = plan.get("inputs") or []
    n_files = sum(len(t.get("shards", [])) for t in plan.get("tasks", []))
    lines = [
        "---", yaml.dump(header, Dumper=_NoAliases, sort_keys=False, allow_unicode=True).rstrip(), "---", "",
        f"# {header['pretty_name']}", "",
        "Made by thresher from raw web data: every input record is in `kept/`, in "
        "`rejected/` with the reason it was dropped, or in `errors/`.", "",
        "## Pipeline", "",
        f"`{plan.get('pipeline_name') or 'custom'}`: " + (" -> ".join(f"`{s}`" for s in steps) or "(no steps)"),
        "",
        "## Sources", "",
        *[f"- `{arg}`" for arg in inputs],
        "", f"{n_files:,} input files (or parts of files) in {len(plan.get('tasks', [])):,} tasks.", "",
        "## Counts", "",
        "| read | kept | rejected | errors |", "|---:|---:|---:|---:|",
        f"| {summary.get('read', 0):,} | {summary.get('kept', 0):,} | {summary.get('rejected', 0):,} "
        f"| {summary.get('errors', 0):,} |", "",
    ]
    if languages:
        lines += ["## Languages (kept documents)", "", "| language | documents |", "|---|---:|"]
        lines += [f"| {code} | {n:,} |" for code, n in languages[:top]] + [""]
    reasons = sorted(summary.get("reasons", {}).items(), key=lambda kv: -kv[1])
    if reasons:
        lines += ["## Drop reasons", "", "| step.rule | documents |", "|---|---:|"]
        lines += [f"| `{key}` | {n:,} |" for key, n in reasons[:top]] + [""]
    lines += ["## Loading", "", "```python", "from datasets import load_dataset",
              "kept = load_dataset(\"RUN_DIR\", split=\"train\")            # the default config: kept/",
              "rejected = load_dataset(\"RUN_DIR\", \"rejected\", split=\"train\")", "```", "",
              "Columns: see the features above, or `docs/output.md` in thresher.", ""]
    return "\n".join(lines)


def write_card(run_dir: str | Path, summary: dict[str, Any], plan: dict[str, Any], schema: Schema,
               writer_fmt: str) -> Path:
    path = Path(run_dir) / "README.md"
    tmp = path.with_name(".README.md.tmp")
    tmp.write_text(card_text(summary, plan, schema, writer_fmt), encoding="utf-8")
    tmp.replace(path)
    return path
