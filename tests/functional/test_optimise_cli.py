"""``salessim optimise`` as a user types it: the recommendation in words, the folder it
writes, and one clear message for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from salessim.cli import main

from ..conftest import SCENARIOS

FAST = ["--trials", "4", "-r", "2", "--seed", "3", "--executor", "serial", "--batch", "4",
        "--candidates", "2", "--first-stage", "2", "--max-replications", "3", "--quiet"]


@pytest.fixture(scope="module")
def levers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("levers") / "levers.yaml"
    path.write_text("levers:\n  teams.solutions.se.headcount: {low: 7, high: 9}\n"
                    "  roles.ae.assignment: [owner, pooled]\n", encoding="utf-8")
    return path


@pytest.mark.slow
def test_optimise_prints_the_recommendation_and_writes_the_study(
        small_file: Path, levers: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "plan"
    report = tmp_path / "plan.html"
    args = ["optimise", str(small_file), "--levers", str(levers), "--objective", "profit",
            "--constraint", "cycle_time_p90_days <= 400",
            "--budget", "salary_per_year=4300000", *FAST, "--out", str(out)]
    assert main([*args, "--report", str(report)]) == 0
    printed = capsys.readouterr()
    assert "Optimisation of" in printed.out and "Recommended for" in printed.out
    assert "paired 95% intervals" in printed.out
    # KPIs and the budget in words with their units, not as code names.
    assert "profit (higher is better)" in printed.out and "Profit (EUR)" in printed.out
    assert "salary per year at most 4,300,000" in printed.out
    assert "cycle_time_p90_days" not in printed.out and "salary_per_year" not in printed.out
    page = report.read_text(encoding="utf-8")
    assert '<h2 id="optimisation">Recommended plan</h2>' in page
    assert page.count("data:image/png;base64,") >= 2 and "--report" in page
    assert sorted(p.name for p in out.iterdir()) == [
        "history.csv", "optimise.json", "progress.png", "recommendation.csv",
        "recommended.yaml", "sensitivity.csv", "sensitivity.png"]
    history = pd.read_csv(out / "history.csv", index_col="trial")
    assert len(history) == 4 and (history["salary_per_year"] <= 4_300_000).all()
    record = json.loads((out / "optimise.json").read_text(encoding="utf-8"))
    assert record["seed"] == 3 and record["trials"] == 4
    assert "--budget salary_per_year=4.3e+06" in record["rerun"]
    # The folder holds one run: a second needs --replace, and then holds the new one.
    assert main(args) == 2
    assert "already holds" in capsys.readouterr().err
    assert main([*args, "--replace", "--trials", "5"]) == 0
    assert len(pd.read_csv(out / "history.csv")) == 5


@pytest.mark.slow
def test_the_study_resumes_from_its_storage(small_file: Path, levers: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    base = ["optimise", str(small_file), "--levers", str(levers), "--objective", "cost",
            *FAST, "--storage", str(tmp_path / "study.db")]
    assert main(base) == 0
    first = capsys.readouterr().out
    assert main(base) == 0
    assert capsys.readouterr().out == first


@pytest.mark.parametrize(("extra", "words"), [
    (["--objective", "proft"], "<objective>: unknown KPI 'proft' (did you mean 'profit'?)"),
    (["--objective", "profit", "--constraint", "cycle_time <= 3"], "<constraints>: [0]:"),
    (["--objective", "profit", "--budget", "salary_per_year=100"],
     "<budget>: salary_per_year: no setting of the levers meets 100"),
])
def test_bad_input_is_one_message_and_exit_2(small_file: Path, levers: Path, extra: list[str],
                                            words: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["optimise", str(small_file), "--levers", str(levers), *extra, *FAST]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err


def test_a_bad_levers_file_is_named(small_file: Path, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("levers:\n  teams.north.ae.headcont: {low: 1, high: 3}\n", encoding="utf-8")
    assert main(["optimise", str(small_file), "--levers", str(bad), "--objective", "profit",
                 *FAST]) == 2
    assert f"{bad}: levers.teams.north.ae.headcont: names no scenario value" in \
        capsys.readouterr().err


def test_a_malformed_budget_is_refused_by_the_parser(small_file: Path, levers: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["optimise", str(small_file), "--levers", str(levers), "--objective", "profit",
              "--budget", "salary_per_year:5e6"])
    assert info.value.code == 2
    assert "write a budget as KEY=LIMIT" in capsys.readouterr().err


def test_the_shipped_levers_file_fits_the_regional_scenario() -> None:
    from salessim.optimise.levers import parse_levers
    from salessim.scenario import load_scenario

    levers = parse_levers(SCENARIOS / "levers" / "regional.yaml",
                          load_scenario(SCENARIOS / "regional.yaml"))
    assert len(levers) == 8
