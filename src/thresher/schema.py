"""The output schema of a run, fixed by its pipeline before the first document is written.

Every file of ``kept/`` and ``rejected/`` has the same columns with the same types, so Hugging Face
``datasets``, pandas, pyarrow and DuckDB load a run's output as one table (``docs/output.md``):

    id, text, url, source: string
    meta:    struct, one field per key a reader or step declares (absent: null)
    signals: struct, likewise
    reason:  struct {step, rule, value, threshold, value_text, threshold_text, duplicate_of, similarity}

A step declares the keys it writes (``Step.meta_fields`` / ``Step.signal_fields``); that declaration is
the one source of the schema. A key nobody declared (a user's step that declares nothing, the extra fields
of JSONL input) is not lost: it goes, with its value, into the JSON text ``meta.undeclared`` (or
``signals.undeclared``).

Field types are written as Python values: ``str``, ``int``, ``float``, ``bool``, ``[T]`` (a list of T),
``{"name": T, ...}`` (a struct), or ``"json"`` (any value, stored as JSON text: for free-form mappings).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from thresher.document import Document, Reason

FieldType = Any  # str | int | float | bool | list[FieldType] | dict[str, FieldType] | "json"

UNDECLARED = "undeclared"

# What the readers (thresher.io) put in ``meta``: WARC/ARC records and plain files.
READER_META: dict[str, FieldType] = {
    "crawl_date": str, "http_status": int, "content_type": str, "charset": str, "last_modified": str,
}

# ``reason``: numbers in value/threshold, anything else (a language code, a list of words) as text.
REASON_FIELDS: dict[str, FieldType] = {
    "step": str, "rule": str, "value": float, "threshold": float, "value_text": str, "threshold_text": str,
    "duplicate_of": str, "similarity": float,
}

COLUMNS = ("id", "text", "url", "source", "meta", "signals", "reason")


def _merge(into: dict[str, FieldType], fields: dict[str, FieldType], owner: str) -> None:
    for key, ftype in fields.items():
        if key == UNDECLARED:
            raise ValueError(f"{owner}: {UNDECLARED!r} is reserved")
        if key in into and into[key] != ftype:
            raise ValueError(f"{owner} declares {key!r} as {type_name(ftype)}, another step as "
                             f"{type_name(into[key])}")
        into[key] = ftype


def type_name(ftype: FieldType) -> str:
    if isinstance(ftype, type):
        return ftype.__name__
    if isinstance(ftype, list):
        return f"list<{type_name(ftype[0])}>"
    if isinstance(ftype, dict):
        return "struct<" + ", ".join(f"{k}: {type_name(t)}" for k, t in ftype.items()) + ">"
    return str(ftype)


def _conform(value: Any, ftype: FieldType, key: str) -> Any:
    """``value`` as the declared type (None stays None). A value that cannot be is a step's bug: raise."""
    if value is None:
        return None
    try:
        if ftype == "json":
            return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
        if ftype is str:
            return value if isinstance(value, str) else str(value)
        if ftype is float:
            return float(value)
        if ftype is int:
            return int(value)
        if ftype is bool:
            return bool(value)
        if isinstance(ftype, list):
            return [_conform(x, ftype[0], key) for x in value]
        if isinstance(ftype, dict):
            return {k: _conform(value.get(k), t, f"{key}.{k}") for k, t in ftype.items()}
    except (TypeError, ValueError, AttributeError, orjson.JSONEncodeError) as exc:
        raise ValueError(f"{key}: {value!r} is not a {type_name(ftype)} ({exc})") from None
    raise ValueError(f"{key}: unknown field type {ftype!r}")


def _struct(values: dict[str, Any], fields: dict[str, FieldType], where: str) -> dict[str, Any]:
    out = {key: _conform(values.get(key), ftype, f"{where}.{key}") for key, ftype in fields.items()}
    rest = {k: v for k, v in values.items() if k not in fields}
    out[UNDECLARED] = orjson.dumps(rest, option=orjson.OPT_NON_STR_KEYS).decode() if rest else None
    return out


def _number(value: Any) -> tuple[float | None, str | None]:
    if value is None:
        return None, None
    if isinstance(value, (bool, int, float)):
        return float(value), None
    return None, value if isinstance(value, str) else orjson.dumps(value).decode()


def reason_row(reason: Reason | None) -> dict[str, Any] | None:
    if reason is None:
        return None
    value, value_text = _number(reason.value)
    threshold, threshold_text = _number(reason.threshold)
    return {"step": reason.step, "rule": reason.rule, "value": value, "threshold": threshold,
            "value_text": value_text, "threshold_text": threshold_text, "duplicate_of": reason.duplicate_of,
            "similarity": reason.similarity}


