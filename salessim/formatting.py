"""KPI values as people read them, for every front (terminal tables, HTML report, plots)."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

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
    return _signed(text, value, sign=True)



KPI_WORDS: dict[str, str] = {
    "leads": "Leads counted", "won": "Deals won", "lost": "Deals lost",
    "open": "Deals still open", "conversion_rate": "Conversion rate",
    "cycle_time_mean_days": "Cycle time, mean", "cycle_time_p50_days": "Cycle time, median",
    "cycle_time_p90_days": "Cycle time, 90th percentile",
    "response_time_mean_days": "Response time, mean", "revenue": "Revenue",
    "collected": "Cash collected", "collection_rate": "Collection rate", "cost": "Cost",
    "cost_per_won": "Cost per deal won", "profit": "Profit",
    "full_book_share": "Leads that waited for room in a rep's book",
    "on_time_delivery_rate": "Deliveries on time", "complaint_rate": "Complaint rate",
    "satisfaction_mean": "Customer satisfaction, mean",
    "repurchase_rate": "Customers who buy again", "churn_rate_per_year": "Churn a year",
    "net_revenue_retention": "Net revenue retention",
    "customer_lifetime_value": "Customer lifetime value", "referral_leads": "Referral leads",
    "repeat_revenue": "Repeat revenue", "service_wait_mean_days": "Service wait, mean",
    "days_sales_outstanding": "Days sales outstanding",
    "collected_within_terms_rate": "Cash collected within terms",
    "target_attainment_mean": "Target attainment, mean", "at_target_share": "Reps at target",
    "variable_pay": "Commission paid", "cost_of_sales_share": "Cost of sales",
    "price_realisation": "Price realisation",
    "period_end_close_share": "Deals closed at period end",
    "approval_wait_mean_days": "Approval wait, mean", "forecast_bias_pct": "Forecast bias",
    "forecast_mape_pct": "Forecast error (MAPE)", "cleared_deals": "Deals cleared as stale",
}
"""KPI names as a reader says them, without the unit (``kpi_label`` adds it)."""

COUNTED: dict[str, str] = {"leads": "leads", "won": "deals", "lost": "deals", "open": "deals",
                           "referral_leads": "leads", "cleared_deals": "deals"}
"""Count KPIs and what they count."""

MONEY = frozenset({"revenue", "collected", "cost", "cost_per_won", "profit", "variable_pay",
                   "customer_lifetime_value", "repeat_revenue"})
"""KPIs in the scenario's currency."""

RATIOS = frozenset({"price_realisation", "target_attainment_mean"})
"""Ratios that are not named as shares but read best in per cent (1 is 100%)."""

HEADLINE_KPIS: tuple[str, ...] = ("leads", "won", "conversion_rate", "cycle_time_mean_days",
                                  "cycle_time_p90_days", "revenue", "cost", "profit")
"""The KPIs a short view of results shows (a notebook's table of a run)."""


def kpi_words(kpi: str) -> str:
    """A KPI as words: ``cycle_time_p90_days`` -> ``Cycle time, 90th percentile``."""
    if kpi in KPI_WORDS:
        return KPI_WORDS[kpi]
    if kpi.startswith("utilisation_"):
        return f"Utilisation of {kpi.removeprefix('utilisation_')}"
    words = kpi.removesuffix("_days").replace("_", " ")
    return words[:1].upper() + words[1:]


def kpi_unit(kpi: str, currency: str = "") -> str:
    """A KPI's unit: ``%``, ``working days``, the currency, what a count counts, or ``""``."""
    if _in_per_cent(kpi) or kpi.endswith("_pct"):
        return "%"
    if kpi.endswith("_days") or kpi == "days_sales_outstanding":
        return "working days"
    if kpi in MONEY:
        return currency
    if kpi.startswith("satisfaction"):
        return "points of 10"
    return COUNTED.get(kpi, "")


