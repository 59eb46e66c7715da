"""Fuzzing the readers: small real files (from ``sample/``), in every format and compression the readers take,
mutated the way a hostile or broken crawl would supply them; every mutated file must read without a
traceback, with nothing lost without a word.

    python tests/fuzz.py                 the CI set (300 cases, seed 0)
    python tests/fuzz.py --long          5,000 cases
    python tests/fuzz.py --cases N --seed S [--show K]

Mutations act on the file as stored (bit flips, inserted, deleted, duplicated or zeroed bytes, truncation,
garbage) or on its content before compression (the same, plus format edits: WARC Content-Length, version
and type lines, header lines; JSONL lone surrogates, invalid UTF-8, non-object ``meta``, deep nesting,
lines over the cap; ARC lengths), and bombs (files of NUL bytes, a gzip of zeros, an over-long line or
record), made small, with the readers' caps lowered to match.

A case fails when:

- ``traceback``: an exception escapes the reader (or the planner);
- ``unwritable``: a document cannot be written (lone surrogates: the writer would fail the whole shard);
- ``silent loss``: fewer documents than the file held before the mutation, and not one error;
- ``bad error``: an error without ``file:offset``;
- ``engine``: (every 5th case, run through ``execute``) a failed task, counts that do not add up, or
  ``[ok]``/a zero exit code with errors.

Only the public API is used (``plan_shards``, ``read_shard``, ``execute``), so the same script measures an
older version of thresher too: ``PYTHONPATH=/path/to/old/src python tests/fuzz.py``.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import random
import re
import shutil
import sys
import tempfile
import time
import traceback
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import zstandard

SAMPLE = Path(__file__).resolve().parent.parent / "sample"
OPTIONS = {"max_record_mb": 0.5, "max_line_mb": 0.5}   # caps lowered so that the bombs can stay small
BOMB_BYTES = 2 << 20                                   # over the caps above


# -- the real fixtures --------------------------------------------------------------------------------------
def _gzip_members(data: bytes) -> list[bytes]:
    out, pos = [], 0
    while pos < len(data):
        dec = zlib.decompressobj(31)
        out.append(dec.decompress(data[pos:]))
        pos = len(data) - len(dec.unused_data)
    return out


@dataclass
class Fixture:
    kind: str                    # warc, wet, arc, jsonl, html, text, parquet
    records: list[bytes]         # the content, record by record (one item for html/text)


def fixtures() -> list[Fixture]:
    """Small pieces of the real files in ``sample/``: a few WARC records (warcinfo, request, responses),
    WET conversions, an ARC file, JSONL documents, one HTML page, one text."""
    members = _gzip_members((SAMPLE / "dolma-sample-0000.warc.gz").read_bytes())
    warc = [members[0], *members[7:11]]  # warcinfo, then request/response pairs of 7-11 KB pages
    wet = _gzip_members((SAMPLE / "whirlwind.warc.wet.gz").read_bytes())
    arc = gzip.decompress((SAMPLE / "warcio-example.arc.gz").read_bytes())
    starts = [m.start() for m in re.finditer(rb"(?m)^\S+ \S+ \d{14} ", arc)]
    arc_records = [arc[a:b] for a, b in zip(starts, [*starts[1:], len(arc)])]
    seeds = [json.loads(line) for line in (SAMPLE / "seeds.jsonl").read_text().splitlines() if line.strip()]
    lines = []
    for i, seed in enumerate(seeds):
        lines.append(orjson.dumps({"id": seed.get("id", str(i)), "text": seed["text"][:1500], "url": f"https://seed{i}.org/",
                                   "meta": {"source": "seeds"}}) + b"\n")
    for i, rec in enumerate(wet[1:]):
        body = rec.split(b"\r\n\r\n", 1)[1].decode("utf-8", "replace")[:1200]
        lines.append(orjson.dumps({"id": f"wet-{i}", "text": body, "lang": "en"}) + b"\n")
    page = members[8].split(b"\r\n\r\n", 2)[2] if members[8].count(b"\r\n\r\n") >= 2 else members[8]
    return [Fixture("warc", warc), Fixture("wet", wet), Fixture("arc", arc_records), Fixture("jsonl", lines),
            Fixture("html", [page[:20000]]), Fixture("text", [seeds[0]["text"][:3000].encode()])]


# file name endings per fixture kind, and how records are framed: one frame per record, or one stream
CONTAINERS = {
    "warc": [".warc", ".warc.gz", ".warc.gz/stream", ".warc.zst", ".warc.lz4"],
    "wet": [".warc.wet.gz", ".wet"],
    "arc": [".arc", ".arc.gz"],
    "jsonl": [".jsonl", ".jsonl.gz", ".jsonl.zst", ".parquet"],
    "html": [".html", ".html.gz"],
    "text": [".txt", ".txt.gz"],
}


def _lz4(data: bytes) -> bytes | None:
    try:
        from fastwarc.stream_io import Lz4Writer
    except ImportError:
        return None
    out = io.BytesIO()
    writer = Lz4Writer(out)
    writer.write(data)
    writer.close() if hasattr(writer, "close") else None
    return out.getvalue() or None


def pack(records: list[bytes], container: str) -> bytes | None:
    """The records as stored under ``container``; None if this machine cannot write it (lz4, Parquet)."""
    if container == ".parquet":
        return parquet_bytes([line for line in b"".join(records).split(b"\n") if line])
    if container.endswith("/stream"):
        return gzip.compress(b"".join(records))
    if container.endswith(".gz"):
        return b"".join(gzip.compress(r) for r in records)   # a gzip member per record, as Common Crawl
    if container.endswith(".zst"):
        return b"".join(zstandard.ZstdCompressor().compress(r) for r in records)
    if container.endswith(".lz4"):
        return _lz4(b"".join(records))
    return b"".join(records)


def _utf8(text: str) -> str:
    return text.encode("utf-8", "replace").decode()


def parquet_bytes(lines: list[bytes]) -> bytes | None:
    """JSONL lines as a Parquet file: string columns, objects as JSON text (as thresher writes them)."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return None
    rows = []
    for line in lines:
        try:
            obj = json.loads(line)
            obj = obj if isinstance(obj, dict) else {"text": line.decode("utf-8", "replace")}
        except (ValueError, RecursionError):
            obj = {"text": line.decode("utf-8", "replace")}
        rows.append({_utf8(k): _utf8(v if isinstance(v, str) else json.dumps(v)) for k, v in obj.items()})
    keys = sorted({k for r in rows for k in r})
    out = io.BytesIO()
    pq.write_table(pa.table({k: pa.array([r.get(k) for r in rows], pa.string()) for k in keys}), out)
    return out.getvalue()


