"""``thresher run`` and ``thresher presets``; ``run()``, a run as the command makes it, for Python callers."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from thresher.io.shards import DEFAULT_SHARD_BYTES

if TYPE_CHECKING:
    from thresher.pipeline import Pipeline


def run_and_report(inputs: list[str], output: str | Path, pipeline: Pipeline, engine: Any, **options: Any) -> dict[str, Any]:
    """Run (or resume) ``pipeline`` over ``inputs`` into the run directory ``output`` (``execute``, whose
    keyword options it takes), then, when the run is complete, write its dataset card and report.html.
    Returns the run's summary. Imports inside: `thresher presets` and `--help` stay quick."""
    from thresher.engines.driver import execute
    from thresher.io.fs import local_dir
    from thresher.report import write_card_and_report

    total = execute(inputs, output, pipeline, engine, **options)
    if total["complete"]:
        write_card_and_report(local_dir(str(output)), total, pipeline)
    return total


def make_engine(name: str, workers: int | None, address: str | None = None, ray_tmp: str | None = None):
    if name == "local":
        from thresher.engines.local import LocalEngine

        return LocalEngine(workers)
    if name == "ray":
        from thresher.engines.ray import RayEngine

        return RayEngine(workers=workers, address=address, tmp_dir=ray_tmp)
    raise ValueError(f"unknown engine {name!r}")


def run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="thresher run", description=(
        "Run a pipeline over input files into RUN_DIR. Re-running the same command resumes: finished "
        "shards are skipped, unfinished ones redone. Exit code 0: every record was read and processed; "
        "1: some records or tasks failed (see RUN_DIR/errors and the summary); 2: bad usage."))
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="files, folders or globs (WARC/ARC/WET, "
                        "JSONL[.gz|.zst], Parquet, .html, .txt)")
    parser.add_argument("-o", "--output", required=True, metavar="RUN_DIR", help="the run directory")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--preset", help="a shipped pipeline (see `thresher presets`); default: default")
    which.add_argument("--config", help="a pipeline YAML file")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: all cores)")
    parser.add_argument("--engine", choices=["local", "ray"], default="local")
    parser.add_argument("--address", help="Ray cluster address (ray engine; default: start a local Ray)")
    parser.add_argument("--ray-tmp", help="Ray's temporary folder (ray engine)")
    parser.add_argument("--format", choices=["warc", "arc", "jsonl", "parquet", "html", "text"],
                        help="input format (default: from each file's name)")
    parser.add_argument("--text-field", help="JSONL/Parquet field holding the text (default: text)")
    parser.add_argument("--id-field", help="field holding the document id (default: id)")
    parser.add_argument("--url-field", help="field holding the URL (default: url)")
    parser.add_argument("--output-format", choices=["jsonl.zst", "jsonl", "parquet"],
                        help="format of kept/ and rejected/ (default: the pipeline's, else jsonl.zst)")
    parser.add_argument("--shard-mb", type=float, default=DEFAULT_SHARD_BYTES / 2**20,
                        help="split input files bigger than this into shards of about this size")
    parser.add_argument("--max-file-mb", type=float, default=None,
                        help="start a new kept/ or rejected/ file past this much text (default 512)")
    parser.add_argument("--task-mb", type=float, default=None,
                        help="group small input files into tasks of about this size (default: a quarter of "
                        "each worker's share of the input, 1 MB to --shard-mb)")
    parser.add_argument("--restart", action="store_true", help="discard RUN_DIR's earlier run and start over")
    parser.add_argument("--keep-work", action="store_true", help="keep work/ (between-phase files)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress line")
    args = parser.parse_args(argv)

    from thresher.engines.driver import RunError, summary_lines
    from thresher.pipeline import load_pipeline
    from thresher.rundir import run_ok

    try:
        pipeline = load_pipeline(args.preset, args.config)
        for opt in ("text_field", "id_field", "url_field"):
            if getattr(args, opt):
                pipeline.reader[opt] = getattr(args, opt)
        if args.output_format:
            pipeline.writer["format"] = args.output_format
        if args.max_file_mb:
            pipeline.writer["max_file_mb"] = args.max_file_mb
        from thresher.io.writers import check_format

        check_format(pipeline.writer.get("format", "jsonl.zst"))
        engine = make_engine(args.engine, args.workers, args.address, args.ray_tmp)
    except (ValueError, OSError, ImportError) as exc:
        print(f"thresher run: {exc}", file=sys.stderr)
        return 2
    try:
        total = run_and_report(args.inputs, args.output, pipeline, engine, fmt=args.format,
                               shard_bytes=int(args.shard_mb * 2**20), restart=args.restart, quiet=args.quiet,
                               keep_work=args.keep_work,
                               group_bytes=int(args.task_mb * 2**20) if args.task_mb else None)
    except (RunError, FileNotFoundError, ValueError) as exc:
        print(f"thresher run: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # the run directory's disk: full, read-only, gone
        print(f"thresher run: {exc.strerror or exc}: {exc.filename or args.output}", file=sys.stderr)
        return 1
    finally:
        engine.close()
    for line in summary_lines(total):
        print(line)
    if (report := Path(args.output) / "report.html").exists():
        print(f"report: {report}")
    if total["errors"]:
        print(f"{total['errors']} records failed: see {args.output}/errors/", file=sys.stderr)
    if total["failed_tasks"]:
        print(f"{len(total['failed_tasks'])} tasks failed; re-run the same command to retry them",
              file=sys.stderr)
    return 0 if run_ok(total) else 1


def presets_cli(argv: list[str]) -> int:
    from thresher.pipeline import preset_names

    if argv and argv[0] not in ("-h", "--help"):
        from importlib import resources

        path = resources.files("thresher.presets") / f"{argv[0]}.yaml"
        if not path.is_file():
            print(f"thresher presets: no preset {argv[0]!r}", file=sys.stderr)
            return 2
        print(path.read_text(encoding="utf-8"), end="")
        return 0
    print("usage: thresher presets [NAME]\n\npresets:")
    for name in preset_names():
        print(f"  {name}")
    return 0
