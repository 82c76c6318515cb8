"""Faults as users meet them: killed runs, unwritable places, orphaned workers.

Nothing the user asked to keep is lost: ``run --out`` writes a whole folder or leaves the
earlier one as it was; every place to write is checked before the run; pool workers do
not outlive the process that started them.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from salessim.cli import main

from ..conftest import ROOT

QUICK = ("-r", "2", "-q", "--executor", "serial")
"""Options of a run that takes about a second."""


def _cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "salessim.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout, check=False)


def _seed_of(folder: Path) -> int:
    seed: int = json.loads((folder / "run.json").read_text(encoding="utf-8"))["seed"]
    return seed


def _leftovers(parent: Path, name: str) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(f".{name}."))


def test_out_is_a_new_folder_or_earlier_results_replaced_whole(
        small_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "results"
    assert main(["run", str(small_file), "--out", str(out), "-s", "1", *QUICK]) == 0
    first = sorted(p.name for p in out.iterdir())
    assert "run.json" in first and "kpis.csv" in first and _seed_of(out) == 1
    capsys.readouterr()
    # A folder of results is not overwritten unless asked, and nothing runs then.
    assert main(["run", str(small_file), "--out", str(out), "-s", "2", *QUICK]) == 2
    err = capsys.readouterr()
    assert err.out == "" and f"cannot write the folder {out}: it already holds" in err.err
    assert "--replace" in err.err and _seed_of(out) == 1
    assert main(["run", str(small_file), "--out", str(out), "-s", "2", "--replace",
                 *QUICK]) == 0
    assert _seed_of(out) == 2 and sorted(p.name for p in out.iterdir()) == first
    assert _leftovers(tmp_path, "results") == []


def test_replace_never_deletes_a_folder_of_other_files(
        small_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mine = tmp_path / "thesis"
    mine.mkdir()
    (mine / "chapter1.docx").write_text("years of work")
    assert main(["run", str(small_file), "--out", str(mine), "--replace", *QUICK]) == 2
    assert "that salessim did not write there" in capsys.readouterr().err
    assert [p.name for p in mine.iterdir()] == ["chapter1.docx"]


@pytest.mark.parametrize(("where", "words"), [
    ("missing/results", "does not exist"),
    ("a_file/results", "is a file, not a folder"),
])
def test_out_in_a_place_that_cannot_be_written_is_refused_before_running(
        small_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str,
        words: str) -> None:
    (tmp_path / "a_file").write_text("x")
    assert main(["run", str(small_file), "--out", str(tmp_path / where), *QUICK]) == 2
    err = capsys.readouterr()
    assert err.out == "" and words in err.err and len(err.err.splitlines()) == 1


SLOW_WRITER = textwrap.dedent("""
    import pathlib, sys, time
    import salessim.cli.run as command
    real = command._to_csv
    def slow(df, fh):
        real(df, fh)
        pathlib.Path(sys.argv[1]).touch()
        time.sleep(120)
    command._to_csv = slow
    from salessim.cli import main
    sys.exit(main(sys.argv[2:]))
