"""The ``salessim`` command as a user types it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import salessim as ss
from salessim.cli import main

from ..conftest import SCENARIOS, short


@pytest.fixture(scope="module")
def small_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A short regional scenario written as a file, as a user would have one."""
    sc = short(ss.load_scenario(SCENARIOS / "regional.yaml"), 40.0)
    path = tmp_path_factory.mktemp("sc") / "small.yaml"
    path.write_text(sc.to_yaml(), encoding="utf-8")
    return path


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "salessim.cli", *args], capture_output=True,
                          text=True, check=False)


def test_validate_accepts_shipped_scenarios() -> None:
    files = sorted(str(p) for p in SCENARIOS.rglob("*.yaml"))
    out = _cli("validate", *files)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("ok ") == len(files)


def test_validate_reports_bad_file_with_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    text = (SCENARIOS / "regional.yaml").read_text(encoding="utf-8")
    bad.write_text(text.replace("conversion: {A: 0.90,", "conversion: {A: 1.90,"),
                   encoding="utf-8")
    out = _cli("validate", str(bad))
    assert out.returncode == 2
    assert "bad.yaml" in out.stderr and "stages[0].conversion.A" in out.stderr
    assert "Traceback" not in out.stderr


def test_run_prints_kpi_table(small_file: Path) -> None:
    out = _cli("run", str(small_file), "--replications", "3", "--seed", "1")
    assert out.returncode == 0, out.stderr
    assert "95% interval" in out.stdout
    for kpi in ("conversion_rate", "cycle_time_p90_days", "utilisation_ae", "profit"):
        assert kpi in out.stdout


def test_run_csv_matches_api_and_is_repeatable(small_file: Path, capsys: pytest.CaptureFixture[str]
                                               ) -> None:
    assert main(["run", str(small_file), "-r", "3", "-s", "5", "--format", "csv",
                 "--executor", "serial"]) == 0
    first = capsys.readouterr().out
    assert main(["run", str(small_file), "-r", "3", "-s", "5", "--format", "csv",
                 "--executor", "processes"]) == 0
    assert capsys.readouterr().out == first
    from io import StringIO
    table = pd.read_csv(StringIO(first), index_col=0)
    api = ss.run(ss.load_scenario(small_file), replications=3, seed=5).summary()
    pd.testing.assert_series_equal(table["mean"], api["mean"], check_names=False, rtol=1e-9)


def test_run_json_is_repeatable_and_complete(small_file: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(small_file), "-r", "2", "-s", "3", "-f", "json"]) == 0
    first = capsys.readouterr().out
    assert main(["run", str(small_file), "-r", "2", "-s", "3", "-f", "json"]) == 0
    assert capsys.readouterr().out == first
    doc = json.loads(first)
    assert doc["seed"] == 3 and doc["replications"] == 2
    assert set(doc["kpis"]["won"]) == {"mean", "std", "ci_low", "ci_high", "n"}


def test_run_out_writes_traceable_results(small_file: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "result"
    assert main(["run", str(small_file), "-r", "2", "-s", "9", "-f", "csv", "--out",
                 str(out)]) == 0
    capsys.readouterr()
    names = {p.name for p in out.iterdir()}
    assert {"kpis.csv", "summary.csv", "stages.csv", "reps.csv", "events.csv", "scenario.yaml",
            "run.json"} <= names
    assert not [n for n in names if n.endswith(".tmp")]
    meta = json.loads((out / "run.json").read_text())
    assert meta["seed"] == 9 and meta["replications"] == 2
    # The written scenario and seed re-create the same numbers.
    rerun = ss.run(ss.load_scenario(out / "scenario.yaml"), replications=2, seed=9)
    kpis = pd.read_csv(out / "kpis.csv", index_col=0)
    assert kpis["revenue"].to_numpy() == pytest.approx(rerun.kpis["revenue"].to_numpy())
    events = pd.read_csv(out / "events.csv")
    assert len(events) == len(rerun.events)


def test_run_missing_file_is_one_line_exit_2(tmp_path: Path) -> None:
    out = _cli("run", str(tmp_path / "nope.yaml"))
    assert out.returncode == 2
    assert "nope.yaml" in out.stderr and "not found" in out.stderr
    assert "Traceback" not in out.stderr


def test_run_refuses_bad_arguments(small_file: Path) -> None:
    out = _cli("run", str(small_file), "--replications", "0")
    assert out.returncode == 2 and "replications" in out.stderr
    out = _cli("run", str(small_file), "--seed", "abc")
    assert out.returncode == 2 and "seed" in out.stderr