def kpi_label(kpi: str, currency: str = "") -> str:
    """A KPI with its unit, as a table or an axis names it.

    ``Cycle time, 90th percentile (working days)``, ``Profit (EUR)``. Shares and counts
    carry no unit in brackets: their words say it (``Conversion rate``, ``Deals won``).
    """
    unit = kpi_unit(kpi, currency)
    plain = not unit or unit == "%" or kpi in COUNTED
    return kpi_words(kpi) if plain else f"{kpi_words(kpi)} ({unit})"


def money(value: float, currency: str = "", sign: bool = False) -> str:
    """An amount rounded for reading: ``1.07M EUR``, ``14.0M EUR``, ``878k EUR``, ``9,500 EUR``.

    Three significant figures from 10,000 on, trailing zeros kept (``14.0M``, not
    ``14M`` beside ``14.2M``), so that every amount in k and M reads to one precision;
    whole units below.

    Args:
        value: The amount.
        currency: Written after the number when given.
        sign: Write ``+`` before amounts that are not below zero (differences).
    """
    if not math.isfinite(value):
        return "-"
    size = abs(value)
    text = f"{size:,.0f}"
    if size >= 999_500:
        text = _three_figures(size / 1e6) + "M"
    elif size >= 10_000:
        text = _three_figures(size / 1e3) + "k"
    return _signed(text, value, sign) + (f" {currency}" if currency else "")


def _three_figures(size: float) -> str:
    """A positive number to three significant figures, zeros kept: 14.0, 1.07, 980, 1,230."""
    rounded = float(f"{size:.3g}")  # first, so that 9.996 counts as 10.0 (two integer digits)
    decimals = max(0, 3 - len(str(int(rounded))))
    return f"{rounded:,.{decimals}f}"


def whole(value: float) -> str:
    """A mean count as a whole number, halves rounded away from zero (71.5 deals: 72)."""
    if not math.isfinite(value):
        return "-"
    return _signed(f"{math.floor(abs(value) + 0.5):,}", value, sign=False)


def fmt_number(kpi: str, value: float, sign: bool = False) -> str:
    """A KPI value without its unit, for a table whose label names it (``kpi_label``).

    Shares in % (their differences in points: ``+0.3 pts``), days with decimals, counts
    whole, money rounded to k and M.

    Args:
        kpi: The KPI.
        value: Its value, or a difference of it.
        sign: Write ``+`` before values that are not below zero (differences).
    """
    if not math.isfinite(value):
        return "-"
    if kpi in MONEY:
        return money(value, sign=sign)
    size = abs(value)
    if _in_per_cent(kpi):
        # A tenth of a point is the step, unless the difference is smaller than that.
        points = f"{size * 100:.2f}" if 0 < size < 0.001 else f"{size * 100:.1f}"
        number = f"{points} pts" if sign else f"{size:.1%}"
    elif kpi in COUNTED:
        number = whole(size)
    elif kpi.endswith("_pct"):
        number = f"{size:,.1f}"
    else:
        number = fmt(kpi, size)
    return _signed(number, value, sign)


def fmt_value(kpi: str, value: float, currency: str = "") -> str:
    """A KPI value with its unit: ``41.2 working days``, ``2.9%``, ``878k EUR``, ``290 deals``.

    Counts are whole: a mean over replications of 289.7 deals reads ``290 deals``, and the
    front says that it is a mean.
    """
    return _with_unit(kpi, value, currency, sign=False)


def fmt_change(kpi: str, value: float, currency: str = "") -> str:
    """A signed difference of a KPI with its unit; shares' differences in points.

    ``-10.2 working days``, ``+0.2 pts``, ``+166k EUR``, ``+24 deals``.
    """
    return _with_unit(kpi, value, currency, sign=True)


def fmt_interval(kpi: str, low: float, high: float, sign: bool = False) -> str:
    """A confidence interval without the unit: ``63.7 .. 67.2``, ``-530k .. +863k``.

    A difference of shares (``sign``) is in points: ``-0.3 .. +0.3 pts``.
    """
    if not (math.isfinite(low) and math.isfinite(high)):
        return "-"
    # A difference of shares names its points once, after the interval.
    low_text = fmt_number(kpi, low, sign).removesuffix(" pts")
    return f"{low_text} .. {fmt_number(kpi, high, sign)}"