@dataclass
class Schema:
    meta: dict[str, FieldType]
    signals: dict[str, FieldType]

    @classmethod
    def of(cls, steps: Iterable[Any]) -> Schema:
        """The schema of a pipeline's output: the readers' meta keys, then each step's, in pipeline order."""
        meta: dict[str, FieldType] = dict(READER_META)
        signals: dict[str, FieldType] = {}
        for step in steps:
            _merge(meta, step.meta_fields(), f"step {step.name}")
            _merge(signals, step.signal_fields(), f"step {step.name}")
        return cls(meta, signals)

    def row(self, doc: Document) -> dict[str, Any]:
        """The output record of a document: every column and every declared key, absent ones null. Column
        order matters: ``id`` first and ``reason`` last (the report reads both without parsing a line)."""
        return {"id": doc.id, "text": doc.text, "url": doc.url, "source": doc.source,
                "meta": _struct(doc.meta, self.meta, "meta"),
                "signals": _struct(doc.signals, self.signals, "signals"),
                "reason": reason_row(doc.reason)}

    def arrow(self):
        """The pyarrow schema of the Parquet output."""
        import pyarrow as pa

        def arrow_type(ftype: FieldType):
            if ftype in (str, "json"):
                return pa.string()
            simple = {int: pa.int64(), float: pa.float64(), bool: pa.bool_()}
            if isinstance(ftype, type):
                return simple[ftype]
            if isinstance(ftype, list):
                return pa.list_(arrow_type(ftype[0]))
            return pa.struct([(k, arrow_type(t)) for k, t in ftype.items()])

        def struct(fields: dict[str, FieldType]):
            return pa.struct([(k, arrow_type(t)) for k, t in {**fields, UNDECLARED: str}.items()])

        return pa.schema([("id", pa.string()), ("text", pa.string()), ("url", pa.string()),
                          ("source", pa.string()), ("meta", struct(self.meta)),
                          ("signals", struct(self.signals)), ("reason", arrow_type(REASON_FIELDS))])

    def features(self) -> list[dict[str, Any]]:
        """The columns as a Hugging Face dataset card's ``dataset_info.features`` (YAML-ready data), so that
        ``load_dataset(RUN_DIR)`` types a key that is null in one file the same as in every other."""

        def struct(name: str, fields: dict[str, FieldType]) -> dict[str, Any]:
            return {"name": name, **_yaml_type({**fields, UNDECLARED: str})}

        return [{"name": c, "dtype": "string"} for c in ("id", "text", "url", "source")] + [
            struct("meta", self.meta), struct("signals", self.signals),
            {"name": "reason", **_yaml_type(REASON_FIELDS)}]

    def to_dict(self) -> dict[str, Any]:
        """Plain data (type names) for ``state/plan.json`` and ``docs``."""
        return {"meta": {k: type_name(t) for k, t in self.meta.items()},
                "signals": {k: type_name(t) for k, t in self.signals.items()}}


def _yaml_type(ftype: FieldType) -> dict[str, Any]:
    """A field type as the dataset card writes it (``dtype``, ``list`` or ``struct``)."""
    if ftype in (str, "json"):
        return {"dtype": "string"}
    if isinstance(ftype, type):
        return {"dtype": {int: "int64", float: "float64", bool: "bool"}[ftype]}
    if isinstance(ftype, list):
        inner = _yaml_type(ftype[0])
        return {"list": inner.get("dtype", inner.get("struct", inner))}
    return {"struct": [{"name": k, **_yaml_type(t)} for k, t in ftype.items()]}


def unpack_struct(values: dict[str, Any] | None) -> dict[str, Any]:
    """``meta`` or ``signals`` as read back from an output file: null keys dropped, ``undeclared`` unpacked."""
    values = dict(values or {})
    extra = values.pop(UNDECLARED, None)
    out = {k: v for k, v in values.items() if v is not None}
    if isinstance(extra, str) and extra:
        out.update(orjson.loads(extra))
    return out


def reason_from_row(reason: dict[str, Any] | None) -> Reason | None:
    """A ``reason`` record back as a Reason (``value_text`` where ``value`` is not a number)."""
    if not reason:
        return None

    def pick(number: str, text: str) -> Any:
        value = reason.get(number)
        if value is None:
            return reason.get(text)
        return int(value) if isinstance(value, float) and value.is_integer() else value  # stored as a double

    return Reason(step=reason["step"], rule=reason["rule"], value=pick("value", "value_text"),
                  threshold=pick("threshold", "threshold_text"), duplicate_of=reason.get("duplicate_of"),
                  similarity=reason.get("similarity"))


def document_from_row(row: dict[str, Any]) -> Document:
    """A document back from an output record."""
    return Document(id=row["id"], text=row.get("text") or "", url=row.get("url"), source=row.get("source"),
                    meta=unpack_struct(row.get("meta")), signals=unpack_struct(row.get("signals")),
                    reason=reason_from_row(row.get("reason")))
