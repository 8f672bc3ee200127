"""Dataset registry: mirror first, sha256 always, cache, clear errors offline."""

from __future__ import annotations

import dataclasses
import re
import shutil

import pandas as pd
import pytest

from atted_explore import datasets
from atted_explore.datasets import registry
from atted_explore.errors import InputError
from atted_explore.io import GeneSets


@pytest.fixture
def mirror(monkeypatch, shared_data, tmp_path):
    monkeypatch.setenv(registry.MIRROR_ENV, str(shared_data))
    monkeypatch.setenv(registry.CACHE_ENV, str(tmp_path / "cache"))
    return shared_data


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """An empty mirror and an empty cache."""
    (tmp_path / "empty-mirror").mkdir()
    monkeypatch.setenv(registry.MIRROR_ENV, str(tmp_path / "empty-mirror"))
    monkeypatch.setenv(registry.CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path


def test_every_entry_has_a_public_origin_and_matches_its_mirror_file(mirror):
    assert len(registry.REGISTRY) >= 20
    for name, item in registry.REGISTRY.items():
        assert item.url.startswith("https://"), name
        assert re.fullmatch(r"[0-9a-f]{64}", item.sha256), name
        assert registry.fetch(name) == mirror / item.path


def test_a_mirror_file_with_another_hash_is_refused(monkeypatch, tmp_path, shared_data):
    item = registry.entry("rice_samples")
    copy = tmp_path / item.path
    copy.parent.mkdir(parents=True)
    shutil.copy(shared_data / item.path, copy)
    with copy.open("a") as handle:
        handle.write("SRX0\tpollen\n")
    monkeypatch.setenv(registry.MIRROR_ENV, str(tmp_path))
    with pytest.raises(InputError, match=r"rice_samples\.tsv: sha256 .* does not match dataset 'rice_samples'"):
        registry.fetch("rice_samples")


def test_cache_is_used_when_the_mirror_lacks_a_file(offline, shared_data):
    item = registry.entry("maize_samples")
    cached = offline / "cache" / item.path
    cached.parent.mkdir(parents=True)
    shutil.copy(shared_data / item.path, cached)
    assert registry.fetch("maize_samples") == cached


def test_offline_without_mirror_names_the_dataset_and_the_variable(offline):
    with pytest.raises(InputError) as raised:
        registry.fetch("ath_go")
    assert "'ath_go'" in str(raised.value) and registry.MIRROR_ENV in str(raised.value)


def test_a_failed_download_is_a_clear_error(offline, monkeypatch):
    item = registry.entry("atted_sample_list")
    assert item.derived is None  # a verbatim copy: the registry would download it
    unreachable = dataclasses.replace(item, url="http://127.0.0.1:9/Ath-r.G25296-S1401.list.txt")
    monkeypatch.setitem(registry.REGISTRY, "atted_sample_list", unreachable)
    with pytest.raises(InputError) as raised:
        registry.fetch("atted_sample_list")
    message = str(raised.value)
    assert "'atted_sample_list'" in message and "download" in message and registry.MIRROR_ENV in message
    assert not (offline / "cache" / item.path).exists()


def test_unknown_names_list_the_known_ones():
    with pytest.raises(InputError, match="ath_hypoxia"):
        datasets.load("no_such_dataset")


def test_load_returns_ready_tables(mirror):
    aracyc = datasets.load("aracyc")
    assert isinstance(aracyc, GeneSets) and len(aracyc) > 300
    runs = datasets.load("atted_sample_list")
    assert isinstance(runs, pd.DataFrame) and len(runs) == 1409 and list(runs.columns) == ["study", "title"]
    parents = datasets.load("go_parents")
    assert list(parents.columns) == ["go_id", "parent_id", "relationship"] and len(parents) > 80_000
    rice = datasets.load("rice_expression")
    assert rice.dims == ("gene", "sample") and rice.shape == (7647, 27)
    assert set(datasets.names()) >= {"ath_hypoxia", "maize_rice_tissues", "ath_go", "go_terms", "oryzacyc", "aracyc"}


def test_building_a_recipe_offline_is_one_clear_line(offline, capsys):
    from atted_explore.cli import main

    assert main(["build", "--dataset", "ath_hypoxia", "--out", str(offline / "a.zarr")]) == 2
    message = capsys.readouterr().err
    assert message.startswith("error: dataset 'ath_hypoxia'") and registry.MIRROR_ENV in message
    assert message.count("\n") == 1 and not (offline / "a.zarr").exists()
