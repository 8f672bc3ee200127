"""Shared fixtures: the real public data folder and a small demo atlas."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(os.environ.get("ATTED_EXPLORE_MIRROR", Path(__file__).resolve().parents[2] / "shared" / "data"))
if SHARED_DATA.is_dir():
    # The dataset registry (and notebook kernels, which inherit the environment) read real data from the mirror.
    os.environ.setdefault("ATTED_EXPLORE_MIRROR", str(SHARED_DATA))


#: test kinds CI requires to run, never skipped (.ci/check_skips.py reads them from the JUnit report).
REQUIRED_KINDS = ("browser", "notebook", "real_data")


def pytest_collection_modifyitems(items):
    """Mark tests reading ``../shared/data`` as ``real_data``; record every test's markers in the JUnit report."""
    for item in items:
        if "shared_data" in item.fixturenames:
            item.add_marker(pytest.mark.real_data)
        kinds = sorted({mark.name for mark in item.iter_markers()} & set(REQUIRED_KINDS))
        item.user_properties.append(("markers", " ".join(kinds)))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``: real public files. CI always has it, so there a missing folder fails."""
    if not SHARED_DATA.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"real data folder {SHARED_DATA} is missing in CI")
        pytest.skip(f"real data folder {SHARED_DATA} not present")
    return SHARED_DATA


@pytest.fixture(scope="session")
def small_demo():
    """The ``small`` demo atlas (built once per test session; tests must not modify it)."""
    from atted_explore import datasets

    return datasets.demo(preset="small", seed=0)


@pytest.fixture(scope="session")
def analysed_atlas():
    """``tests.views_atlas.analysed_demo()`` built once per session (tests must not modify it)."""
    from .views_atlas import analysed_demo

    return analysed_demo()