# -- mutations ----------------------------------------------------------------------------------------------
# Each returns (mutated bytes, the range [a, b) of the input that is gone, or None): a deletion or a cut can
# remove whole records, or merge two into one valid record, without any damage to report.
def _span(rng: random.Random, data: bytes, most: int = 200) -> tuple[int, int]:
    a = rng.randrange(len(data) + 1)
    return a, min(len(data), a + rng.randint(1, most))


def flip(rng, data):
    buf = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        if buf:
            i = rng.randrange(len(buf))
            buf[i] ^= 1 << rng.randrange(8)
    return bytes(buf), None


def insert(rng, data):
    a = rng.randrange(len(data) + 1)
    return data[:a] + rng.randbytes(rng.randint(1, 64)) + data[a:], None


def delete(rng, data):
    a, b = _span(rng, data)
    return data[:a] + data[b:], (a, b)


def duplicate(rng, data):
    a, b = _span(rng, data, 2000)
    return data[:b] + data[a:b] + data[b:], None


def zero(rng, data):
    a, b = _span(rng, data)
    return data[:a] + b"\x00" * (b - a) + data[b:], None


def truncate(rng, data):
    cut = rng.randrange(len(data) + 1)
    return data[:cut], (cut, len(data))


def garbage_around(rng, data):
    junk = rng.randbytes(rng.randint(1, 300))
    return (junk + data if rng.random() < 0.5 else data + junk), None


