"""The environments users get describe the same pinned dependencies."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name.lower())


def _requirement_name(spec: str) -> str:
    return _norm(re.split(r"[<>=!~\[; ]", spec, maxsplit=1)[0])


def test_every_dependency_is_pinned_and_conda_matches_the_pins():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_requirement_name(s) for s in project["dependencies"] + project["optional-dependencies"]["test"]}
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
