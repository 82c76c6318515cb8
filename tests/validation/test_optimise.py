"""The optimiser against what is known: an exact optimum, its selection's guarantee, and
its determinism.

**Known optimum.** A three-stage funnel: Poisson arrivals (2 leads a day), one pooled
FIFO role per stage with exponential efforts (means 0.75, 1.1 and 0.6 days), every lead
passing every stage, no delays between stages. Each stage is then an M/M/c queue fed by
Poisson arrivals (Burke's theorem), and the mean time in system of an allocation
``(c1, c2, c3)`` is ``sum(Wq(c_i) + 1 / mu_i)`` with ``Wq`` from Erlang C. With 9 reps
in all (the budget ``headcount <= 9``) the exact best allocation is found by
enumerating every one. The optimiser's recommendation must be that allocation or have
a mean time in system within the indifference zone of it. The selection's confidence
is ``1 - ALPHA / seeds`` (the validation policy of ``support``): KN then guarantees the
check fails with probability below ALPHA for a correct optimiser, given the search
ranks the best allocation among its leading candidates (which the check also tests).

**Probability of correct selection.** KN on synthetic normal draws with known means,
correlated across candidates as common random numbers make them, repeated many times:
the share of correct selections must not be below the stated confidence beyond what a
binomial count allows (one-sided, at ALPHA over the configurations).

**Determinism.** A study interrupted after a number of trials that is not a multiple of
the batch, or stopped part-way through a batch, and then resumed, gives the history of
an uninterrupted one; serial runs and two worker processes give the same history; no
simulated trial exceeds the budget, and settings over it do not count as trials.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import salessim as ss
from salessim.kpis import Condition
from salessim.optimise import evaluate, optimise
from salessim.optimise.select import _select
from salessim.optimise.selection import kn_select
from salessim.optimise.spec import Objective

from .support import ALPHA, base_scenario, mmc_mean_wait, seed

ARRIVALS = 2.0
SERVICE_DAYS = (0.75, 1.1, 0.6)
TOTAL_REPS = 9
LEVERS = {"teams.all.s1.headcount": range(2, 5), "teams.all.s2.headcount": range(3, 6),
          "teams.all.s3.headcount": range(2, 5)}
"""Every allocation in these ranges is stable (utilisation below 1 at each stage)."""


def funnel(horizon_days: float = 250.0, warmup_days: float = 50.0) -> ss.Scenario:
    doc = base_scenario()
    doc["name"] = "three-stage pooled funnel"
    doc["calendar"].update(horizon_days=horizon_days, warmup_days=warmup_days)
    doc["channels"][0]["leads_per_day"] = ARRIVALS
    doc["roles"] = [{"name": f"s{i}", "salary_per_day": 100.0, "assignment": "pooled",
                     "dispatch": "fifo"} for i in (1, 2, 3)]
    doc["teams"] = [{"name": "all", "reps": {"s1": {"headcount": 3}, "s2": {"headcount": 3},
                                             "s3": {"headcount": 3}}}]
    doc["stages"] = [{"name": f"stage{i}", "role": f"s{i}",
                      "effort_hours": {"dist": "exponential", "mean": 8.0 * days},
                      "customer_delay_days": {"dist": "fixed", "value": 0.0},
                      "conversion": {"A": 1.0}}
                     for i, days in enumerate(SERVICE_DAYS, start=1)]
    return ss.load_scenario(doc)


def time_in_system(allocation: tuple[int, ...]) -> float:
    """Exact mean time in system (days): a tandem of M/M/c queues."""
    return sum(mmc_mean_wait(c, ARRIVALS, 1 / s) + s
               for c, s in zip(allocation, SERVICE_DAYS, strict=True))


def exact_best() -> tuple[tuple[int, ...], float, float]:
    """The best allocation of the reps, its time in system and the runner-up's."""
    ranked = sorted((time_in_system(c), c) for c in itertools.product(
        *(list(r) for r in LEVERS.values())) if sum(c) <= TOTAL_REPS)
    return ranked[0][1], ranked[0][0], ranked[1][0]


SEEDS = (0, 1, 2)
INDIFFERENCE = 0.15
"""Days; less than half the exact gap from the best allocation to the next one."""


def test_the_exact_best_is_clear_of_the_indifference_zone() -> None:
    best, w_best, w_next = exact_best()
    assert best == (3, 4, 2)
    assert w_next - w_best > 2 * INDIFFERENCE