def _in_per_cent(kpi: str) -> bool:
    return is_share(kpi) or kpi in RATIOS


def _signed(number: str, value: float, sign: bool) -> str:
    """``number`` (of ``abs(value)``) with its sign; what rounds to zero is never ``-0``."""
    shown_zero = not any(c in "123456789" for c in number)
    return ("-" if value < 0 and not shown_zero else "+" if sign else "") + number


def _with_unit(kpi: str, value: float, currency: str, sign: bool) -> str:
    number = fmt_number(kpi, value, sign)
    if number == "-":
        return number
    if kpi in MONEY:
        unit = currency
    elif _in_per_cent(kpi):
        unit = ""  # the number carries its % (its points, for a difference)
    else:
        unit = kpi_unit(kpi, currency)
    if kpi in COUNTED and number.lstrip("+-") == "1":
        unit = unit.removesuffix("s")  # 1 deal, 1 lead
    if unit == "%":
        return number + unit
    return f"{number} {unit}" if unit else number


def html_table(header: Sequence[str], rows: Sequence[Sequence[str]], caption: str = "",
               numeric_from: int = 1) -> str:
    """A small HTML table for a notebook: escaped text, rules, numbers right-aligned.

    The style is written on the elements, so that it holds wherever the HTML is shown.

    Args:
        header: Column names.
        rows: Cells, as text.
        caption: A line above the table.
        numeric_from: The first column of numbers.
    """
    cell = "padding:2px 8px;border-bottom:1px solid #ddd;"

    def row(cells: Sequence[str], tag: str) -> str:
        return "<tr>" + "".join(
            f"<{tag} style='{cell}text-align:{'right' if i >= numeric_from else 'left'}'>"
            f"{html.escape(c)}</{tag}>" for i, c in enumerate(cells)) + "</tr>"

    top = (f"<caption style='text-align:left;font-weight:bold;padding:2px 8px'>"
           f"{html.escape(caption)}</caption>" if caption else "")
    return (f"<table style='border-collapse:collapse;font-variant-numeric:tabular-nums'>{top}"
            f"{row(header, 'th')}{''.join(row(r, 'td') for r in rows)}</table>")


def readable(name: str) -> str:
    """A code name as words, for a stage, team or role without a label of its own.

    ``first_contact`` -> ``First contact``, ``trade-show`` -> ``Trade show``.
    """
    words = " ".join(name.replace("_", " ").replace("-", " ").split())
    return words[:1].upper() + words[1:]


def join_words(items: Sequence[str], last: str = "and") -> str:
    """Items as a sentence lists them: ``a``, ``a and b``, ``a, b and c``."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"


def lower_first(text: str) -> str:
    """Text to go inside a sentence: its first letter lower-cased.

    ``Account executives`` -> ``account executives``; an acronym (``SDRs``) stays.
    """
    first = text.split(" ", 1)[0]
    return text if first[1:2].isupper() else text[:1].lower() + text[1:]


def fmt_range(kpi: str, low: float, high: float, sign: bool = False) -> str:
    """An interval like ``fmt_interval``, both ends of days to one precision.

    ``-16.6 .. -7.3`` rather than ``-16.6 .. -7.26``, and ``-0.004 .. +0.002`` for a
    difference of response times that two decimals would show as ``+0.00 .. +0.00``.
    """
    if not (kpi.endswith("_days") and math.isfinite(low) and math.isfinite(high)):
        return fmt_interval(kpi, low, high, sign)
    size = max(abs(low), abs(high))
    decimals = 1 if size >= 10 else 2 if size >= 0.1 or size == 0 else 3
    low_text, high_text = (_signed(f"{abs(v):,.{decimals}f}", v, sign) for v in (low, high))
    return f"{low_text} .. {high_text}"
