"""The environments users get describe the same pinned dependencies."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name.lower())


def _requirement_name(spec: str) -> str:
    return _norm(re.split(r"[<>=!~\[; ]", spec, maxsplit=1)[0])


def test_every_dependency_is_pinned_and_conda_matches_the_pins():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = [spec for specs in project["optional-dependencies"].values() for spec in specs]
    wanted = {_requirement_name(s) for s in project["dependencies"] + extras}
    pins = {
        _norm(name): version
        for name, version in (
            line.strip().split("==") for line in (ROOT / "requirements/constraints.txt").read_text().splitlines()
            if "==" in line
        )
    }
    assert wanted <= set(pins), f"unpinned: {sorted(wanted - set(pins))}"
    conda = {
        _norm(name): version
        for name, version in re.findall(r"^\s+-\s+([A-Za-z0-9_.-]+)=([^\s=]+)\s*$", (ROOT / "environment.yml").read_text(), re.M)
    }
    assert conda.pop("python") == "3.11"
    assert set(conda) == wanted, f"environment.yml differs: {sorted(set(conda) ^ wanted)}"
    assert {name: pins[name] for name in conda} == conda


def test_binder_uses_the_same_environment():
    binder_env = ROOT / "binder" / "environment.yml"
    assert binder_env.resolve() == (ROOT / "environment.yml").resolve()
    assert "notebooks/explorer.ipynb" in (ROOT / "binder" / "jupyter_server_config.py").read_text()


# Declared but reached only through another library, never imported by name.
USED_INDIRECTLY = {
    "zarr": "xarray's zarr engine (atlas storage)",
    "pyarrow": "pandas.read_parquet (expression matrices)",
    "bokeh": "HoloViews' plotting backend",
    "networkx": "the gene networks (compute/, landing from the networks branch)",
    "umap-learn": "the CoexMap layouts (compute/, landing from the CoexMap branch)",
}


def _imported_top_level_modules() -> set[str]:
    modules = set()
    for path in (ROOT / "atted_explore").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                modules.add(node.module.split(".")[0])
    return modules - set(sys.stdlib_module_names) - {"atted_explore", "__future__"}


def test_every_imported_package_is_declared_and_every_declared_one_used():
    declared = {
        _requirement_name(s) for s in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    }
    distributions = packages_distributions()
    imported = {_norm(distributions[module][0]) for module in _imported_top_level_modules()}
    assert imported <= declared, f"imported but not declared: {sorted(imported - declared)}"
    unused = declared - imported - set(USED_INDIRECTLY)
    assert not unused, f"declared but never imported: {sorted(unused)}"
