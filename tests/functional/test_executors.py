"""Same numbers whatever runs the replications; replication counts; warm-up advice."""

from __future__ import annotations

import gc
import time
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest

import salessim as ss
import salessim.executors
from salessim.model import RawReplication
from salessim.warmup import fill_time

from ..conftest import short
from ..validation.support import base_scenario


@pytest.fixture(scope="module")
def small(regional: ss.Scenario) -> ss.Scenario:
    return short(regional, 25.0)


@pytest.fixture(scope="module")
def serial(small: ss.Scenario) -> ss.Comparison:
    return ss.compare({"a": small, "b": small.with_changes({"teams.legal.legal.headcount": 3})},
                      replications=4, seed=17, executor="serial")


def same(one: ss.Comparison, other: ss.Comparison) -> bool:
    return all(one.results[n].kpis.equals(other.results[n].kpis)
               and one.results[n].events.equals(other.results[n].events) for n in one.results)


@pytest.mark.parametrize("workers", [1, 2])
def test_process_pool_of_any_size_gives_the_same_numbers(
        small: ss.Scenario, serial: ss.Comparison, workers: int) -> None:
    pool = ss.compare({"a": small, "b": small.with_changes({"teams.legal.legal.headcount": 3})},
                      replications=4, seed=17, executor="processes", workers=workers)
    assert same(pool, serial)


def test_any_executor_gives_the_same_numbers(small: ss.Scenario, serial: ss.Comparison) -> None:
    with ThreadPoolExecutor(3) as threads:
        other = ss.compare({"a": small,
                            "b": small.with_changes({"teams.legal.legal.headcount": 3})},
                           replications=4, seed=17, executor=threads)
    assert same(other, serial)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as local:
        yield local


@pytest.mark.slow
def test_a_dask_cluster_gives_the_same_numbers(small: ss.Scenario, serial: ss.Comparison,
                                               cluster: Any) -> None:
    from distributed import Client

    variants = {"a": small, "b": small.with_changes({"teams.legal.legal.headcount": 3})}
    with Client(cluster) as client:
        by_client = ss.compare(variants, replications=4, seed=17, executor=client)
        assert client.status == "running"  # the caller's client is left open
    by_address = ss.compare(variants, replications=4, seed=17, executor=cluster.scheduler_address)
    assert same(by_client, serial) and same(by_address, serial)


def test_an_unreachable_dask_scheduler_is_one_clear_error(
        small: ss.Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("distributed")
    monkeypatch.setattr(salessim.executors, "CONNECT_TIMEOUT_S", 1.0)
    started = time.monotonic()
    with pytest.raises(ValueError, match=r"cannot reach the dask scheduler at "
                                         r"tcp://127\.0\.0\.1:9 .*is it running"):
        ss.run(small, replications=2, seed=1, executor="tcp://127.0.0.1:9")
    assert time.monotonic() - started < 30


def test_unknown_executors_and_worker_counts_are_refused(small: ss.Scenario) -> None:
    with pytest.raises(ValueError, match="executor must be None, 'serial', 'processes'"):
        ss.run(small, replications=2, seed=1, executor="cluster")
    with pytest.raises(ValueError, match="workers must be at least 1"):
        ss.run(small, replications=2, seed=1, executor="processes", workers=0)
    with pytest.raises(ValueError, match="seed must be a whole number from 0 to 2\\*\\*63"):
        ss.run(small, replications=2, seed=2**64)


# ---- how many replications -------------------------------------------------------------


@pytest.mark.slow
def test_run_until_meets_the_target_and_no_more_than_needed(small: ss.Scenario) -> None:
    res = ss.run_until(small, "cycle_time_mean_days", relative=0.05, seed=3,
                       min_replications=4, max_replications=200, executor="serial")
    row = res.summary().loc["cycle_time_mean_days"]
    assert (row["ci_high"] - row["ci_low"]) / 2 <= 0.05 * abs(row["mean"])
    assert res.replications > 4  # four were not enough at 5 %
    assert res.replications_needed("cycle_time_mean_days", relative=0.05) <= res.replications
    again = ss.run(small, replications=res.replications, seed=3, executor="serial")
    assert again.kpis.equals(res.kpis)  # the same replications as a plain run


def test_run_until_says_when_the_budget_is_too_small(small: ss.Scenario) -> None:
    with pytest.warns(RuntimeWarning, match=r"replications would be needed .* "
                                            r"max_replications is 3"):
        res = ss.run_until(small, "profit", relative=0.0001, seed=3, min_replications=2,
                           max_replications=3, executor="serial")
    assert res.replications == 3
    with pytest.raises(ValueError, match="did you mean 'profit'"):
        ss.run_until(small, "proft", relative=0.1)


# ---- warm-up -------------------------------------------------------------------------


def pipeline(delay_days: float) -> ss.Scenario:
    """Leads that each spend exactly ``delay_days`` with the customer, no queueing: the
    work in progress ramps up linearly for ``delay_days`` and is then stationary."""
    doc = base_scenario()
    doc["calendar"].update(horizon_days=200.0, warmup_days=10.0)
    doc["channels"][0]["leads_per_day"] = 20.0
    doc["teams"][0]["reps"]["rep"]["headcount"] = 50
    doc["stages"][0]["effort_hours"] = {"dist": "fixed", "value": 0.1}
    doc["stages"][0]["customer_delay_days"] = {"dist": "fixed", "value": delay_days}
    return ss.load_scenario(doc)


@pytest.mark.slow
@pytest.mark.parametrize("delay", [15.0, 40.0])
def test_warmup_advice_finds_the_end_of_the_ramp(delay: float) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        advice = ss.suggest_warmup(pipeline(delay), replications=6, seed=2, executor="serial",
                                   full=0.99)
    # Every life is delay_days (+ six minutes of work): 99 % full just before delay_days.
    assert delay - 1 <= advice.fill_days <= delay
    assert advice.days == max(advice.fill_days, advice.mser_days) >= advice.fill_days
    wip = advice.series.set_index("time_days")["wip_mean"]
    assert np.isclose(wip.loc[200:].mean(), 20 * delay, rtol=0.05)  # Little: rate x time
    assert wip.loc[: delay / 2].mean() < 0.5 * 20 * delay  # still filling early on
    assert "too short" in advice.message  # the scenario counts from day 10


def test_fill_time_of_known_lives() -> None:
    """Lives of 10 and 30 days, equally often: E[L] = 20, E[min(L, t)] = t up to 10,
    then 5 + t/2; so the pipeline is half full at 10 days and 95 % full at 28."""
    leads = {"arrival_time": np.zeros(4), "close_time": np.array([10.0, 30.0, 10.0, 30.0])}
    raws = [RawReplication(replication=0, leads=leads, events={}, rep_team=(), rep_role=(),
                           rep_hired=np.empty(0), rep_left=np.empty(0),
                           rep_skill=np.empty(0), rep_effort=np.empty(0), rep_book=(),
                           end_day=100.0)]
    assert fill_time(raws, 0.0, 0.5) == 10.0
    assert fill_time(raws, 0.0, 0.95) == 28.0


def test_replications_in_threads_leave_the_collector_as_they_found_it(
        small: ss.Scenario) -> None:
    # The engine collects young garbage rarely while it runs, a process-wide setting.
    before = gc.get_threshold()
    gc.set_threshold(900, 11, 12)
    try:
        with ThreadPoolExecutor(3) as threads:
            ss.run(small, replications=6, seed=3, executor=threads, progress=False)
        assert gc.get_threshold() == (900, 11, 12)
    finally:
        gc.set_threshold(*before)
