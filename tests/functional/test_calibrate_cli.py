"""``salessim calibrate`` as a user types it, on the shipped Northwind export."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

import salessim as ss
from salessim.cli import main

from ..conftest import SCENARIOS

CRM = SCENARIOS / "crm"
MAPPING = CRM / "mapping.yaml"


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str, str]:
    """One full run with a report: the scenario, the report, stdout and stderr."""
    folder = tmp_path_factory.mktemp("calibrated")
    out, report = folder / "ours.yaml", folder / "fit.html"
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        status = main(["calibrate", str(MAPPING), "--out", str(out), "--report", str(report),
                       "-r", "2", "-s", "4", "--executor", "serial", "-q"])
    assert status == 0, stderr.getvalue()
    return out, report, stdout.getvalue(), stderr.getvalue()


@pytest.mark.slow
def test_the_scenario_written_loads_and_validates(
        made: tuple[Path, Path, str, str], capsys: pytest.CaptureFixture[str]) -> None:
    out, _, _, _ = made
    sc = ss.load_scenario(out)
    assert sc.name == "Northwind Software (calibrated from its CRM export)"
    assert [s.name for s in sc.stages] == ["discovery", "demo", "proposal", "negotiation"]
    assert main(["validate", str(out)]) == 0
    assert capsys.readouterr().out.startswith(f"ok  {out}: Northwind Software")
    text = out.read_text(encoding="utf-8")
    assert re.search(r"leads_per_day: [\d.]+  # 95% [\d.]+ to [\d.]+, n=[\d,]+", text)
    assert "# assumed in the mapping file" in text


@pytest.mark.slow
def test_it_says_what_it_read_and_where_the_files_went(made: tuple[Path, Path, str, str]
                                                       ) -> None:
    out, report, said, told = made
    flat = " ".join(said.replace("\u00a0", " ").split())
    assert "The export holds 3,147 deals created from 1 July 2024 to 30 June 2026" in flat
    assert "539 won, 2,486 lost and 122 still open" in flat
    assert "17.8 % of the 3,025 closed deals were won" in flat
    assert "the win rate is 18.3 % (95 % interval 16.9–19.7 %)" in flat
    assert "counting each of the 122 open deals as open" in flat
    assert "the 3,025 closed deals alone average 18.7 days" in flat
    assert "66 deals have no amount" in flat and "80 deals have no stage history" in flat
    assert "Calibrated without the last 3 months" in flat
    assert "Read with care:" in flat and "rest on 2 runs only" in flat
    assert f"wrote the scenario to {out}" in told
    assert f"wrote the fit report to {report}" in told
    html = report.read_text(encoding="utf-8")
    assert "<title>Fit report: Northwind Software" in html
    assert f"--out {out} --report {report} --replications 2 --seed 4 --force" in html


@pytest.mark.slow
def test_an_existing_scenario_is_kept_unless_forced(
        made: tuple[Path, Path, str, str], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    kept = tmp_path / "kept.yaml"
    kept.write_text("# mine\n", encoding="utf-8")
    assert main(["calibrate", str(MAPPING), "--out", str(kept), "-q"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{kept} already exists" in err and "--force" in err
    assert kept.read_text(encoding="utf-8") == "# mine\n"
    assert main(["calibrate", str(MAPPING), "--out", str(MAPPING), "--force", "-q"]) == 2
    assert "is the mapping file itself" in capsys.readouterr().err
    assert main(["calibrate", str(MAPPING), "--out", str(kept), "--force", "-q"]) == 0
    assert kept.read_text(encoding="utf-8") == made[0].read_text(encoding="utf-8")


def _broken_copy(folder: Path, old: str, new: str) -> Path:
    """The shipped mapping with one text replaced, beside links to the export's files."""
    for name in ("opportunities.csv", "stage_history.csv", "reps.xlsx"):
        (folder / name).symlink_to(CRM / name)
    text = MAPPING.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is no longer in the shipped mapping"
    path = folder / "mapping.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(("old", "new", "named"), [
    ("owner: Owner ", "owner: Account Owner ", ["opportunities.csv", "'Account Owner'",
                                                "its columns are"]),
    ("holdout_months: 3 ", "holdout_month: 3 ", ["mapping.yaml", "holdout_month"]),
])
def test_bad_input_is_one_message_and_writes_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str, new: str,
        named: list[str]) -> None:
    mapping = _broken_copy(tmp_path, old, new)
    before = sorted(p.name for p in tmp_path.iterdir())
    status = main(["calibrate", str(mapping), "--out", str(tmp_path / "ours.yaml"),
                   "--report", str(tmp_path / "fit.html"), "-r", "1", "-q"])
    err = capsys.readouterr()
    assert status == 2
    assert all(word in err.err for word in named), err.err
    assert "Traceback" not in err.err and err.out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # not even a temporary file


def test_validate_knows_a_mapping_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                       ) -> None:
    assert main(["validate", str(MAPPING)]) == 0
    assert "calibration mapping 'Northwind Software" in capsys.readouterr().out
    typo = _broken_copy(tmp_path, "holdout_months: 3 ", "holdout_month: 3 ")
    assert main(["validate", str(typo)]) == 2
    assert "did you mean 'holdout_months'?" in capsys.readouterr().err
