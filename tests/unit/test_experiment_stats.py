"""Paired and unpaired differences, Holm, replication counts, MSER, KPI conditions."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from salessim.kpis import Condition, better, direction_of
from salessim.stats import (
    holm,
    mean_ci,
    mser,
    paired_difference,
    replications_for,
    unpaired_difference,
)


def test_paired_difference_is_the_t_interval_of_the_differences() -> None:
    rng = np.random.default_rng(4)
    base = rng.normal(100, 10, 25)
    other = base + rng.normal(1.5, 0.5, 25)
    d = paired_difference(other, base, 0.9)
    ci = mean_ci(other - base, 0.9)
    assert d.mean == pytest.approx(ci.mean)
    assert (d.low, d.high) == pytest.approx((ci.low, ci.high))
    assert d.p_value == pytest.approx(stats.ttest_1samp(other - base, 0).pvalue)
    assert d.n == 25


def test_pairing_removes_the_shared_noise_and_welch_does_not() -> None:
    rng = np.random.default_rng(5)
    shared = rng.normal(0, 50, 30)  # what common random numbers make both scenarios share
    base, other = shared + rng.normal(0, 1, 30), shared + 2 + rng.normal(0, 1, 30)
    paired, welch = paired_difference(other, base), unpaired_difference(other, base)
    assert paired.low > 0  # the +2 effect is found
    assert welch.low < 0 < welch.high  # and drowned in the shared noise without pairing
    assert paired.half_width < welch.half_width / 10


def test_constant_and_missing_differences() -> None:
    same = paired_difference([3.0, 4.0, 5.0], [3.0, 4.0, 5.0])
    assert (same.mean, same.low, same.high, same.p_value) == (0.0, 0.0, 0.0, 1.0)
    shifted = paired_difference([4.0, 5.0, 6.0], [3.0, 4.0, 5.0])
    assert (shifted.mean, shifted.p_value) == (1.0, 0.0)
    gappy = paired_difference([1.0, np.nan, 3.0, 7.0], [0.0, 1.0, np.nan, 5.0])
    assert gappy.n == 2 and gappy.mean == pytest.approx(1.5)
    assert np.isnan(paired_difference([1.0], [2.0]).low)


def test_holm_matches_the_step_down_rule() -> None:
    p = np.array([0.01, 0.04, 0.03, np.nan, 0.20])
    # sorted: 0.01*4, max(0.03*3, .04), max(0.04*2, .09), max(.2*1, .09)
    assert np.allclose(holm(p), [0.04, 0.09, 0.09, np.nan, 0.20], equal_nan=True)
    assert holm([0.9, 0.8])[0] == 1.0  # capped at 1, and never below a smaller p's
    assert holm([]).shape == (0,)


@pytest.mark.parametrize("target", [{"half_width": 0.5}, {"relative": 0.01}])
def test_replications_for_gives_the_smallest_sufficient_count(target: dict[str, float]
                                                              ) -> None:
    x = np.random.default_rng(6).normal(50, 4, 12)
    n = replications_for(x, **target)
    goal = target.get("half_width") or target["relative"] * abs(x.mean())
    sd = x.std(ddof=1)

    def half(k: int) -> float:
        return float(stats.t.ppf(0.975, k - 1) * sd / np.sqrt(k))

    assert half(n) <= goal < half(n - 1)


def test_replications_for_refuses_unusable_input() -> None:
    with pytest.raises(ValueError, match="exactly one target"):
        replications_for([1.0, 2.0], half_width=1.0, relative=0.1)
    with pytest.raises(ValueError, match="at least two"):
        replications_for([1.0, np.nan], half_width=1.0)
    with pytest.raises(ValueError, match="positive"):
        replications_for([1.0, 2.0], half_width=0.0)
    assert replications_for([2.0, 2.0, 2.0], half_width=0.1) == 2


@pytest.mark.parametrize("transient", [0, 40, 120])
def test_mser_cuts_at_the_end_of_a_known_transient(transient: int) -> None:
    rng = np.random.default_rng(transient)
    ramp = np.linspace(0.0, 100.0, transient, endpoint=False)
    series = np.concatenate([ramp, np.full(600 - transient, 100.0)]) + rng.normal(0, 2, 600)
    cut = mser(series)
    assert transient - 10 <= cut <= transient + 15


def test_mser_of_a_short_series_cuts_nothing() -> None:
    assert mser([1.0, 5.0, 2.0]) == 0


def test_conditions_are_parsed_as_data() -> None:
    known = ["cycle_time_p90_days", "conversion_rate", "profit"]
    c = Condition.parse(" cycle_time_p90_days<=40 ", known)
    assert (c.kpi, c.op, c.value) == ("cycle_time_p90_days", "<=", 40.0)
    assert c.holds(40.0) and not c.holds(40.5) and not c.holds(float("nan"))
    assert Condition.parse("conversion_rate >= 25%", known).value == pytest.approx(0.25)
    assert Condition.parse("profit > -1.5e6", known).value == -1.5e6
    with pytest.raises(ValueError, match="cannot read the condition"):
        Condition.parse("__import__('os').system('true') < 1", known)
    with pytest.raises(ValueError, match="did you mean 'profit'"):
        Condition.parse("proft > 0", known)


def test_directions() -> None:
    assert better("profit") == "higher" and better("cost_per_won") == "lower"
    assert better("utilisation_ae") is None
    with pytest.raises(ValueError, match="no better direction"):
        direction_of("utilisation_ae", ["utilisation_ae", "profit"])


def test_differences_are_signed_and_never_minus_zero() -> None:
    from salessim.formatting import fmt_diff

    assert fmt_diff("conversion_rate", 0.015) == "+1.5 pts"
    assert fmt_diff("utilisation_ae", -0.0001) == "+0.0 pts"
    assert fmt_diff("profit", -98_264.5) == "-98,264"
    assert fmt_diff("cycle_time_mean_days", -0.004) == "+0.00"
    assert fmt_diff("cost", float("nan")) == "-"
