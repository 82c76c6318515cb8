"""Confidence intervals across replications."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

DEFAULT_CONFIDENCE = 0.95


@dataclass(frozen=True)
class Interval:
    """A Student-t confidence interval for the mean of independent replications.

    Attributes:
        mean: Sample mean.
        std: Sample standard deviation (ddof=1).
        low: Lower bound of the interval.
        high: Upper bound of the interval.
        n: Number of finite values used.
    """

    mean: float
    std: float
    low: float
    high: float
    n: int

    @property
    def half_width(self) -> float:
        """Half the interval's width."""
        return (self.high - self.low) / 2


def mean_ci(values: ArrayLike, confidence: float = DEFAULT_CONFIDENCE) -> Interval:
    """Mean and t confidence interval of the finite values (NaN ignored).

    With fewer than two values the bounds are NaN: one replication says nothing about
    its own noise.
    """
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        return Interval(np.nan, np.nan, np.nan, np.nan, 0)
    mean = float(x.mean())
    if n < 2:
        return Interval(mean, np.nan, np.nan, np.nan, n)
    std = float(x.std(ddof=1))
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * std / np.sqrt(n)
    return Interval(mean, std, mean - half, mean + half, n)
