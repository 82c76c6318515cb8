"""Confidence intervals across replications."""

from __future__ import annotations

import math
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


@dataclass(frozen=True)
class Difference:
    """A difference of means between two scenarios, with its confidence interval.

    Attributes:
        mean: Mean difference (first minus second), in the KPI's unit.
        low: Lower bound of the interval.
        high: Upper bound of the interval.
        p_value: Two-sided p-value of "no difference".
        n: Number of replications (pairs, for a paired difference) used.
    """

    mean: float
    low: float
    high: float
    p_value: float
    n: int

    @property
    def half_width(self) -> float:
        """Half the interval's width."""
        return (self.high - self.low) / 2


_NO_DIFFERENCE = Difference(np.nan, np.nan, np.nan, np.nan, 0)


def paired_difference(
    x: ArrayLike, y: ArrayLike, confidence: float = DEFAULT_CONFIDENCE
) -> Difference:
    """Paired t comparison of ``x - y`` over replications run on common random numbers.

    ``x[i]`` and ``y[i]`` must come from the same replication (seed and index) of two
    scenarios. Pairs with a NaN on either side are left out.

    A constant difference (the scenarios agree on that KPI in every replication, e.g.
    the number of leads when only the process changed) has a zero-width interval and a
    p-value of 1 if it is zero, 0 otherwise.
    """
    a, b = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    keep = np.isfinite(a) & np.isfinite(b)
    a, b = a[keep], b[keep]
    n = len(a)
    if n < 2:
        return Difference(float((a - b).mean()) if n else np.nan, np.nan, np.nan, np.nan, n)
    d = a - b
    if np.all(d == d[0]):
        shift = float(d[0])
        return Difference(shift, shift, shift, 1.0 if shift == 0 else 0.0, n)
    test = stats.ttest_rel(a, b)
    ci = test.confidence_interval(confidence)
    return Difference(float(d.mean()), float(ci.low), float(ci.high), float(test.pvalue), n)


def unpaired_difference(
    x: ArrayLike, y: ArrayLike, confidence: float = DEFAULT_CONFIDENCE
) -> Difference:
    """Welch t comparison of ``mean(x) - mean(y)`` for independent samples (NaN left out).

    What a comparison would give without common random numbers; used to show how much
    pairing narrows the interval.
    """
    a, b = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if len(a) < 2 or len(b) < 2:
        return _NO_DIFFERENCE
    test = stats.ttest_ind(a, b, equal_var=False)
    ci = test.confidence_interval(confidence)
    return Difference(float(a.mean() - b.mean()), float(ci.low), float(ci.high),
                      float(test.pvalue), min(len(a), len(b)))


def holm(p_values: ArrayLike) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values for a family of tests (NaN stays NaN).

    Comparing several scenarios with one baseline makes several tests at once; the
    adjusted p-values keep the chance of any false "significant" difference at the
    stated level (family-wise error rate), with more power than plain Bonferroni.
    """
    p = np.asarray(p_values, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    valid = np.flatnonzero(np.isfinite(p))
    m = len(valid)
    order = valid[np.argsort(p[valid], kind="stable")]
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return out


def replications_for(
    values: ArrayLike,
    *,
    half_width: float | None = None,
    relative: float | None = None,
    confidence: float = DEFAULT_CONFIDENCE,
) -> int:
    """Replications needed for the t interval of the mean to be at most a target width.

    Uses the sample standard deviation of ``values`` (one per replication, NaN left
    out) as the estimate of the true one; the answer firms up as more replications run.

    Args:
        values: The KPI per replication so far (at least two finite values).
        half_width: Target half-width, in the KPI's unit.
        relative: Target half-width as a share of the mean (e.g. 0.02 for +-2 %).
        confidence: Confidence level of the interval.

    Returns:
        The total number of replications needed (at least 2).

    Raises:
        ValueError: Unless exactly one target is given and positive, or with fewer
            than two finite values.
    """
    if (half_width is None) == (relative is None):
        raise ValueError("give exactly one target: half_width (in the KPI's unit) or "
                         "relative (a share of the mean, e.g. 0.02)")
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    if len(x) < 2:
        raise ValueError("at least two replications with a value are needed to estimate "
                         "the noise")
    if half_width is not None:
        target = half_width
    else:
        assert relative is not None  # exactly one target, checked above
        target = relative * abs(float(x.mean()))
    if not target > 0:
        raise ValueError(f"the target half-width must be positive; got {target:g}")
    sd = float(x.std(ddof=1))
    if sd == 0:
        return 2
    quantile = 0.5 + confidence / 2
    n = max(2, math.ceil((float(stats.norm.ppf(quantile)) * sd / target) ** 2))
    while float(stats.t.ppf(quantile, n - 1)) * sd / math.sqrt(n) > target:
        n += 1
    return n


def mser(series: ArrayLike, batch: int = 5) -> int:
    """MSER truncation point of an output series (MSER-5 with the default batch size).

    The series is cut into batch means; the truncation ``d`` (in batches, at most
    half of them) that minimises the marginal standard error
    ``sum((Y[d:] - mean(Y[d:]))**2) / (k - d)**2`` is the end of the initial transient.

    Args:
        series: Observations in time order (e.g. work in progress sampled daily and
            averaged over replications).
        batch: Observations per batch.

    Returns:
        The number of leading observations to discard.
    """
    x = np.asarray(series, dtype=np.float64)
    k = len(x) // batch
    if k < 4:
        return 0
    y = x[: k * batch].reshape(k, batch).mean(axis=1)
    # Suffix sums give every truncation's statistic in one pass.
    tail_n = np.arange(k, 0, -1, dtype=np.float64)
    tail_sum = np.cumsum(y[::-1])[::-1]
    tail_sq = np.cumsum((y * y)[::-1])[::-1]
    sse = tail_sq - tail_sum**2 / tail_n
    stat = sse / tail_n**2
    d = int(np.argmin(stat[: k // 2 + 1]))
    return d * batch
