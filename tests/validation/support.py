"""Helpers for the validation-against-theory tests: minimal scenarios, theory, CI checks.

Statistical policy (the same in every validation test):

* Each check compares a value known from theory with a Student-t confidence interval of
  the mean over independent replications (``salessim.stats.mean_ci`` applied to one
  number per replication). Tolerances therefore come from the run's own noise, never
  from numbers pinned to a seed.
* A test function that makes ``k`` interval checks (over all its parametrized cases)
  gives each the confidence ``1 - ALPHA / k`` (Bonferroni), so a correct engine fails
  a given test function with probability at most ``ALPHA`` = 0.1 %. Where a statistic
  is known to make the t interval too optimistic, the test says so and is stricter
  (the M/M/c mean wait). With about a dozen such functions a change that
  merely reshuffles the random numbers trips the suite about once in a hundred times;
  re-run with another seed (``SALESSIM_VALIDATION_SEED``) before suspecting the engine.
* Scenarios are sized so that the interval half-widths stay small against the effects a
  real bug produces (wrong units, wrong rep counts, wrong routing); each test notes its
  typical relative half-width.
* The seed is fixed so runs are reproducible; set the environment variable
  ``SALESSIM_VALIDATION_SEED`` to check the same theory on other random numbers.
"""

from __future__ import annotations

import copy
import heapq
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from salessim.stats import Interval, mean_ci

ALPHA = 0.001
"""Largest false-failure probability of one validation test function."""

DEFAULT_SEED = 20_260_522


def seed(offset: int = 0) -> int:
    """Root seed of a validation run (``SALESSIM_VALIDATION_SEED`` overrides the default)."""
    return int(os.environ.get("SALESSIM_VALIDATION_SEED", DEFAULT_SEED)) + offset


_MIX_1 = {"grade": {"A": 1.0}, "region": {"r": 1.0}, "product": {"p": 1.0},
          "segment": {"s": 1.0}}
_ZERO = {"dist": "fixed", "value": 0.0}

_BASE: dict[str, Any] = {
    "schema_version": 1,
    "name": "validation",
    "calendar": {"horizon_days": 100.0, "warmup_days": 0.0, "drain_limit_days": 500.0,
                 "hours_per_day": 8.0},
    "grades": ["A"],
    "regions": ["r"],
    "products": ["p"],
    "segments": ["s"],
    "channels": [{"name": "inbound", "leads_per_day": 1.0, "mix": _MIX_1}],
    "deal_value": {"distribution": {"dist": "fixed", "value": 1000.0}},
    "roles": [{"name": "rep", "salary_per_day": 0.0, "assignment": "pooled",
               "dispatch": "fifo"}],
    "teams": [{"name": "everyone", "reps": {"rep": {"headcount": 1}}}],
    "stages": [{"name": "work", "role": "rep",
                "effort_hours": {"dist": "exponential", "mean": 8.0},
                "customer_delay_days": _ZERO, "conversion": {"A": 1.0}}],
    # No handoff delay, no information loss, no going cold, no travel, no team effects:
    # nothing but the queue and the routing acts on a lead unless a test adds it.
    "handoff": {"delay_days": _ZERO, "info_loss_prob": 0.0, "info_loss_logit": 0.0},
    "going_cold": {"logit_per_day": 0.0},
    "travel": {"zones": [{"up_to_regions": 1, "hours": _ZERO}]},
    "payment": {"invoice_delay_days": _ZERO, "payment_days": _ZERO},
}


def base_scenario() -> dict[str, Any]:
    """A fresh minimal scenario document: one grade, region, product and segment, one
    channel (1 lead/day, Poisson, no schedule), one pooled FIFO role with one rep, one
    stage with exponential effort of 8 hours (= 1 day at 8 hours per day) that every
    lead passes, and no delays, travel, handoff or going-cold effects.
    """
    return copy.deepcopy(_BASE)


# ---- theory --------------------------------------------------------------------------

def erlang_c(servers: int, offered_load: float) -> float:
    """Probability that an arrival must wait in an M/M/c queue (Erlang C).

    Args:
        servers: Number of servers ``c``.
        offered_load: ``a = lambda / mu`` in Erlangs; must be below ``c``.

    Uses the numerically stable Erlang B recursion ``B(k) = a B(k-1) / (k + a B(k-1))``
    and ``C = c B / (c - a (1 - B))``.
    """
    if not 0 <= offered_load < servers:
        raise ValueError("the queue is unstable unless 0 <= a < c")
    b = 1.0
    for k in range(1, servers + 1):
        b = offered_load * b / (k + offered_load * b)
    return servers * b / (servers - offered_load * (1 - b))


def mmc_mean_wait(servers: int, arrival_rate: float, service_rate: float) -> float:
    """Mean wait in the queue of an M/M/c system: ``Wq = C / (c mu - lambda)``."""
    c_prob = erlang_c(servers, arrival_rate / service_rate)
    return c_prob / (servers * service_rate - arrival_rate)


