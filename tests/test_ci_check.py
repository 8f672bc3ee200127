"""The CI check reads test kinds from the markers recorded in the JUnit report, never from test names."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CHECK = Path(__file__).resolve().parents[1] / ".ci" / "check_skips.py"


def _case(name: str, markers: str, skipped: bool = False) -> str:
    skip = '<skipped message="no data"/>' if skipped else ""
    return (
        f'<testcase classname="tests.test_x" name="{name}">'
        f'<properties><property name="markers" value="{markers}"/></properties>{skip}</testcase>'
    )


def _check(tmp_path, *cases: str) -> subprocess.CompletedProcess:
    report = tmp_path / "junit.xml"
    report.write_text(f'<testsuites><testsuite name="pytest">{"".join(cases)}</testsuite></testsuites>')
    return subprocess.run([sys.executable, str(CHECK), str(report)], capture_output=True, text=True)


def test_every_kind_ran_and_none_skipped_passes(tmp_path):
    result = _check(
        tmp_path, _case("test_a", "browser"), _case("test_b", "notebook real_data"), _case("test_browser_named", "")
    )
    assert result.returncode == 0, result.stdout
    assert "1 browser, 1 notebook, 1 real_data" in result.stdout


def test_a_skipped_marked_test_fails_whatever_its_name(tmp_path):
    result = _check(
        tmp_path, _case("test_a", "browser"), _case("test_b", "notebook"), _case("test_plain", "real_data", skipped=True)
    )
    assert result.returncode == 1
    assert "skipped: tests.test_x::test_plain (real_data)" in result.stdout and "no real_data test ran" in result.stdout


def test_a_name_alone_does_not_count_as_a_browser_test(tmp_path):
    result = _check(tmp_path, _case("test_browser_opens", ""), _case("test_b", "notebook real_data"))
    assert result.returncode == 1 and "no browser test ran" in result.stdout


def test_an_expected_failure_is_listed_not_counted_as_skipped(tmp_path):
    xfail = (
        '<testcase classname="tests.test_x" name="test_known"><properties><property name="markers" '
        'value="browser"/></properties><skipped type="pytest.xfail" message="blank in JupyterLab"/></testcase>'
    )
    result = _check(tmp_path, xfail, _case("test_b", "notebook"), _case("test_c", "real_data"))
    assert result.returncode == 0, result.stdout
    assert "known failure (xfail) tests.test_x::test_known: blank in JupyterLab" in result.stdout
