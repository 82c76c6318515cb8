"""The results store: written as replications finish, resumed, safe when killed."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import salessim as ss
import salessim.replications
import salessim.runner
from salessim.model import simulate
from salessim.replications import Replications
from salessim.store import STORE_FORMAT

from ..conftest import short

AFTER_SALE = Path(__file__).parents[1] / "data" / "after_sale"


@pytest.fixture(scope="module")
def small(regional: ss.Scenario) -> ss.Scenario:
    return short(regional, 25.0)


def counting(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the replications actually simulated (serial runs call the runner's name)."""
    calls: list[int] = []

    def wrapped(scenario: ss.Scenario, seed: int, replication: int, timeline: Any) -> Any:
        calls.append(replication)
        return simulate(scenario, seed, replication, timeline)

    monkeypatch.setattr(salessim.runner, "simulate", wrapped)
    return calls


def test_a_stored_run_is_read_back_not_run_again(small: ss.Scenario, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    store = tmp_path / "a.sqlite"
    calls = counting(monkeypatch)
    first = ss.run(small, replications=3, seed=9, executor="serial", store=store)
    assert sorted(calls) == [0, 1, 2]
    more = ss.run(small, replications=5, seed=9, executor="serial", store=store)
    assert sorted(calls) == [0, 1, 2, 3, 4]  # only the two new replications ran
    assert more.kpis.iloc[:3].equals(first.kpis)
    assert more.events[more.events["replication"] < 3].reset_index(drop=True).equals(
        first.events.reset_index(drop=True))
    fresh = ss.run(small, replications=5, seed=9, executor="serial")
    assert more.kpis.equals(fresh.kpis)


def test_store_tables_read_back_as_pandas(small: ss.Scenario, tmp_path: Path) -> None:
    path = tmp_path / "b.sqlite"
    res = ss.run(small, replications=2, seed=4, executor="serial", store=path)
    other = small.with_changes({"name": "other", "teams.solutions.se.headcount": 5})
    ss.run(other, replications=1, seed=4, executor="serial", store=path)
    with ss.Store(path) as store:
        kpis = store.kpis()
        scenarios = store.scenarios()
    assert list(kpis.columns[:4]) == ["scenario", "scenario_hash", "seed", "replication"]
    assert len(kpis) == 3 and set(kpis["scenario"]) == {small.name, "other"}
    mine = kpis[kpis["scenario"] == small.name].set_index("replication")
    assert mine["profit"].tolist() == pytest.approx(res.kpis["profit"].tolist())
    assert scenarios["replications"].tolist() == [2, 1]


def test_a_changed_scenario_is_not_mistaken_for_a_stored_one(
        small: ss.Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c.sqlite"
    calls = counting(monkeypatch)
    ss.run(small, replications=2, seed=1, executor="serial", store=path)
    ss.run(small.with_changes({"teams.legal.legal.headcount": 4}), replications=2, seed=1,
           executor="serial", store=path)
    ss.run(small, replications=2, seed=2, executor="serial", store=path)  # another seed
    assert len(calls) == 6


def test_kpis_are_read_back_without_simulating_and_tables_re_created_exactly(
        small: ss.Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "compact.sqlite"
    first = ss.run(small, replications=3, seed=5, executor="serial", store=path)
    replayed: list[int] = []

    def counted(scenario: ss.Scenario, seed: int, replication: int, timeline: Any) -> Any:
        replayed.append(replication)
        return simulate(scenario, seed, replication, timeline)

    monkeypatch.setattr(salessim.replications, "simulate", counted)
    again = ss.run(small, replications=3, seed=5, executor="serial", store=path)
    assert again.summary().equals(first.summary()) and again.kpis.equals(first.kpis)
    assert replayed == [] and isinstance(again.raw, Replications)
    assert again.raw.replayed == 3
    assert repr(again.raw) == ("<Replications: 3 (0 in memory, 3 as stored KPIs, simulated "
                               "again when read)>")
    assert again.reps().equals(first.reps())  # needs the event log: simulated again
    assert replayed == [0, 1, 2] and again.raw.replayed == 0
    assert again.leads.equals(first.leads)
    assert replayed == [0, 1, 2]  # once each
    with sqlite3.connect(path) as db:
        raw_blobs = db.execute("SELECT COUNT(raw) FROM replications").fetchone()[0]
    assert raw_blobs == 0


def test_a_store_keeping_raw_columns_reads_them_back_equal(tmp_path: Path) -> None:
    sc = short(ss.load_scenario(AFTER_SALE / "example.yaml"), 90.0)
    role = sc.stages[0].role  # a plan paid on collected cash: its tables are kept too
    sc = sc.with_changes({"management": {
        "period": "month", "targets": [{"role": role, "per_period": 1000.0}],
        "commission": [{"role": role, "on": "collected", "rate": 0.05}]}})
    path = tmp_path / "full.sqlite"
    with ss.Store(path, keep_raw=True) as store:
        first = ss.run(sc, replications=2, seed=3, executor="serial", store=store)
    with ss.Store(path) as reopened:  # the file remembers what it keeps
        assert reopened.keep_raw
    again = ss.run(sc, replications=2, seed=3, executor="serial", store=path)
    assert isinstance(again.raw, Replications) and again.raw.replayed == 0
    for mine, kept in zip(first.raw, again.raw, strict=True):
        assert kept.end_day == mine.end_day and kept.rep_team == mine.rep_team
        for a, b in [(mine.leads, kept.leads), (mine.events, kept.events),
                     *zip((mine.after_sale or {}).values(),
                          (kept.after_sale or {}).values(), strict=True),
                     *zip((mine.management or {}).values(),
                          (kept.management or {}).values(), strict=True)]:
            assert a.keys() == b.keys()
            assert all(np.array_equal(a[k], b[k], equal_nan=a[k].dtype.kind == "f")
                       and a[k].dtype == b[k].dtype
                       for k in a)
        assert all(np.array_equal(x, y) for x, y in zip(mine.rep_book, kept.rep_book,
                                                         strict=True))
    assert again.after_sale("invoices").equals(first.after_sale("invoices"))
    assert again.kpis.equals(first.kpis)
    assert first.raw[0].management is not None and (first.kpis["variable_pay"] > 0).all()


def test_files_that_are_not_stores_are_refused(tmp_path: Path) -> None:
    text = tmp_path / "notes.sqlite"
    text.write_text("some notes, not a database\n" * 50)
    with pytest.raises(ss.StoreError, match="not a salessim results store"):
        ss.Store(text)
    foreign = tmp_path / "foreign.sqlite"
    with sqlite3.connect(foreign) as db:
        db.execute("CREATE TABLE t (x)")
    with pytest.raises(ss.StoreError, match="no format record"):
        ss.Store(foreign)
    future = tmp_path / "future.sqlite"
    ss.Store(future).close()
    with sqlite3.connect(future) as db:
        db.execute("UPDATE meta SET value = '99' WHERE key = 'format'")
    with pytest.raises(ss.StoreError,
                       match=f"format 99; this salessim reads format {STORE_FORMAT}"):
        ss.Store(future)


def test_a_failing_replication_is_named_and_the_others_kept(
        small: ss.Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def flaky(scenario: ss.Scenario, seed: int, replication: int, timeline: Any) -> Any:
        if replication == 2:
            raise ZeroDivisionError("division by zero in a rep pool")
        return simulate(scenario, seed, replication, timeline)

    monkeypatch.setattr(salessim.runner, "simulate", flaky)
    path = tmp_path / "d.sqlite"
    with pytest.raises(ss.ReplicationError) as info:
        ss.run(small, replications=4, seed=6, executor="serial", store=path)
    (failure,) = info.value.failures
    assert (failure.label, failure.seed, failure.replication) == (small.name, 6, 2)
    assert "ZeroDivisionError: division by zero in a rep pool" in str(info.value)
    assert "the other 3 finished and are kept in the results store" in str(info.value)
    assert "flaky" in failure.detail  # the traceback, for whoever debugs it
    assert sorted(info.value.completed) == [0, 1, 3]
    with ss.Store(path) as store:
        assert sorted(store.kpis()["replication"]) == [0, 1, 3]


SWEEP_SCRIPT = """
import sys
import salessim as ss
base = ss.load_scenario(sys.argv[1])
ss.sweep(base, grid={"teams.solutions.se.headcount": [5, 6, 7, 8]}, replications=8, seed=2,
         executor="serial", store=sys.argv[2], progress=False)
"""


def stored(path: Path) -> int:
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as db:
            return int(db.execute("SELECT COUNT(*) FROM replications").fetchone()[0])
    except sqlite3.OperationalError:  # the tables are not made yet
        return 0


def wait_for(condition: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


@pytest.mark.slow
def test_a_killed_sweep_loses_nothing_written_and_resumes(
        small: ss.Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scenario = tmp_path / "small.yaml"
    scenario.write_text(small.to_yaml(), encoding="utf-8")
    path = tmp_path / "sweep.sqlite"
    total = 4 * 8  # four points and the baseline, but the point with 7 SEs is the baseline
    proc = subprocess.Popen([sys.executable, "-c", SWEEP_SCRIPT, str(scenario), str(path)])
    try:
        wait_for(lambda: stored(path) >= 6 or proc.poll() is not None, 120)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the sweep ended before it could be killed"
    kept = stored(path)
    assert 6 <= kept < total
    with ss.Store(path) as store:  # opens cleanly after the kill, every row readable
        assert len(store.kpis()) == kept

    calls = counting(monkeypatch)
    resumed = ss.sweep(small, grid={"teams.solutions.se.headcount": [5, 6, 7, 8]},
                       replications=8, seed=2, executor="serial", store=path, progress=False)
    assert len(calls) == total - kept
    assert stored(path) == total
    fresh = ss.sweep(small, grid={"teams.solutions.se.headcount": [5, 6, 7, 8]},
                     replications=8, seed=2, executor="serial", progress=False)
    assert resumed.means().equals(fresh.means())