@pytest.mark.slow
@pytest.mark.parametrize("offset", SEEDS)
def test_the_optimiser_finds_the_exact_best_allocation(offset: int) -> None:
    best, w_best, _ = exact_best()
    plan = optimise(funnel(), LEVERS, objective="cycle_time_mean_days",
                    budget={"headcount": TOTAL_REPS}, trials=24, replications=5,
                    seed=seed(100 + offset), executor="serial", batch=6, candidates=3,
                    first_stage=10, indifference=INDIFFERENCE,
                    confidence=1 - ALPHA / len(SEEDS), max_replications=400, progress=False)
    assert plan.best is not None
    got = tuple(plan.best.settings[p] for p in LEVERS)
    candidates = [tuple(c[p] for p in LEVERS) for c in plan.best.candidates]
    assert best in candidates, f"the search did not rank {best} among {candidates}"
    assert plan.best.selection.finished
    assert time_in_system(got) - w_best <= INDIFFERENCE, (
        f"recommended {got} (exact {time_in_system(got):.3f} days) against the best {best} "
        f"({w_best:.3f} days)")
    assert (plan.history["headcount"] <= TOTAL_REPS).all()


def _kn_runs(means: np.ndarray, rho: float, runs: int, rng: np.random.Generator,
             confidence: float, delta: float) -> int:
    """How many of ``runs`` KN selections picked the candidate with the highest mean."""
    k = len(means)
    chol = np.linalg.cholesky((1 - rho) * np.eye(k) + rho)
    correct = 0
    for _ in range(runs):
        first = means[:, None] + chol @ rng.standard_normal((k, 10))

        def more(alive: Any, r: int) -> Any:
            return (means + chol @ rng.standard_normal(k))[list(alive)]

        chosen = kn_select(first, more, indifference=delta, confidence=confidence,
                           max_replications=100_000)
        assert chosen.finished
        correct += chosen.chosen == int(np.argmax(means))
    return correct


@pytest.mark.parametrize(("name", "means", "rho"), [
    ("slippage, 5 candidates", np.array([0.5, 0.0, 0.0, 0.0, 0.0]), 0.5),
    ("evenly spaced, 4 candidates", np.array([0.0, -0.5, -1.0, -1.5]), 0.0),
])
def test_kn_meets_its_probability_of_correct_selection(name: str, means: np.ndarray,
                                                       rho: float) -> None:
    confidence, runs = 0.95, 1000
    rng = np.random.default_rng(seed(7))
    correct = _kn_runs(means, rho, runs, rng, confidence, delta=0.5)
    # One-sided: a procedure at its stated PCS gives this few correct or fewer with
    # probability below ALPHA / 2 (two configurations).
    p = stats.binom.cdf(correct, runs, confidence)
    assert p >= ALPHA / 2, f"{name}: {correct} of {runs} correct ({correct / runs:.3f}); " \
                           f"stated {confidence}"


class _Synthetic:
    """An evaluator of synthetic candidates: token -> (objective, constrained KPI) means."""

    def __init__(self, truth: dict[str, tuple[float, float]]) -> None:
        self.truth = truth

    def rows(self, scenarios: Any, replications: Any, label: str = "") -> list[list[dict[
            str, float]]]:
        return [[{"profit": self.truth[s][0] + 0.01 * ((r * 7919) % 13 - 6),
                  "cycle_time_p90_days": self.truth[s][1]} for r in reps]
                for s, reps in zip(scenarios, replications, strict=True)]


def test_a_selected_candidate_that_misses_a_constraint_gives_way() -> None:
    class Space:
        objectives = (Objective("profit", "higher"),)
        constraints = (Condition.parse("cycle_time_p90_days <= 60", ["cycle_time_p90_days"]),)

    class Settings:
        first_stage, indifference, confidence, max_replications = 5, 0.5, 0.95, 50

    ev = _Synthetic({"a": (10.0, 61.0), "b": (8.0, 59.0), "c": (6.0, 55.0)})
    selection, meets = _select(Space(), Settings(), ["a", "b", "c"], ev)  # type: ignore[arg-type]
    assert (selection.chosen, meets) == (1, True)
    ev = _Synthetic({"a": (10.0, 61.0), "b": (8.0, 62.0)})
    selection, meets = _select(Space(), Settings(), ["a", "b"], ev)  # type: ignore[arg-type]
    assert (selection.chosen, meets) == (1, False)


# ---- determinism --------------------------------------------------------------------

SMALL = {"horizon_days": 60.0, "warmup_days": 10.0}
STUDY = {"objective": "cycle_time_mean_days", "budget": {"headcount": 10}, "replications": 2,
         "batch": 4, "candidates": 2, "first_stage": 3, "max_replications": 6,
         "indifference": 0.2, "progress": False}