def absorbing_chain(
    p_pass: Sequence[float],
    rework_share: Sequence[float],
    rework_to: Sequence[int],
    nurture_share: Sequence[float],
) -> tuple[NDArray[np.float64], float, NDArray[np.float64]]:
    """The sales funnel of one lead grade as an absorbing Markov chain.

    The transient states are the stages (one visit = one attempt). From stage ``i`` a
    lead passes with ``p_pass[i]`` (to stage ``i + 1``, or to *won* after the last
    stage); of the failures a share ``rework_share[i]`` goes to stage ``rework_to[i]``,
    a share ``nurture_share[i]`` retries stage ``i``, and the rest is *lost* at ``i``.

    Returns:
        ``N = (I - Q)^-1`` (row ``i``: expected visits to each stage of a lead now at
        ``i``), the probability that a lead starting at the first stage is won, and the
        probability it is lost at each stage.
    """
    n = len(p_pass)
    q = np.zeros((n, n))
    win = np.zeros(n)
    lose = np.zeros(n)
    for i in range(n):
        fail = 1.0 - p_pass[i]
        if i + 1 < n:
            q[i, i + 1] += p_pass[i]
        else:
            win[i] = p_pass[i]
        q[i, rework_to[i]] += fail * rework_share[i]
        q[i, i] += fail * nurture_share[i]
        lose[i] = fail * (1.0 - rework_share[i] - nurture_share[i])
    fundamental = np.linalg.inv(np.eye(n) - q)
    return fundamental, float(fundamental[0] @ win), fundamental[0] * lose


def integral_of_schedule(
    periods: Sequence[tuple[float, float, float]], cycle_days: float | None,
    start: float, stop: float,
) -> float:
    """Integral of a rate multiplier over [start, stop) (days).

    Written independently of the engine's ``salessim.scenario.rates``: multiplier 1
    everywhere, plus ``(m - 1)`` times the overlap of each (repeated) period
    ``(from_day, to_day, m)`` with the interval.
    """
    total = stop - start
    cycles = range(int(stop // cycle_days) + 1) if cycle_days else range(1)
    for k in cycles:
        offset = k * cycle_days if cycle_days else 0.0
        for lo, hi, mult in periods:
            overlap = min(stop, offset + hi) - max(start, offset + lo)
            total += (mult - 1.0) * max(overlap, 0.0)
    return total


# ---- checks --------------------------------------------------------------------------

def interval(values: ArrayLike, checks: int = 1) -> Interval:
    """t interval of per-replication values at confidence ``1 - ALPHA / checks``."""
    return mean_ci(values, 1.0 - ALPHA / checks)


def assert_covers(values: ArrayLike, expected: float, what: str, checks: int = 1) -> Interval:
    """Assert that the CI of the mean of ``values`` (one per replication) holds ``expected``.

    Args:
        values: One measurement per replication.
        expected: The value theory gives.
        what: Name of the quantity, for the failure message.
        checks: Number of interval checks the calling test makes (Bonferroni).
    """
    ci = interval(values, checks)
    assert ci.n >= 10, f"{what}: only {ci.n} replications gave a value"
    assert ci.low <= expected <= ci.high, (
        f"{what}: theory {expected:.6g} is outside the {100 * (1 - ALPHA / checks):.6g}% "
        f"interval [{ci.low:.6g}, {ci.high:.6g}] (simulated mean {ci.mean:.6g}, "
        f"n={ci.n} replications)"
    )
    return ci


def time_in_window(start: ArrayLike, stop: ArrayLike, lo: float, hi: float) -> float:
    """Total length of the intervals [start, stop) that falls inside [lo, hi) (days)."""
    a = np.clip(np.asarray(start, dtype=float), lo, hi)
    b = np.clip(np.asarray(stop, dtype=float), lo, hi)
    return float(np.sum(b - a))


def fifo_waits(arrivals: ArrayLike, services: ArrayLike, servers: int) -> NDArray[np.float64]:
    """Waits in a FIFO queue with ``servers`` identical servers (any G/G/c).

    Customers in arrival order each take the server that frees first:
    ``start = max(arrival, earliest free time)``, then that server is free at
    ``start + service``. This is the definition of the FIFO multi-server queue (the
    Kiefer-Wolfowitz recursion), independent of any simulation engine.
    """
    free = [0.0] * servers
    heapq.heapify(free)
    out = np.empty(len(np.asarray(arrivals)))
    for i, (t, s) in enumerate(zip(np.asarray(arrivals, dtype=float).tolist(),
                                   np.asarray(services, dtype=float).tolist(), strict=True)):
        start = max(t, free[0])
        heapq.heapreplace(free, start + s)
        out[i] = start - t
    return out
