"""The command line: info describes an atlas; bad input is one clear line with a non-zero exit."""

from __future__ import annotations

import subprocess
import sys
import time

from atted_explore import save_atlas
from atted_explore.cli import main

from .factories import make_atlas


def test_info_describes_species_counts_and_computed_steps(tmp_path, capsys):
    path = save_atlas(make_atlas(n_genes=7, n_samples=4), tmp_path / "atlas.zarr")
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "atlas: test atlas" in out
    assert "Ath-r" in out and "Arabidopsis thaliana" in out
    row = next(line for line in out.splitlines() if line.strip().startswith("Ath-r"))
    assert row.split()[-5:-3] == ["7", "4"]  # genes, samples
    assert "expression; localization; 2 gene sets" in out
    assert "orthologs: 1 groups, 2 memberships" in out


def test_errors_are_one_line_and_exit_2(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "atted_explore.cli", "info", str(tmp_path / "nope.zarr")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert result.stderr.startswith("error: ") and "nope.zarr" in result.stderr
    assert "Traceback" not in result.stderr


def test_prepared_demo_is_reused_while_its_recipe_is_unchanged(tmp_path):
    from atted_explore.io.store import stored_attrs
    from atted_explore.datasets.prepared import prepared_demo

    path = prepared_demo(tmp_path / "demo.zarr", preset="small", n_bags=5, progress=False)
    stamp = (path / "zarr.json").stat().st_mtime_ns
    assert prepared_demo(path, preset="small", n_bags=5, progress=False) == path
    assert (path / "zarr.json").stat().st_mtime_ns == stamp
    prepared_demo(path, preset="small", n_bags=6, progress=False)
    assert stored_attrs(path)["demo_recipe"]["n_bags"] == 6


def test_prepared_demo_is_rebuilt_when_the_engine_code_changes(tmp_path, monkeypatch):
    from atted_explore.io.store import stored_attrs
    from atted_explore.datasets import prepared

    engine = [tmp_path / "indices.py", *prepared.engine_files()]
    engine[0].write_text("def coexpression(): ...\n")
    monkeypatch.setattr(prepared, "engine_files", lambda: engine)
    path = prepared.prepared_demo(tmp_path / "demo.zarr", preset="small", n_bags=5, progress=False)
    key = stored_attrs(path)["demo_recipe"]["engine"]
    stamp = (path / "zarr.json").stat().st_mtime_ns
    assert prepared.prepared_demo(path, preset="small", n_bags=5, progress=False) == path
    assert (path / "zarr.json").stat().st_mtime_ns == stamp  # same code: reused
    engine[0].write_text("def coexpression(): return 1\n")  # an engine change, same package version
    prepared.prepared_demo(path, preset="small", n_bags=5, progress=False)
    assert stored_attrs(path)["demo_recipe"]["engine"] != key
    assert (path / "zarr.json").stat().st_mtime_ns != stamp


def test_demo_serves_the_small_atlas_without_maps_first_then_builds_the_full_one(tmp_path, monkeypatch):
    """The first page does not wait for the full demo nor for UMAPs: the small atlas is built (no maps)
    before the full build starts, and it is what the server gets."""
    from atted_explore import app
    from atted_explore.datasets import prepared

    events = []
    monkeypatch.setattr(prepared, "data_dir", lambda: tmp_path)
    monkeypatch.setattr(prepared, "prepared_demo", lambda path=None, **kw: events.append(("build", kw)) or tmp_path / "s")
    monkeypatch.setattr(app, "BackgroundBuild", lambda command, path, what: events.append(("background", command)))
    monkeypatch.setattr(app, "serve", lambda atlas, **kw: events.append(("serve", atlas)))
    monkeypatch.setattr("atted_explore.cli.open_atlas", lambda path: f"opened {path}")
    assert main(["demo", "--port", "5999"]) == 0
    assert [kind for kind, _ in events] == ["build", "background", "serve"]
    assert events[0][1]["preset"] == "small" and events[0][1]["coexmaps"] is False
    assert "--no-serve" in events[1][1] and events[1][1][events[1][1].index("--preset") + 1] == "default"
    assert events[2][1] == f"opened {tmp_path / 's'}"


def test_demo_serves_a_current_full_atlas_directly(tmp_path, monkeypatch):
    from atted_explore.datasets import prepared

    path = prepared.prepared_demo(tmp_path / "demo.zarr", preset="small", n_bags=3, coexmaps=False, progress=False)
    assert prepared.demo_is_current(path, preset="small", n_bags=3, coexmaps=False)
    assert not prepared.demo_is_current(path, preset="small", n_bags=3)  # the recipe names the maps
    from atted_explore import open_atlas
    from atted_explore.views import Explorer

    assert "quick demo atlas has no CoexMaps" in Explorer(open_atlas(path))._coex_map_tab().object
    served = []
    monkeypatch.setattr("atted_explore.cli._serve", lambda atlas, args: served.append(atlas))
    monkeypatch.setattr(prepared, "demo_is_current", lambda *a, **kw: True)
    monkeypatch.setattr(prepared, "prepared_demo", lambda out, **kw: out)
    assert main(["demo", "--out", str(path)]) == 0
    assert served == [path]


def until_ended(build, limit_s: float = 60) -> str:
    """The build's state once it is no longer running (or after ``limit_s``)."""
    deadline = time.monotonic() + limit_s
    while build.state == "running" and time.monotonic() < deadline:
        time.sleep(0.1)
    return build.state


def test_a_background_build_waits_for_its_start_and_runs_once(tmp_path):
    from atted_explore.app import BackgroundBuild

    marker = tmp_path / "runs"
    command = [sys.executable, "-c", f"open({str(marker)!r}, 'a').write('run\\n')"]
    build = BackgroundBuild(command, tmp_path / "atlas.zarr", "the full demo atlas")
    assert build.state == "waiting" and "starts once this page is shown" in build.message()
    time.sleep(0.1)
    assert build.state == "waiting" and not marker.exists()
    build.start()
    assert until_ended(build) == "done"
    build.start()  # a second page's onload: nothing new runs
    assert until_ended(build) == "done" and marker.read_text() == "run\n"
    assert build.message() == "The full demo atlas is ready: reload the page to open it."
