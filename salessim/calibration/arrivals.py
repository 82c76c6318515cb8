"""Arrivals per channel: the rate, a monthly schedule when the months differ, the mix.

- **Rate**: deals created per working day over the data period, with the exact Poisson
  interval.
- **Schedule**: the count of each calendar month against its working days; when a
  chi-square test says the months differ (p < 0.05), each month gets its multiplier of
  the rate, repeating every year. Otherwise the rate is flat.
- **Dispersion**: the daily counts against the Poisson expectation (with the schedule):
  the index of dispersion (1 for Poisson) and its chi-square p-value. Burstier arrivals
  than Poisson (campaigns, bulk imports) make the simulation's intervals too narrow; the
  report says so.
- **Mix**: the share of each attribute value among the channel's deals that have one,
  with Wilson intervals.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from salessim.calibration.estimates import Estimate, poisson_rate, wilson
from salessim.calibration.tables import CrmData

SEASONALITY_P = 0.05
"""A monthly schedule is written when the months' counts differ at this level."""

MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
               "Dec")


@dataclass(frozen=True)
class ChannelFit:
    """What the data say about one channel's arrivals.

    Attributes:
        name: The channel.
        leads_per_day: Deals created per working day.
        schedule: The scenario's ``schedule`` block, or None for a flat rate.
        mix: Attribute -> value -> share.
        dispersion: Index of dispersion of the daily counts (1 for Poisson).
        dispersion_p: Its chi-square p-value (small: not Poisson).
        seasonality_p: The p-value of the test that the months differ.
        monthly: Per calendar month of the data: ``month`` (first day), ``deals``,
            ``working_days``.
    """

    name: str
    leads_per_day: float
    schedule: dict[str, Any] | None
    mix: dict[str, dict[str, float]]
    dispersion: float
    dispersion_p: float
    seasonality_p: float
    monthly: pd.DataFrame


def channel_names(crm: CrmData) -> list[str]:
    """The channels: the values of the channel column, or one channel ``crm``."""
    values = crm.opportunities["channel"]
    return sorted(values.dropna().unique()) if values.notna().any() else ["crm"]


def fit_arrivals(crm: CrmData, values: dict[str, list[str]]) -> tuple[list[ChannelFit],
                                                                       list[Estimate]]:
    """Rates, schedules and mixes of every channel.

    Args:
        crm: The data.
        values: Attribute -> the scenario's values (an attribute the data lack has one).

    Returns:
        The fits and their estimates (rates and mix shares).
    """
    opps = crm.opportunities
    channels = channel_names(crm)
    known = opps["channel"].notna() if opps["channel"].notna().any() else pd.Series(
        True, index=opps.index)
    # Deals with no channel are spread over the channels in proportion.
    spread = len(opps) / max(int(known.sum()), 1)
    days = _working_days(crm)
    fits, estimates = [], []
    for ch in channels:
        mine = opps[opps["channel"] == ch] if ch != "crm" else opps
        count = len(mine)
        rate, low, high = poisson_rate(count, crm.export_day + 1)
        rate, low, high = rate * spread, low * spread, high * spread
        estimates.append(Estimate(f"channels.{ch}.leads_per_day", f"deals a working day from "
                                  f"{ch}", rate, low, high, count,
                                  "deals created / working days, exact Poisson interval"))
        monthly = _monthly(mine["created"].to_numpy(), days, crm)
        schedule, p_season = _schedule(monthly, crm)
        dispersion, p_disp = _dispersion(mine["created"].to_numpy(), days, rate / spread,
                                         schedule, crm)
        mix: dict[str, dict[str, float]] = {}
        for attr, allowed in values.items():
            shares, found = _mix(mine[attr], allowed, ch, attr)
            mix[attr] = shares
            estimates += found
        fits.append(ChannelFit(ch, rate, schedule, mix, dispersion, p_disp, p_season, monthly))
    return fits, estimates


def _working_days(crm: CrmData) -> np.ndarray:
    """Every working day of the data period, as dates."""
    return crm.calendar.date(np.arange(int(crm.export_day) + 1, dtype=float))


