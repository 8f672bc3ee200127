"""The package's architecture as tests: no import cycles, computation never imports plotting."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

PACKAGE = Path(__file__).resolve().parents[1] / "atted_explore"
PLOTTING = ("panel", "holoviews", "bokeh", "datashader", "colorcet")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Absolute names of every module ``path`` imports, at module level or inside functions."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module
            names.add(prefix)
            names |= {f"{prefix}.{alias.name}" for alias in node.names}
    return names


def import_graph() -> nx.DiGraph:
    """Package modules and who imports whom (a ``from . import x`` counts as importing module ``x``)."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for name, path in modules.items():
        for target in _imports(path) & set(modules):
            if target != name and not name.startswith(f"{target}."):  # a module importing its own package
                graph.add_edge(name, target)
    return graph


def test_the_import_graph_sees_real_edges():
    graph = import_graph()
    assert graph.has_edge("atted_explore.build", "atted_explore.compute.pipeline")
    assert graph.has_edge("atted_explore.views.pcview", "atted_explore.views._data")


def test_the_package_has_no_import_cycle():
    cycles = list(nx.simple_cycles(import_graph()))
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c + [c[0]]) for c in cycles)


def test_computation_and_io_never_import_plotting():
    offenders = {
        _module_name(path): sorted(n for n in _imports(path) if n.split(".")[0] in PLOTTING)
        for folder in ("compute", "io")
        for path in (PACKAGE / folder).rglob("*.py")
    }
    assert not {m: names for m, names in offenders.items() if names}
