"""The shape of the code: the import graph between thresher's packages has no cycle, the engines do not
import the report, and the product never imports the training and evaluation package (``thresher_eval``)
or what only it needs (scikit-learn, lightgbm, jusText). ``python tests/test_structure.py`` prints the
graph, as docs/architecture.md shows it.

A node is a subpackage of ``src/thresher`` (``io``, ``extract``, ...) or a top-level module (``pipeline``,
``runner``, ...); ``thresher`` is the package's ``__init__``. Imports are read with ``ast``, those inside
functions included: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
PRODUCT = SRC / "thresher"
# what only training and evaluation need: the product must run without them
NOT_IN_PRODUCT = ("thresher_eval", "sklearn", "lightgbm", "justext")
# layering beyond "no cycle": node -> nodes it must not import
FORBIDDEN = {"engines": {"report"}}  # the command writes the report after the run, not the engine


def _node(parts: tuple[str, ...]) -> str:
    """``("thresher", "io", "warc")`` -> ``io``; ``("thresher", "__init__")`` -> ``thresher``."""
    return parts[1] if len(parts) > 1 and parts[1] != "__init__" else "thresher"


def _imports(path: Path, root: Path = SRC) -> list[tuple[str, ...]]:
    """Every module ``path`` (under ``root``) imports, as dotted parts (``from thresher import x`` gives
    ``thresher.x``; relative imports resolved)."""
    package = path.relative_to(root).parts[:-1]  # a module's package; an __init__'s own
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [tuple(alias.name.split(".")) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else ()
            module = (*base, *(node.module.split(".") if node.module else ()))
            out += [(*module, alias.name) for alias in node.names]
    return out


def product_modules() -> list[Path]:
    return sorted(PRODUCT.rglob("*.py"))


def _is_node(parts: tuple[str, ...]) -> bool:
    """Whether ``thresher.X`` names a subpackage or module (``from thresher import __version__`` does not)."""
    return len(parts) > 1 and ((PRODUCT / parts[1]).is_dir() or (PRODUCT / f"{parts[1]}.py").is_file())


def package_graph() -> dict[str, set[str]]:
    """node -> the nodes it imports (itself left out)."""
    graph: dict[str, set[str]] = {}
    for path in product_modules():
        src = _node(path.relative_to(SRC).with_suffix("").parts)
        graph.setdefault(src, set())
        for parts in _imports(path):
            if parts[0] != "thresher":
                continue
            dst = _node(parts) if _is_node(parts) else "thresher"
            if dst != src:
                graph[src].add(dst)
    return graph


def format_graph(graph: dict[str, set[str]]) -> str:
    """One line per node that imports others: ``engines -> atomic document ...``."""
    width = max(map(len, graph))
    return "\n".join(f"{src:<{width}} -> {' '.join(sorted(dsts))}" for src, dsts in sorted(graph.items()) if dsts)


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle as a path (``[a, b, a]``), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_no_cycle_between_packages():
    graph = package_graph()
    cycle = find_cycle(graph)
    assert cycle is None, f"import cycle {' -> '.join(cycle)}; the graph:\n{format_graph(graph)}"


def test_layering_rules():
    graph = package_graph()
    broken = [f"{src} -> {dst}" for src, banned in FORBIDDEN.items() for dst in sorted(graph.get(src, set()) & banned)]
    assert not broken, f"forbidden imports: {', '.join(broken)}; the graph:\n{format_graph(graph)}"


def test_the_product_never_imports_training_or_evaluation_code():
    found = [f"{path.relative_to(SRC)} imports {'.'.join(parts)}"
             for path in product_modules() for parts in _imports(path) if parts[0] in NOT_IN_PRODUCT]
    assert not found, "\n".join(found)


def test_graph_helpers_see_lazy_and_relative_imports(tmp_path):
    path = tmp_path / "thresher" / "engines" / "probe.py"
    path.parent.mkdir(parents=True)
    path.write_text("def f():\n    from thresher.report import html\n\nfrom . import sibling\nimport thresher.io.fs\n",
                    encoding="utf-8")
    assert set(_imports(path, tmp_path)) == {("thresher", "report", "html"), ("thresher", "engines", "sibling"),
                                             ("thresher", "io", "fs")}
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_architecture_doc_shows_the_current_graph():
    doc = (SRC.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert format_graph(package_graph()) in doc, (
        "docs/architecture.md's package import graph is out of date; `python tests/test_structure.py` prints "
        "the current one:\n" + format_graph(package_graph()))


def test_a_run_imports_no_training_or_evaluation_package(tmp_path):
    """`import thresher.cli` and `thresher run` on the bundled sample (default preset) leave scikit-learn,
    lightgbm, jusText and thresher_eval unimported: the product runs where they are not installed."""
    sample = SRC.parent / "sample"
    probe = (
        "import sys\n"
        "import thresher.cli\n"
        f"banned = {NOT_IN_PRODUCT!r}\n"
        "def loaded():\n"
        "    return sorted(m for m in sys.modules if m.split('.')[0] in banned)\n"
        "assert not loaded(), ('import thresher.cli', loaded())\n"
        f"code = thresher.cli.main(['run', {str(sample)!r}, '-o', {str(tmp_path / 'run')!r}, '--workers', '1', '-q'])\n"
        "assert code == 0, code\n"
        "assert not loaded(), ('thresher run', loaded())\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "run" / "report.html").exists() and (tmp_path / "run" / "README.md").exists()


def test_thresher_eval_without_its_extra_says_which_to_install():
    """With scikit-learn missing (``sys.modules[name] = None`` makes it unimportable), ``thresher eval clean``
    names the extra and exits 2, without a traceback."""
    probe = ("import sys\nsys.modules['sklearn'] = None\nfrom thresher.cli import main\n"
             "sys.exit(main(['eval', 'clean', '--data', 'nowhere']))\n")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "pip install 'thresher[eval]'" in result.stderr and "Traceback" not in result.stderr


if __name__ == "__main__":
    print(format_graph(package_graph()))
