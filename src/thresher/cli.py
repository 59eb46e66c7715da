"""The ``thresher`` command. Each subcommand lives next to the code it drives and takes its own argv;
this table only routes, so adding a command is one line here and a ``cli(argv) -> int`` function there."""

from __future__ import annotations

import importlib
import os
import sys

import yaml

# subcommand -> ("module:function", one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("thresher.run:run_cli", "run a pipeline over input files into a run directory (resumable)"),
    "presets": ("thresher.run:presets_cli", "list the shipped presets, or print one"),
    "dedup": ("thresher.dedup.cli:cli", "show what MinHash dedup settings remove (--explain) before a run"),
    "clean": ("thresher.extract.clean:cli", "clean one page of extracted text: body, title, byline, comments (--json, --labels)"),
    "train": ("thresher.train:cli", "train a fastText classifier from positive and negative documents (train classifier)"),
    "eval": ("thresher_eval.cli:cli", "score a component on a labelled data set (thresher eval NAME --help)"),
    "refilter": ("thresher.refilter:cli", "decide a finished run again under new filter thresholds, from its stored signals"),
    "report": ("thresher.report.cli:cli", "(re)build a run directory's report.html"),
    "inspect": ("thresher.report.inspect:cli", "show why a document was kept or dropped, a rule's removals, the funnel"),
}


def _usage() -> str:
    width = max(len(name) for name in COMMANDS)
    lines = ["usage: thresher COMMAND [ARGS...]", "", "commands:"]
    lines += [f"  {name:<{width}}  {help_}" for name, (_, help_) in COMMANDS.items()]
    lines += ["", "`thresher COMMAND --help` for a command's options."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(_usage())
        return 0
    if argv[0] in ("-V", "--version"):
        from thresher import __version__

        print(f"thresher {__version__}")
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"thresher: unknown command {name!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    module, _, func = COMMANDS[name][0].partition(":")
    try:
        code = int(getattr(importlib.import_module(module), func)(rest) or 0)
        sys.stdout.flush()  # inside the try: a reader gone by now is also a broken pipe
        return code
    except BrokenPipeError:
        # the reader of our output went away (`| head`): stop quietly, as command-line tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except KeyboardInterrupt:
        print(f"thresher {name}: interrupted", file=sys.stderr)
        return 130
    except (OSError, ImportError, ValueError, yaml.YAMLError) as exc:
        # a missing file, a missing extra, a malformed config: one line, not a traceback
        print(f"thresher {name}: {one_line(exc)}", file=sys.stderr)
        return 2


def one_line(exc: BaseException) -> str:
    """An error as one line: what it is about and why (file-system errors name their file)."""
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        return f"{exc.filename}: {exc.strerror}"
    return " ".join(str(exc).split()) or type(exc).__name__