""")


@pytest.mark.slow
@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["term", "kill"])
def test_a_run_stopped_while_writing_leaves_the_earlier_results(
        small_file: Path, tmp_path: Path, how: signal.Signals) -> None:
    out = tmp_path / "results"
    assert _cli("run", str(small_file), "--out", str(out), "-s", "1", *QUICK).returncode == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    started = tmp_path / "writing"
    proc = subprocess.Popen([sys.executable, "-c", SLOW_WRITER, str(started), "run",
                             str(small_file), "--out", str(out), "-s", "2", "--replace",
                             *QUICK], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not started.exists():
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "the run never started writing"
            time.sleep(0.05)
        proc.send_signal(how)
        proc.wait(timeout=60)
    finally:
        proc.kill()
    # The folder holds the first run, whole: no file of the second, none of it lost.
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    if how == signal.SIGTERM:
        assert proc.returncode == 143
        assert _leftovers(tmp_path, "results") == []  # unwound: nothing left behind
    else:
        assert len(_leftovers(tmp_path, "results")) == 1  # killed outright: no clean-up
    again = _cli("run", str(small_file), "--out", str(out), "-s", "3", "--replace", *QUICK)
    assert again.returncode == 0, again.stderr
    assert _seed_of(out) == 3 and _leftovers(tmp_path, "results") == []


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A folder everyone may read (pytest's own are private to their owner)."""
    folder = Path(tempfile.mkdtemp(prefix="salessim-faults-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        for p in folder.rglob("*"):
            p.chmod(0o755 if p.is_dir() else 0o644)
        shutil.rmtree(folder)


def _as_someone_else(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI as a user without write permission on root's files.

    Root writes anywhere, so as root the command runs in a user namespace of its own,
    as nobody (``unshare --user``), where file permissions apply.
    """
    command = [sys.executable, "-m", "salessim.cli", *args]
    if os.geteuid() == 0:
        if shutil.which("unshare") is None:
            pytest.fail("running as root without unshare: cannot make a place read-only")
        command = ["unshare", "--user", *command]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120,
                          check=False)


@pytest.mark.slow
def test_read_only_places_are_refused_before_running(small_file: Path, shared_dir: Path
                                                     ) -> None:
    scenario = shared_dir / "small.yaml"
    shutil.copy(small_file, scenario)
    scenario.chmod(0o644)
    locked = shared_dir / "locked"
    locked.mkdir()
    made = _cli("run", str(scenario), "--store", str(locked / "runs.sqlite"), *QUICK)
    assert made.returncode == 0, made.stderr
    for p in locked.iterdir():
        p.chmod(0o444)
    locked.chmod(0o555)
    for args, words in (
            (("--out", str(locked / "results")),
             f"cannot write the folder {locked / 'results'}"),
            (("--store", str(locked / "runs.sqlite")), "cannot write to the results store"),
            (("--event-log", str(locked / "log.csv")), f"cannot write {locked / 'log.csv'}"),
    ):
        out = _as_someone_else("run", str(scenario), *args, *QUICK)
        assert out.returncode == 2, (args, out.stderr)
        assert out.stdout == "", "a run started before its output place was checked"
        lines = out.stderr.splitlines()
        assert len(lines) == 1 and words in lines[0], out.stderr
        assert "Traceback" not in out.stderr


WORKERS = textwrap.dedent("""
    import os, sys
    import salessim as ss
    sc = ss.load_scenario(sys.argv[1])
    print(os.getpid(), flush=True)
    ss.run(sc, replications=40, seed=1, executor="processes", workers=2, progress=False)
""")


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_pool_workers_end_when_their_parent_is_killed(small_file: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", WORKERS, str(small_file)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        parent = int(proc.stdout.readline())
        deadline = time.monotonic() + 60
        workers: list[int] = []
        while len(workers) < 2:
            assert time.monotonic() < deadline, "the pool never started"
            workers = [p for p in _children(parent) if _running(p)]
            time.sleep(0.1)
        proc.kill()  # no chance to shut the pool down
        proc.wait(timeout=30)
        deadline = time.monotonic() + 30
        while any(_running(p) for p in workers):
            assert time.monotonic() < deadline, f"workers {workers} outlived their parent"
            time.sleep(0.2)
    finally:
        proc.kill()


def test_validate_knows_each_kind_of_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                          ) -> None:
    grid = tmp_path / "grid.yaml"
    grid.write_text("grid:\n  teams.north.ae.headcount: [8, 10, 12]\n")
    answer = tmp_path / "answer.yaml"
    answer.write_text("trainee: Ann\ndecisions: [{day: 0, lever: legal, value: 3}]\n")
    exercise = ROOT / "scenarios" / "exercises" / "01-find-the-bottleneck.yaml"
    scenario = ROOT / "scenarios" / "regional.yaml"
    assert main(["validate", str(grid), str(answer), str(exercise), str(scenario)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (f"ok  {grid}: sweep file (grid of 1 key paths, 3 points; checked "
                      "against the base scenario when the sweep starts)")
    assert out[1].startswith(f"ok  {answer}: answer by Ann (1 decision;")
    assert out[2].startswith(f"ok  {exercise}: exercise 'Find the bottleneck' (level 1,")
    assert out[3].startswith(f"ok  {scenario}: Regional sales organisation")
    bad = tmp_path / "bad_grid.yaml"
    bad.write_text("grid:\n  teams.north.ae.headcount: 5\n")
    assert main(["validate", str(bad)]) == 2
    assert capsys.readouterr().err.startswith(
        f"{bad}: grid.teams.north.ae.headcount: must be a list")
