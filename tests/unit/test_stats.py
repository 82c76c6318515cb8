"""Confidence intervals: the t interval covers the true mean as often as it claims."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from salessim.stats import mean_ci


def test_interval_matches_scipy() -> None:
    x = np.array([3.0, 5.0, 4.0, 6.5, 5.5])
    ci = mean_ci(x, 0.9)
    low, high = stats.t.interval(0.9, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    assert (ci.low, ci.high) == pytest.approx((low, high))
    assert ci.n == 5 and ci.half_width == pytest.approx((high - low) / 2)


@pytest.mark.parametrize("n", [3, 10, 30])
def test_coverage_is_nominal(n: int) -> None:
    """Over many normal samples the 95% interval holds the mean about 95% of the time."""
    rng = np.random.default_rng(2024)
    trials = 4000
    hits = sum(
        mean_ci(s, 0.95).low <= 10.0 <= mean_ci(s, 0.95).high
        for s in rng.normal(10.0, 3.0, size=(trials, n))
    )
    # Binomial(trials, 0.95): a 4.5-sigma band makes a false failure practically impossible
    sigma = math.sqrt(trials * 0.95 * 0.05)
    assert abs(hits - 0.95 * trials) < 4.5 * sigma


def test_nan_values_are_ignored_and_short_samples_have_no_interval() -> None:
    ci = mean_ci([1.0, np.nan, 3.0])
    assert ci.n == 2 and ci.mean == 2.0
    one = mean_ci([4.0])
    assert one.mean == 4.0 and math.isnan(one.low) and math.isnan(one.std)
    none = mean_ci([])
    assert none.n == 0 and math.isnan(none.mean)