def small_study(trials: int, **kwargs: Any) -> Any:
    options = {"executor": "serial", **STUDY, **kwargs}
    return optimise(funnel(**SMALL), LEVERS, trials=trials, seed=seed(3), **options)


def test_over_budget_settings_are_skipped_and_never_counted() -> None:
    plan = small_study(10)
    assert len(plan.history) == 10
    assert plan.skipped > 0
    assert (plan.history["headcount"] <= 10).all()


class _Stop(Exception):
    pass


@pytest.fixture
def stop_in_batch(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Make the n-th call that simulates trials (counted in the list) fail."""
    calls = [0, 0]
    real = evaluate.replicate

    def replicate(jobs: Any, **kwargs: Any) -> Any:
        if jobs and jobs[0].label.startswith("trial"):
            calls[0] += 1
            if calls[0] == calls[1]:
                raise _Stop
        return real(jobs, **kwargs)

    monkeypatch.setattr(evaluate, "replicate", replicate)
    yield calls


def test_a_resumed_study_gives_the_history_of_an_uninterrupted_one(
        tmp_path: Path, stop_in_batch: list[int]) -> None:
    whole = small_study(19, storage=tmp_path / "whole.db")
    # Stopped after 11 trials (not a multiple of the batch of 4), then resumed.
    small_study(11, storage=tmp_path / "resumed.db")
    resumed = small_study(19, storage=tmp_path / "resumed.db")
    pd.testing.assert_frame_equal(resumed.history, whole.history)
    assert resumed.skipped == whole.skipped
    assert resumed.best is not None and whole.best is not None
    assert resumed.best.settings == whole.best.settings
    # Stopped while simulating the second batch that needs new runs, then resumed.
    stop_in_batch[:] = [0, 2]
    with pytest.raises(_Stop):
        small_study(19, storage=tmp_path / "stopped.db")
    stop_in_batch[1] = -1
    pd.testing.assert_frame_equal(small_study(19, storage=tmp_path / "stopped.db").history,
                                  whole.history)
    # A study asked for fewer trials than it holds gives its first ones.
    pd.testing.assert_frame_equal(small_study(7, storage=tmp_path / "whole.db").history,
                                  whole.history.iloc[:7])


def test_serial_and_two_processes_give_the_same_history() -> None:
    serial = small_study(12)
    pooled = small_study(12, executor="processes", workers=2)
    pd.testing.assert_frame_equal(serial.history, pooled.history)
    assert serial.best is not None and pooled.best is not None
    assert serial.best.settings == pooled.best.settings
    pd.testing.assert_frame_equal(serial.sensitivity(), pooled.sensitivity())


@pytest.mark.slow
def test_a_dask_cluster_gives_the_history_of_a_serial_run() -> None:
    distributed = pytest.importorskip("distributed")
    serial = small_study(8)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        on_dask = small_study(8, executor=client)
    pd.testing.assert_frame_equal(serial.history, on_dask.history)
    assert serial.best is not None and on_dask.best is not None
    assert serial.best.settings == on_dask.best.settings


# ---- two objectives -------------------------------------------------------------------

def _dominated(point: np.ndarray, others: np.ndarray) -> bool:
    """Whether another point is no worse on both (lower-is-better) and better on one."""
    return bool(((others <= point).all(axis=1) & (others < point).any(axis=1)).any())


def test_two_objectives_give_the_pareto_set_of_the_trials() -> None:
    """Cost against time in system: every allocation trades reps for waiting.

    The frontier must hold exactly the feasible settings no other feasible setting beats
    on both means (checked by enumeration), and, since a setting's salary is exact, its
    cost must rise while its time in system falls along it.
    """
    plan = small_study(16, objective=["cost", "cycle_time_mean_days"])
    assert [o.kpi for o in plan.objectives] == ["cost", "cycle_time_mean_days"]
    front = plan.frontier("cost", "cycle_time_mean_days")
    paths = list(LEVERS)
    trials = plan.history[plan.history["feasible"]].drop_duplicates(paths)
    points = trials[["cost", "cycle_time_mean_days"]].to_numpy(dtype=float)
    expected = {tuple(row) for row, point in zip(trials[paths].itertuples(index=False),
                                                 points, strict=True)
                if not _dominated(point, points)}
    assert {tuple(row) for row in front[paths].itertuples(index=False)} == expected
    assert len(front) >= 2, "two conflicting objectives should give more than one setting"
    assert front["cost"].is_monotonic_increasing
    assert front["cycle_time_mean_days"].is_monotonic_decreasing
    # The search explored the trade-off instead of one corner of it.
    assert plan.history["headcount"].nunique() >= 3
