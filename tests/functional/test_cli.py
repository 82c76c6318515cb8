"""The ``salessim`` command as a user types it."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import salessim as ss
import salessim.executors
from salessim.cli import main

from ..conftest import SCENARIOS, scenario_files


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "salessim.cli", *args], capture_output=True,
                          text=True, check=False)


@pytest.mark.slow
def test_validate_accepts_shipped_scenarios() -> None:
    files = [str(p) for p in scenario_files()]
    out = _cli("validate", *files)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("ok ") == len(files)


@pytest.mark.slow
def test_validate_reports_bad_file_with_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    text = (SCENARIOS / "regional.yaml").read_text(encoding="utf-8")
    broken = re.sub(r"conversion: \{A: 0\.\d+,", "conversion: {A: 1.90,", text, count=1)
    assert broken != text, "the first stage's conversion of A leads is not where expected"
    bad.write_text(broken, encoding="utf-8")
    out = _cli("validate", str(bad))
    assert out.returncode == 2
    assert "bad.yaml" in out.stderr and "stages[0].conversion.A" in out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.slow
def test_run_prints_kpi_table(small_file: Path) -> None:
    out = _cli("run", str(small_file), "--replications", "3", "--seed", "1")
    assert out.returncode == 0, out.stderr
    assert "95% interval" in out.stdout
    for kpi in ("conversion_rate", "cycle_time_p90_days", "utilisation_ae", "profit"):
        assert kpi in out.stdout


def test_keep_raw_is_recorded_in_the_store_and_needs_one(
        small_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "full.sqlite"
    assert main(["run", str(small_file), "-r", "2", "-s", "5", "--executor", "serial",
                 "-q", "--store", str(store), "--keep-raw"]) == 0
    with ss.Store(store) as kept:
        assert kept.keep_raw
    with sqlite3.connect(store) as db:
        assert db.execute("SELECT COUNT(raw) FROM replications").fetchone()[0] == 2
    capsys.readouterr()
    assert main(["run", str(small_file), "-r", "2", "--keep-raw"]) == 2
    assert "--keep-raw needs --store FILE" in capsys.readouterr().err


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
def test_run_missing_file_is_one_line_exit_2(tmp_path: Path) -> None:
    out = _cli("run", str(tmp_path / "nope.yaml"))
    assert out.returncode == 2
    assert "nope.yaml" in out.stderr and "not found" in out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.slow
def test_run_refuses_bad_arguments(small_file: Path) -> None:
    out = _cli("run", str(small_file), "--replications", "0")
    assert out.returncode == 2 and "replications" in out.stderr
    out = _cli("run", str(small_file), "--seed", "abc")
    assert out.returncode == 2 and "seed" in out.stderr


# ---- compare and sweep -----------------------------------------------------------------


@pytest.fixture(scope="module")
def variant_file(small_file: Path) -> Path:
    path = small_file.parent / "pre-review.yaml"
    path.write_text("extends: small.yaml\nstages:\n  - name: contract\n"
                    "    customer_delay_days: {dist: gamma, mean: 2, sd: 1}\n", encoding="utf-8")
    return path


@pytest.mark.slow
def test_compare_prints_differences_to_the_first_file(small_file: Path, variant_file: Path
                                                      ) -> None:
    out = _cli("compare", str(small_file), str(variant_file), "-r", "4", "-s", "3", "-q",
               "-k", "cycle_time_mean_days", "-k", "conversion_rate")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert "differences to 'small' with 95% paired intervals" in lines[0]
    cycle = next(i for i, line in enumerate(lines) if line.startswith("cycle_time_mean_days"))
    assert lines[cycle + 1].split()[0] == "pre-review"
    assert " pts (" in out.stdout  # a difference of rates, in percentage points
    cmp = ss.compare({"small": ss.load_scenario(small_file),
                      "pre-review": ss.load_scenario(variant_file)}, replications=4, seed=3)
    diff = cmp.table().loc[("cycle_time_mean_days", "pre-review"), "diff"]
    assert f"{diff:+.2f}" in lines[cycle + 1] or f"{diff:+.1f}" in lines[cycle + 1]


@pytest.mark.slow
def test_compare_csv_is_the_full_table_and_repeatable(small_file: Path, variant_file: Path
                                                      ) -> None:
    args = ("compare", str(small_file), str(variant_file), "-r", "3", "-s", "5", "-q",
            "--format", "csv")
    first, second = _cli(*args), _cli(*args)
    assert first.returncode == 0 and first.stdout == second.stdout
    from io import StringIO

    table = pd.read_csv(StringIO(first.stdout), index_col=[0, 1])
    assert list(table.columns) == ["mean", "ci_low", "ci_high", "diff", "diff_ci_low",
                                   "diff_ci_high", "p_value", "p_adjusted", "n"]
    assert set(table.index.get_level_values(1)) == {"small", "pre-review"}


@pytest.mark.slow
def test_sweep_from_a_grid_file_with_store_and_frontier(small_file: Path, tmp_path: Path
                                                         ) -> None:
    grid = tmp_path / "grid.yaml"
    grid.write_text("grid:\n  teams.solutions.se.headcount: [5, 9]\n", encoding="utf-8")
    store = tmp_path / "se.sqlite"
    args = ("sweep", str(small_file), "--grid", str(grid), "-r", "3", "-s", "2", "-q",
            "--store", str(store), "--frontier", "cost", "cycle_time_p90_days")
    out = _cli(*args)
    assert out.returncode == 0, out.stderr
    assert "3 points (baseline included)" in out.stdout
    assert "headcount=5" in out.stdout and "headcount=9" in out.stdout
    assert "Frontier: points no other beats on both cost and cycle_time_p90_days" in out.stdout
    with ss.Store(store) as kept:
        assert len(kept.kpis()) == 9
    assert _cli(*args).stdout == out.stdout  # read back from the store, same numbers


@pytest.mark.slow
@pytest.mark.parametrize(("grid", "message"), [
    ("grid:\n  teams.solutions.se.headcont: [5]\n", "unknown key 'headcont'"),
    ("grid:\n  teams.solutions.se.headcount: 5\n", "grid.teams.solutions.se.headcount: must "
                                                   "be a list"),
    ("gird:\n  a: [1]\n", "did you mean 'grid'?"),
])
def test_bad_grid_file_is_one_line_exit_2_before_running(
        small_file: Path, tmp_path: Path, grid: str, message: str) -> None:
    path = tmp_path / "grid.yaml"
    path.write_text(grid, encoding="utf-8")
    store = tmp_path / "never.sqlite"
    out = _cli("sweep", str(small_file), "--grid", str(path), "-r", "2", "-s", "1",
               "--store", str(store))
    assert out.returncode == 2
    assert message in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert "Traceback" not in out.stderr
    assert not store.exists()  # nothing ran, nothing was written


@pytest.mark.slow
def test_unreachable_dask_address_is_exit_2(small_file: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("distributed")
    monkeypatch.setattr(salessim.executors, "CONNECT_TIMEOUT_S", 1.0)
    status = main(["run", str(small_file), "-r", "2", "-s", "1", "-q",
                   "--executor", "tcp://127.0.0.1:9"])
    err = capsys.readouterr().err
    assert status == 2
    assert "cannot reach the dask scheduler at tcp://127.0.0.1:9" in err
    assert len(err.strip().splitlines()) == 1
