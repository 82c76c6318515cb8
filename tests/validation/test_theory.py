"""The theory the validation tests compare against is itself right.

Each helper in ``support`` is checked against textbook closed forms, so a wrong formula
cannot make the engine look right (or wrong).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from .support import (
    absorbing_chain,
    erlang_c,
    fifo_waits,
    integral_of_schedule,
    mmc_mean_wait,
)


def erlang_c_direct(c: int, a: float) -> float:
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


@pytest.mark.parametrize(("c", "a"), [(1, 0.5), (2, 1.0), (3, 2.4), (5, 4.5), (12, 10.0)])
def test_erlang_c_matches_the_closed_form(c: int, a: float) -> None:
    assert erlang_c(c, a) == pytest.approx(erlang_c_direct(c, a), rel=1e-12)


def test_erlang_c_textbook_values() -> None:
    assert erlang_c(1, 0.7) == pytest.approx(0.7)  # M/M/1: P(wait) = rho
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    # M/M/1: Wq = rho / (mu - lambda)
    assert mmc_mean_wait(1, 0.8, 1.0) == pytest.approx(0.8 / 0.2)
    # M/M/2 with lambda = mu = 1: Wq = (1/3) / (2 - 1)
    assert mmc_mean_wait(2, 1.0, 1.0) == pytest.approx(1 / 3)
    with pytest.raises(ValueError):
        erlang_c(2, 2.0)


def test_chain_without_loops_is_the_product_of_pass_rates() -> None:
    p = [0.8, 0.5, 0.9]
    fundamental, won, lost = absorbing_chain(p, [0, 0, 0], [0, 1, 2], [0, 0, 0])
    assert won == pytest.approx(0.8 * 0.5 * 0.9)
    assert fundamental[0] == pytest.approx([1.0, 0.8, 0.4])
    assert lost == pytest.approx([0.2, 0.4, 0.04])


def test_chain_with_nurture_and_rework_matches_geometric_sums() -> None:
    # One stage retried after nurture: pass on a geometric number of tries.
    p, n = 0.4, 0.5
    fundamental, won, _ = absorbing_chain([p], [0.0], [0], [n])
    assert won == pytest.approx(p / (1 - (1 - p) * n))
    assert fundamental[0, 0] == pytest.approx(1 / (1 - (1 - p) * n))
    # Two stages, failures at the second go back to the first with share r.
    p0, p1, r = 0.7, 0.6, 0.5
    fundamental, won, lost = absorbing_chain([p0, p1], [0.0, r], [0, 0], [0.0, 0.0])
    loop = 1 / (1 - p0 * (1 - p1) * r)
    assert won == pytest.approx(p0 * p1 * loop)
    assert fundamental[0] == pytest.approx([loop, p0 * loop])
    assert won + lost.sum() == pytest.approx(1.0)


def test_schedule_integral_matches_brute_force() -> None:
    periods = [(4.0, 12.0, 3.0), (20.0, 32.0, 0.25)]
    step = 1 / 256
    for start, stop, cycle in [(23.0, 226.0, 40.0), (0.0, 40.0, 40.0), (5.5, 17.25, None)]:
        t = np.arange(start, stop, step) + step / 2
        phase = np.mod(t, cycle) if cycle else t
        m = np.ones_like(t)
        for lo, hi, mult in periods:
            m[(phase >= lo) & (phase < hi)] = mult
        assert integral_of_schedule(periods, cycle, start, stop) == pytest.approx(
            m.sum() * step, rel=1e-9)


def test_fifo_recursion_by_hand() -> None:
    arrivals, services = [0.0, 0.5, 1.0, 5.0], [2.0, 2.0, 2.0, 1.0]
    assert fifo_waits(arrivals, services, 1) == pytest.approx([0.0, 1.5, 3.0, 1.0])
    assert fifo_waits(arrivals, services, 2) == pytest.approx([0.0, 0.0, 1.0, 0.0])
    assert fifo_waits(arrivals, services, 4) == pytest.approx([0.0] * 4)
