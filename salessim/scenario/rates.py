"""Piecewise-constant arrival-rate schedules as cumulative intensity curves.

A channel's arrivals are a non-homogeneous Poisson process with rate
``leads_per_day * m(t)``, where ``m`` is the schedule's multiplier at day ``t``.
Arrival times are produced by mapping a unit-rate Poisson process through the inverse
of the cumulative multiplier ``M(t) = integral of m from 0 to t``: the same underlying
draws then give the same leads, only earlier or later, when a rate changes, which keeps
compared scenarios on common random numbers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from salessim.scenario.schema import Schedule


def rate_knots(
    schedule: Schedule | None, until_day: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Knots of the cumulative multiplier ``M`` on [0, until_day].

    Args:
        schedule: The rate schedule, or None for a constant multiplier of 1.
        until_day: End of the curve (days).

    Returns:
        Days and ``M`` at those days; ``M`` is piecewise linear between knots.
    """
    if schedule is None:
        return np.array([0.0, until_day]), np.array([0.0, until_day])
    cycle = schedule.cycle_days if schedule.cycle_days is not None else until_day
    bounds: list[tuple[float, float, float]] = []
    offset = 0.0
    while offset < until_day:
        for p in schedule.periods:
            start, end = offset + p.from_day, min(offset + p.to_day, until_day)
            if start < until_day:
                bounds.append((start, end, p.multiplier))
        if schedule.cycle_days is None:
            break
        offset += cycle
    bounds.sort()
    days, level = [0.0], [0.0]
    for start, end, mult in bounds:
        if start > days[-1]:  # gap between periods runs at multiplier 1
            level.append(level[-1] + (start - days[-1]))
            days.append(start)
        level.append(level[-1] + (end - start) * mult)
        days.append(end)
    if days[-1] < until_day:
        level.append(level[-1] + (until_day - days[-1]))
        days.append(until_day)
    return np.asarray(days), np.asarray(level)


def cumulative_rate(schedule: Schedule | None, day: float) -> float:
    """``M(day)``: the integral of the rate multiplier from 0 to ``day`` (days)."""
    _, level = rate_knots(schedule, day)
    return float(level[-1])
