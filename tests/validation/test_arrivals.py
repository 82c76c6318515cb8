"""Lead arrivals are the Poisson processes the channels describe, rate schedules included.

Two channels: ``steady`` at a constant rate and ``seasonal`` with a repeating schedule
(a campaign at three times the rate, a quiet spell at a quarter of it). The warm-up
and the horizon both fall inside schedule periods, so the expected number of counted
leads needs the integral of the multiplier over [warm-up, horizon), computed here
independently of the engine (``support.integral_of_schedule``). The single stage turns
every lead away at once, so a replication costs little more than its arrivals.

Checks, per replication then a t interval (see ``support``): the number of counted
leads in total and per channel; the seasonal channel's counts inside campaign, quiet
and normal days; the spread of the counts (Poisson: variance equals the mean, tested
with the dispersion statistic, which is chi-square under the Poisson law); and the
gaps between arrivals of the steady channel (exponential, Kolmogorov-Smirnov). Typical
relative half-widths: 1.5 % for the total, 1.5-2.5 % per channel, 3.5 % for campaign
and normal days, 10 % for the quiet days; a schedule shifted by one day already fails
(tried on a deliberately broken copy of the engine).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import salessim as ss

from .support import ALPHA, assert_covers, base_scenario, integral_of_schedule, seed

WARMUP_DAYS = 23.0  # inside a quiet spell
HORIZON_DAYS = 226.0  # inside a quiet spell of a later cycle
STEADY_PER_DAY = 6.0
SEASONAL_PER_DAY = 4.0
CYCLE_DAYS = 40.0
CAMPAIGN = (4.0, 12.0, 3.0)  # from_day, to_day, multiplier within each cycle
QUIET = (20.0, 32.0, 0.25)
REPLICATIONS = 30


def arrivals_scenario() -> ss.Scenario:
    doc = base_scenario()
    doc["name"] = "arrivals with a rate schedule"
    doc["calendar"].update(horizon_days=HORIZON_DAYS, warmup_days=WARMUP_DAYS,
                           drain_limit_days=10.0)
    mix = doc["channels"][0]["mix"]
    doc["channels"] = [
        {"name": "steady", "leads_per_day": STEADY_PER_DAY, "mix": mix},
        {"name": "seasonal", "leads_per_day": SEASONAL_PER_DAY, "mix": mix,
         "schedule": {"cycle_days": CYCLE_DAYS, "periods": [
             {"from_day": lo, "to_day": hi, "multiplier": m} for lo, hi, m in (CAMPAIGN, QUIET)
         ]}},
    ]
    doc["stages"][0].update(effort_hours={"dist": "fixed", "value": 0.0},
                            conversion={"A": 0.0})
    return ss.load_scenario(doc)


def seasonal_integral(start: float = WARMUP_DAYS, stop: float = HORIZON_DAYS) -> float:
    return integral_of_schedule([CAMPAIGN, QUIET], CYCLE_DAYS, start, stop)


def day_kind(days: np.ndarray) -> np.ndarray:
    """``campaign``, ``quiet`` or ``normal`` for each day of the cycle."""
    phase = np.mod(days, CYCLE_DAYS)
    return np.select(
        [(phase >= CAMPAIGN[0]) & (phase < CAMPAIGN[1]), (phase >= QUIET[0]) & (phase < QUIET[1])],
        ["campaign", "quiet"], "normal",
    )


def expected_by_kind() -> dict[str, float]:
    """Expected counted seasonal leads on campaign, quiet and normal days."""
    grid = np.arange(WARMUP_DAYS, HORIZON_DAYS, 1 / 64) + 1 / 128  # period ends are on it
    kinds = day_kind(grid)
    multiplier = {"campaign": CAMPAIGN[2], "quiet": QUIET[2], "normal": 1.0}
    return {k: SEASONAL_PER_DAY * multiplier[k] * float((kinds == k).sum()) / 64
            for k in multiplier}


@pytest.fixture(scope="module")
def res() -> ss.Results:
    return ss.run(arrivals_scenario(), replications=REPLICATIONS, seed=seed(303))


@pytest.fixture(scope="module")
def counted(res: ss.Results) -> pd.DataFrame:
    return res.leads[res.leads["cohort"]]


def test_theory_pieces_agree() -> None:
    by_kind = expected_by_kind()
    assert sum(by_kind.values()) == pytest.approx(SEASONAL_PER_DAY * seasonal_integral())
    # The engine's own expected count over the whole horizon agrees with the integral.
    total = STEADY_PER_DAY * HORIZON_DAYS + SEASONAL_PER_DAY * seasonal_integral(0.0)
    assert arrivals_scenario().expected_leads() == pytest.approx(total)


def test_counted_leads_match_rate_integral(res: ss.Results, counted: pd.DataFrame) -> None:
    steady = STEADY_PER_DAY * (HORIZON_DAYS - WARMUP_DAYS)
    seasonal = SEASONAL_PER_DAY * seasonal_integral()
    per_channel = counted.groupby(["replication", "channel"]).size().unstack(fill_value=0)
    assert (per_channel.sum(axis=1).to_numpy() == res.kpis["leads"].to_numpy()).all()
    assert_covers(res.kpis["leads"], steady + seasonal, "counted leads", checks=3)
    assert_covers(per_channel["steady"], steady, "steady leads", checks=3)
    assert_covers(per_channel["seasonal"], seasonal, "seasonal leads", checks=3)


def test_schedule_shapes_arrivals_over_time(res: ss.Results, counted: pd.DataFrame) -> None:
    seasonal = counted[counted["channel"] == "seasonal"]
    kinds = pd.Series(day_kind(seasonal["arrival_time"].to_numpy()), index=seasonal.index)
    counts = kinds.groupby(seasonal["replication"]).value_counts().unstack(fill_value=0)
    counts = counts.reindex(res.kpis.index, fill_value=0)
    for kind, expected in expected_by_kind().items():
        assert_covers(counts[kind], expected, f"seasonal leads on {kind} days", checks=3)


def test_counts_are_poisson_dispersed(res: ss.Results) -> None:
    """Sum of (n - mu)^2 / mu over replications is chi-square with R degrees of freedom
    (normal approximation of the Poisson law, excellent at thousands of leads); two-sided
    test at level ALPHA."""
    mu = STEADY_PER_DAY * (HORIZON_DAYS - WARMUP_DAYS) + SEASONAL_PER_DAY * seasonal_integral()
    n = res.kpis["leads"].to_numpy(dtype=float)
    statistic = float(((n - mu) ** 2 / mu).sum())
    low, high = stats.chi2.ppf([ALPHA / 2, 1 - ALPHA / 2], len(n))
    assert low <= statistic <= high, (
        f"dispersion statistic {statistic:.1f} outside [{low:.1f}, {high:.1f}]: variance of "
        f"counts {n.var(ddof=1):.0f} vs Poisson {mu:.0f}"
    )


def test_gaps_between_steady_arrivals_are_exponential(res: ss.Results) -> None:
    leads = res.leads[res.leads["channel"] == "steady"].sort_values(
        ["replication", "arrival_time"])
    gaps = leads.groupby("replication")["arrival_time"].diff().dropna().to_numpy()
    result = stats.kstest(gaps, stats.expon(scale=1 / STEADY_PER_DAY).cdf)
    assert result.pvalue > ALPHA, f"gaps not exponential: KS p = {result.pvalue:.2g}"