def lost_quietly(starts: list[int], gone: tuple[int, int] | None) -> int:
    """Records that may vanish without damage: those whose start lies in the removed range."""
    return 0 if gone is None else sum(1 for s in starts if gone[0] <= s < gone[1])


def _starts(pieces: list[bytes]) -> list[int]:
    out, pos = [], 0
    for piece in pieces:
        out.append(pos)
        pos += len(piece)
    return out


RAW = [flip, insert, delete, duplicate, zero, truncate, garbage_around]


def _one_record(rng, records, edit):
    """``records`` with one of them edited (``edit`` may return None: not applicable)."""
    order = list(range(len(records)))
    rng.shuffle(order)
    for i in order:
        new = edit(records[i])
        if new is not None and new != records[i]:
            return records[:i] + [new] + records[i + 1:]
    return None


def warc_edits(rng, records):
    def content_length(rec):
        m = re.search(rb"Content-Length: (\d+)", rec)
        if not m:
            return None
        n = int(m.group(1))
        new = rng.choice([n + rng.randint(1, 50), max(0, n - rng.randint(1, 50)), n + 10**7, 10**12,
                          b"12x", b"-5", b""])
        return rec[:m.start(1)] + (str(new).encode() if isinstance(new, int) else new) + rec[m.end(1):]

    def version(rec):
        return rec.replace(b"WARC/1.0", rng.choice([b"WARC/9.9", b"WARC/1.", b"WRC/1.0", b"warc/1.0"]), 1)

    def wtype(rec):
        return re.sub(rb"WARC-Type: \w+", rng.choice([b"WARC-Type: respon\x00e", b"WARC-Type:", b"WARC-Tpye: response"]),
                      rec, count=1)

    def header_line(rec):
        end = rec.find(b"\r\n\r\n")
        if end < 0:
            return None
        lines = rec[:end].split(b"\r\n")
        i = rng.randrange(1, len(lines)) if len(lines) > 1 else 0
        lines[i] = rng.choice([lines[i].replace(b":", b"", 1), b"\x00" * 10, lines[i] + b"\r\n" + b"x" * 300])
        return b"\r\n".join(lines) + rec[end:]

    def no_blank(rec):
        return rec.replace(b"\r\n\r\n", b"\r\n", 1)

    return _one_record(rng, records, rng.choice([content_length, version, wtype, header_line, no_blank]))


def arc_edits(rng, records):
    def length(rec):
        m = re.search(rb" (\d+)\n", rec)
        if not m:
            return None
        n = int(m.group(1))
        new = rng.choice([n + rng.randint(1, 40), max(0, n - rng.randint(1, 40)), 10**9, -3])
        return rec[:m.start(1)] + str(new).encode() + rec[m.end(1):]

    return _one_record(rng, records, length)


