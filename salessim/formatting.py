"""KPI values as people read them, for every front (terminal tables, HTML report, plots)."""

from __future__ import annotations

import math

SHARES = frozenset({"net_revenue_retention", "churn_rate_per_year"})
"""Shares whose names do not end in ``_rate`` or ``_share`` (churn: a share a year)."""


def is_share(kpi: str) -> bool:
    """Whether a KPI is a share (rates, shares and utilisation), shown in per cent."""
    return (kpi.endswith(("_rate", "_share")) or kpi.startswith("utilisation_")
            or kpi in SHARES)


def fmt(kpi: str, value: float) -> str:
    """A KPI value: shares in %, days with decimals, counts and money whole."""
    if not math.isfinite(value):
        return "-"
    if is_share(kpi):
        return f"{value:.1%}"
    if kpi.endswith("_days"):
        # Response times are often hours, a fraction of a day: keep them readable.
        return f"{value:,.2f}" if abs(value) < 10 else f"{value:,.1f}"
    if kpi.startswith("satisfaction"):  # points from 0 to 10
        return f"{value:.2f}"
    if kpi in ("leads", "won", "lost", "open"):
        return f"{value:,.1f}" if value != round(value) else f"{value:,.0f}"
    return f"{value:,.0f}"


def fmt_diff(kpi: str, value: float) -> str:
    """A signed difference of a KPI; differences of shares are in percentage points."""
    if not math.isfinite(value):
        return "-"
    text = f"{abs(value) * 100:.1f} pts" if is_share(kpi) else fmt(kpi, abs(value))
    # What rounds to zero is shown as +0, never as -0.
    shown_zero = not any(c in "123456789" for c in text)
    return ("+" if value >= 0 or shown_zero else "-") + text