def _monthly(created: np.ndarray, days: np.ndarray, crm: CrmData) -> pd.DataFrame:
    month_of_day = days.astype("datetime64[M]")
    deal_month = crm.calendar.date(created).astype("datetime64[M]")
    months, exposure = np.unique(month_of_day, return_counts=True)
    counts = np.array([int(np.sum(deal_month == m)) for m in months])
    return pd.DataFrame({"month": months.astype("datetime64[D]"), "deals": counts,
                         "working_days": exposure})


def _schedule(monthly: pd.DataFrame, crm: CrmData) -> tuple[dict[str, Any] | None, float]:
    """A yearly schedule of month multipliers, when the calendar months differ."""
    month_no = pd.to_datetime(monthly["month"]).dt.month.to_numpy()
    by_month = pd.DataFrame({"m": month_no, "deals": monthly["deals"],
                             "days": monthly["working_days"]}).groupby("m").sum()
    total, exposure = by_month["deals"].sum(), by_month["days"].sum()
    if len(by_month) < 2 or total == 0:
        return None, 1.0
    expected = by_month["days"] * total / exposure
    chi2 = float((((by_month["deals"] - expected) ** 2) / expected).sum())
    p = float(stats.chi2.sf(chi2, len(by_month) - 1))
    if p >= SEASONALITY_P:
        return None, p
    rate = total / exposure
    per_day = {int(m): float(d) / float(x) / rate for m, d, x in
               zip(by_month.index, by_month["deals"], by_month["days"], strict=True)}
    year_start = crm.calendar.start
    periods = []
    for k in range(12):
        first = _add_months(year_start, k)
        last = _add_months(year_start, k + 1)
        lo, hi = crm.calendar.day_of(first), crm.calendar.day_of(last)
        mult = per_day.get(first.month, 1.0)
        periods.append({"from_day": lo, "to_day": hi, "multiplier": float(f"{mult:.3g}")})
    return {"cycle_days": periods[-1]["to_day"], "periods": periods}, p


def _add_months(date: dt.date, k: int) -> dt.date:
    y, m = divmod(date.month - 1 + k, 12)
    return dt.date(date.year + y, m + 1, 1) if k else date


def multiplier_of(schedule: dict[str, Any] | None, day: np.ndarray) -> np.ndarray:
    """The schedule's multiplier on each day (1 without a schedule)."""
    out = np.ones(len(day))
    if schedule is None:
        return out
    phase = np.mod(day, schedule["cycle_days"])
    for p in schedule["periods"]:
        out[(phase >= p["from_day"]) & (phase < p["to_day"])] = p["multiplier"]
    return out


def _dispersion(created: np.ndarray, days: np.ndarray, rate: float,
                schedule: dict[str, Any] | None, crm: CrmData) -> tuple[float, float]:
    n_days = len(days)
    counts = np.bincount(np.floor(created).astype(int), minlength=n_days)[:n_days]
    expected = rate * multiplier_of(schedule, np.arange(n_days, dtype=float))
    expected = np.maximum(expected, 1e-9)
    dof = max(n_days - 1 - (12 if schedule else 0), 1)
    chi2 = float(np.sum((counts - expected) ** 2 / expected))
    return chi2 / dof, float(stats.chi2.sf(chi2, dof))


def _mix(column: pd.Series, allowed: list[str], channel: str, attr: str
         ) -> tuple[dict[str, float], list[Estimate]]:
    known = column.dropna()
    if known.empty:
        return {v: round(1 / len(allowed), 6) for v in allowed}, []
    counts = known.value_counts()
    n = len(known)
    shares = {v: int(counts.get(v, 0)) / n for v in allowed}
    rounded = _rounded_shares(shares)
    estimates = []
    for v in allowed:
        p, low, high = wilson(int(counts.get(v, 0)), n)
        estimates.append(Estimate(f"channels.{channel}.mix.{attr}.{v}",
                                  f"share of {channel} deals with {attr} {v}", p, low, high, n,
                                  "share, Wilson interval"))
    return rounded, estimates


def _rounded_shares(shares: dict[str, float]) -> dict[str, float]:
    """Shares to 4 decimals that still sum to 1 (the largest takes the rounding)."""
    out = {k: round(v, 4) for k, v in shares.items()}
    top = max(out, key=out.__getitem__)
    out[top] = round(out[top] + 1 - sum(out.values()), 4)
    return out