def jsonl_edits(rng, records):
    def surrogate(line):
        obj = json.loads(line)
        key = rng.choice(["id", "url", "lang", "text", "meta", "new"])
        obj[key] = rng.choice(["\ud800", "x\udfff", "caf\udce9"])
        return json.dumps(obj).encode() + b"\n"

    def surrogate_key(line):
        obj = json.loads(line)
        obj["k\ud800"] = 1
        return json.dumps(obj).encode() + b"\n"

    def bad_utf8(line):
        i = rng.randrange(len(line) - 1)
        return line[:i] + rng.choice([b"\xff", b"\xc3", b"\xed\xa0\x80"]) + line[i:]

    def meta_shape(line):
        obj = json.loads(line)
        obj[rng.choice(["meta", "signals"])] = rng.choice([[1, 2], "str", 5, True])
        if "signals" in obj and "meta" not in obj:
            obj["meta"] = {}
        return json.dumps(obj).encode() + b"\n"

    def deep(line):
        depth = rng.choice([300, 600, 1100, 5000])
        obj = json.loads(line)
        tail = json.dumps(obj)[1:]
        return b'{"deep": ' + b"[" * depth + b"]" * depth + b", " + tail.encode() + b"\n"

    def not_object(line):
        return rng.choice([b"[1, 2]\n", b"42\n", b'"text"\n', b"null\n"])

    def long_line(line):
        obj = json.loads(line)
        obj["text"] = "word " * (BOMB_BYTES // 5)
        return json.dumps(obj).encode() + b"\n"

    def big_number(line):
        obj = json.loads(line)
        return json.dumps(obj)[:-1].encode() + b', "n": ' + b"9" * 40 + b"}\n"

    edit = rng.choice([surrogate, surrogate_key, bad_utf8, meta_shape, deep, not_object, long_line, big_number])
    return _one_record(rng, records, edit)


EDITS = {"warc": warc_edits, "wet": warc_edits, "arc": arc_edits, "jsonl": jsonl_edits, "parquet": jsonl_edits}


def bomb(rng, kind: str, container: str) -> bytes:
    """A small bomb for this file name: NUL bytes, a compressed stream of zeros, or one over-long record."""
    choice = rng.choice(["nul", "zeros", "long"])
    if choice == "nul":
        return b"\x00" * rng.choice([1, 100, 70000])
    if choice == "zeros":
        zeros = b"\x00" * BOMB_BYTES * 2
        return zstandard.ZstdCompressor().compress(zeros) if container.endswith(".zst") else gzip.compress(zeros, 1)
    if kind in ("warc", "wet"):
        body = b"<html>" + b"a" * BOMB_BYTES
        rec = (b"WARC/1.0\r\nWARC-Type: resource\r\nWARC-Target-URI: https://bomb.org/\r\n"
               b"Content-Type: text/html\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body + b"\r\n\r\n")
        return pack([rec], container) or rec
    if kind == "arc":
        body = b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n" + b"a" * BOMB_BYTES
        rec = b"http://bomb.org/ 1.2.3.4 20080101000000 text/html " + str(len(body)).encode() + b"\n" + body + b"\n"
        return pack([rec], container) or rec
    if kind in ("html", "text"):
        return pack([b"a" * BOMB_BYTES], container) or b""
    return pack([b'{"id": "b", "text": "' + b"a" * BOMB_BYTES + b'"}\n'], container) or b""


# -- cases --------------------------------------------------------------------------------------------------
@dataclass
class Case:
    number: int
    kind: str
    container: str
    mutation: str
    path: Path
    expected: int | None = None  # documents the file holds; None: as many as the unmutated fixture
    may_lose: int = 0            # ... of which this many may vanish without an error (see lost_quietly)
    shard_bytes: int = 10**9
    engine: bool = False


@dataclass
class Outcome:
    failures: list[str] = field(default_factory=list)
    docs: int = 0
    errors: int = 0
    detail: str = ""


def make_case(number: int, rng: random.Random, fixture_list: list[Fixture], folder: Path) -> Case | None:
    fixture = rng.choice(fixture_list)
    container = rng.choice(CONTAINERS[fixture.kind])
    path = folder / f"case{number:05d}{container.split('/')[0]}"
    records = fixture.records
    expected, may_lose = None, 0
    r = rng.random()
    if r < 0.1:
        # a bomb replaces the file: whatever it holds, the reader must say something (a document or an error)
        mutation, data, expected = "bomb", bomb(rng, fixture.kind, container), 1
    elif r < 0.45 and fixture.kind in EDITS:
        edited = EDITS[fixture.kind](rng, records)
        if edited is None:
            return None
        mutation, data = "content-edit", pack(edited, container)
    elif r < 0.7:  # the file as stored
        op = rng.choice(RAW)
        data = pack(records, container)
        if data is None:
            return None
        data, gone = op(rng, data)
        per_record = container in (".warc.gz", ".warc.zst", ".arc.gz", ".jsonl.gz", ".jsonl.zst", ".warc.wet.gz") \
            or "." not in container[1:]
        frames = [pack([rec], container) for rec in records] if per_record and container != ".parquet" else []
        may_lose = lost_quietly(_starts(frames) if frames else [0], gone) if container != ".parquet" else 0
        mutation = f"file-{op.__name__}"
    else:  # the content, before compression
        op = rng.choice(RAW)
        mutated, gone = op(rng, b"".join(records))
        may_lose = lost_quietly(_starts(records if fixture.kind not in ("html", "text") else [b""]), gone)
        mutation, data = f"content-{op.__name__}", pack([mutated], container)
    if data is None:
        return None
    path.write_bytes(data)
    shard_bytes = rng.choice([10**9, 10**9, 10**9, 3000]) if container in (".warc", ".jsonl", ".warc.gz", ".warc.zst", ".warc.lz4", ".wet") else 10**9
    return Case(number, fixture.kind, container, mutation, path, expected, may_lose, shard_bytes,
                engine=number % 5 == 0)


def read_everything(path: Path, shard_bytes: int, options: dict) -> tuple[list, list]:
    from thresher.io import plan_shards, read_shard

    errors: list = []
    docs = []
    for shard in plan_shards([str(path)], shard_bytes):
        docs += list(read_shard(shard, options, errors.append))
    return docs, errors


_SOURCE = re.compile(r"^(?P<path>.+):(?P<frame>\d+)(?:\+\d+)?$")


def check(case: Case, original: dict[tuple[str, str], int], workdir: Path) -> Outcome:
    out = Outcome()
    try:
        docs, errors = read_everything(case.path, case.shard_bytes, OPTIONS)
    except Exception as exc:  # noqa: BLE001 - what the fuzzer is looking for
        out.failures.append("traceback")
        out.detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()[:300]
        return out
    out.docs, out.errors = len(docs), len(errors)
    for doc in docs:
        try:
            orjson.dumps(doc.to_dict())
        except (TypeError, orjson.JSONEncodeError) as exc:
            out.failures.append("unwritable")
            out.detail = f"{doc.source}: {exc}"
            break
    expected = case.expected if case.expected is not None else original[(case.kind, case.container)]
    if len(docs) < expected - case.may_lose and not errors:
        out.failures.append("silent loss")
        out.detail = f"{len(docs)} of {expected} documents, no error"
    for err in errors:
        m = _SOURCE.match(getattr(err, "source", "") or "")
        if not m or m.group("path") != str(case.path):
            out.failures.append("bad error")
            out.detail = f"error source {getattr(err, 'source', None)!r}"
            break
    if case.engine and (problem := check_engine(case, workdir)):
        out.failures.append("engine")
        out.detail = problem
    return out


def check_engine(case: Case, workdir: Path) -> str | None:
    """The same file through a whole run: what is wrong with its outcome, or None."""
    from thresher.engines.driver import execute, summary_lines
    from thresher.engines.local import LocalEngine
    from thresher.pipeline import pipeline_from_spec

    run = workdir / f"run{case.number}"
    spec = {"name": "fuzz", "steps": [], **({"reader": dict(OPTIONS)} if _takes_caps() else {})}
    try:
        total = execute([str(case.path)], run, pipeline_from_spec(spec), LocalEngine(1),
                        shard_bytes=case.shard_bytes, quiet=True)
    except Exception as exc:  # noqa: BLE001 - what the fuzzer is looking for
        return f"the run raised {type(exc).__name__}: {exc}"[:300]
    finally:
        shutil.rmtree(run, ignore_errors=True)
    line = summary_lines(total)[0]
    if total.get("failed_tasks"):
        return f"failed task: {total['failed_tasks'][0]}"[:300]
    if not total.get("reconciled"):
        return f"counts do not add up: {line}"
    if total["errors"] and "[ok]" in line:
        return f"[ok] despite errors: {line}"
    return None


def _takes_caps() -> bool:
    """Whether this thresher takes the readers' size options (older versions refuse nothing and read whole)."""
    try:
        from thresher.io.base import READER_OPTIONS
    except ImportError:
        return False
    return "max_line_mb" in READER_OPTIONS


def originals(fixture_list: list[Fixture], folder: Path) -> dict[tuple[str, str], int]:
    """Documents each unmutated fixture holds, per container (read by the thresher under test)."""
    counts = {}
    for fixture in fixture_list:
        for container in CONTAINERS[fixture.kind]:
            data = pack(fixture.records, container)
            if data is None:
                continue
            path = folder / f"original-{fixture.kind}{container.split('/')[0]}"
            path.write_bytes(data)
            docs, _ = read_everything(path, 10**9, OPTIONS)
            counts[(fixture.kind, container)] = len(docs)
    return counts


def run(cases: int, seed: int, show: int = 5, out=sys.stdout) -> dict:
    rng = random.Random(seed)
    fixture_list = fixtures()
    table: dict[str, Counter] = defaultdict(Counter)
    failed_cases: list[tuple[Case, Outcome]] = []
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="thresher-fuzz-") as tmp:
        folder = Path(tmp)
        original = originals(fixture_list, folder)
        made = 0
        number = 0
        while made < cases:
            number += 1
            case = make_case(number, rng, fixture_list, folder)
            if case is None or (case.kind, case.container) not in original:
                continue
            made += 1
            outcome = check(case, original, folder)
            row = f"{case.kind}{case.container.split('/')[0]}"
            table[row]["cases"] += 1
            for failure in set(outcome.failures):
                table[row][failure] += 1
            if outcome.failures:
                table[row]["failed"] += 1
                failed_cases.append((case, outcome))
            case.path.unlink(missing_ok=True)
    kinds = ["traceback", "unwritable", "silent loss", "bad error", "engine"]
    total = Counter()
    for row in table.values():
        total.update(row)
    print(f"{'file':<18}{'cases':>7}{'failed':>8}" + "".join(f"{k:>13}" for k in kinds), file=out)
    for name in sorted(table):
        row = table[name]
        print(f"{name:<18}{row['cases']:>7}{row['failed']:>8}" + "".join(f"{row[k]:>13}" for k in kinds), file=out)
    print(f"{'total':<18}{total['cases']:>7}{total['failed']:>8}" + "".join(f"{total[k]:>13}" for k in kinds), file=out)
    print(f"{time.time() - started:.1f} s, seed {seed}", file=out)
    by_mutation = Counter(c.mutation for c, _ in failed_cases)
    if by_mutation:
        print("failed cases by mutation: " + ", ".join(f"{k} {v}" for k, v in by_mutation.most_common()), file=out)
    for case, outcome in failed_cases[:show]:
        print(f"  case {case.number} {case.kind}{case.container} {case.mutation} shard_bytes={case.shard_bytes}: "
              f"{', '.join(outcome.failures)}: {outcome.detail}", file=out)
    return {"cases": total["cases"], "failed": total["failed"], **{k: total[k] for k in kinds},
            "failures": [(c.number, c.kind, c.container, c.mutation, o.failures, o.detail) for c, o in failed_cases]}


def main() -> int:
    parser = argparse.ArgumentParser(description="Fuzz thresher's readers with mutated real files.")
    parser.add_argument("--long", action="store_true", help="5,000 cases")
    parser.add_argument("--cases", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--show", type=int, default=10, help="failed cases to describe")
    args = parser.parse_args()
    result = run(args.cases or (5000 if args.long else 300), args.seed, args.show)
    return 1 if result["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
