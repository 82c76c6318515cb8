"""Plots of results: pure functions from results or tables to a matplotlib ``Figure``.

No pyplot state and no files: each function builds a ``matplotlib.figure.Figure`` and
returns it, to show in a notebook or to save (the CLI and the report do that). Each is
titled, with axes labelled in their units, sized to read at notebook width.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, PercentFormatter

from salessim.bottlenecks import bottlenecks
from salessim.bottlenecks import funnel as funnel_table
from salessim.formatting import fmt, is_share
from salessim.intervals import PHASES
from salessim.kpis import better
from salessim.model.leads import WON
from salessim.scenario.errors import unknown
from salessim.timeseries import timeseries

if TYPE_CHECKING:
    from salessim.results import Results

WIDTH_IN = 8.0
"""Figure width (inches): about a notebook cell's width at 100 dpi."""
PHASE_LABELS = {
    "handoff": "handoff between roles",
    "nurture": "nurture (parked)",
    "wait": "waiting for a rep",
    "work": "rep working",
    "customer": "waiting on the customer",
}
PHASE_COLOURS = {"handoff": "#9e9ac8", "nurture": "#d9d9d9", "wait": "#e6550d",
                 "work": "#3182bd", "customer": "#9ecae1"}
HEADLINE_KPIS: tuple[str, ...] = (
    "conversion_rate", "cycle_time_mean_days", "cycle_time_p90_days", "revenue",
    "collected", "cost", "cost_per_won", "profit", "on_time_delivery_rate",
    "complaint_rate", "satisfaction_mean", "repurchase_rate", "repeat_revenue",
    "days_sales_outstanding",
)
"""KPIs the comparison plot shows unless told otherwise (plus each ``utilisation_*``);
the after-sale ones where the scenarios have an after-sale part."""
UTILISATION_BY = ("role", "team", "rep")
TRADEOFF_VALUES = ("mean", "diff")
COUNT_KPIS = ("leads", "won", "lost", "open")


def _figure(height_in: float, rows: int = 1, **kwargs: Any) -> tuple[Figure, Any]:
    fig = Figure(figsize=(WIDTH_IN, height_in), layout="constrained")
    return fig, fig.subplots(rows, 1, squeeze=True, **kwargs)


def funnel(res: Results) -> Figure:
    """The funnel: counted leads reaching each stage, and the share that passes on.

    Bars are leads per replication (mean); the label on each bar gives the share of
    all leads that reached the stage and the share of them that reached the next
    stage (or, at the last stage, were won).
    """
    f = funnel_table(res)
    won = float(res.kpis["won"].mean())
    leads = float(res.kpis["leads"].mean())
    names = [*f.index.astype(str), "won"]
    values = np.append(f["reached"].to_numpy(dtype=float), won)
    fig, ax = _figure(0.55 * len(names) + 1.2)
    colours = ["#3182bd"] * len(f) + ["#31a354"]
    y = np.arange(len(names))
    ax.barh(y, values, color=colours)
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    notes = [f"{r:,.0f}  ({s:.0%} of leads; {p:.0%} pass)"
             for r, s, p in zip(f["reached"], f["reached_share"], f["passed_share"],
                                strict=True)]
    notes.append(f"{won:,.0f}  ({won / leads:.0%} of leads)" if leads else f"{won:,.0f}")
    for yi, v, note in zip(y, values, notes, strict=True):
        ax.annotate(note, (v, yi), xytext=(4, 0), textcoords="offset points", va="center",
                    fontsize=9)
    ax.set_xlim(0, max(values.max(), 1.0) * 1.55)
    ax.set_xlabel("counted leads per replication (mean)")
    ax.set_title(f"Funnel: {res.scenario.name}")
    return fig


def cycle_time(res: Results, bins: int = 40) -> Figure:
    """Distribution of won leads' cycle time (arrival to signature), p50 and p90 marked.

    The histogram pools all replications' won counted leads, scaled to one
    replication; the marked percentiles are the KPIs (means over replications).
    """
    days = np.concatenate([
        (r.leads["close_time"] - r.leads["arrival_time"])[
            (r.leads["status"] == WON) & r.leads["cohort"]]
        for r in res.raw])
    fig, ax = _figure(4.2)
    ax.hist(days, bins=bins, weights=np.full(len(days), 1 / res.replications),
            color="#9ecae1", edgecolor="white")
    for kpi, label, colour in (("cycle_time_p50_days", "p50 (median)", "#08519c"),
                               ("cycle_time_p90_days", "p90", "#e6550d")):
        value = float(res.kpis[kpi].mean())
        if np.isfinite(value):
            ax.axvline(value, color=colour, linewidth=2, label=f"{label}: {value:.1f} days")
    if len(days):
        ax.legend(frameon=False)
    ax.set_xlabel("cycle time, arrival to signature (working days)")
    ax.set_ylabel("won leads per replication")
    ax.set_title(f"Cycle time of won leads: {res.scenario.name}")
    return fig


def wip_over_time(res: Results, ts: pd.DataFrame | None = None, step_days: float = 1.0,
                  stages: Sequence[str] | None = None) -> Figure:
    """Leads at each stage (WIP) and waiting for a rep there (queue), over time.

    Means over replications at each sample time. The warm-up is shaded and the end of
    arrivals (the horizon) marked.

    Args:
        res: Results of a run.
        ts: ``timeseries(res, step_days)`` if already computed.
        step_days: Sampling step when ``ts`` is not given (days).
        stages: Stages to draw (default all).

    Raises:
        ValueError: If a stage does not exist.
    """
    names = [s.name for s in res.scenario.stages]
    chosen = list(stages) if stages is not None else names
    for s in chosen:
        if s not in names:
            raise ValueError(unknown("stage", s, names, "stages are"))
    if ts is None:
        ts = timeseries(res, step_days)
    mean = (ts[ts["measure"].isin(["wip", "wait"]) & ts["stage"].isin(chosen)]
            .groupby(["measure", "stage", "time_days"], observed=True)["value"].mean())
    fig, axes = _figure(6.4, rows=2, sharex=True)
    cal = res.scenario.calendar
    for ax, measure, label in ((axes[0], "wip", "leads at the stage (WIP)"),
                               (axes[1], "wait", "leads waiting for a rep")):
        for stage in chosen:
            line = mean.loc[(measure, stage)]
            ax.plot(line.index, line.to_numpy(), label=stage, color=f"C{names.index(stage)}",
                    linewidth=1.2)
        ax.axvspan(0, cal.warmup_days, color="0.9", zorder=0)
        ax.axvline(cal.horizon_days, color="0.4", linestyle="--", linewidth=1)
        ax.set_ylabel(label)
        ax.set_ylim(bottom=0)
    axes[0].text(cal.warmup_days / 2, 1, "warm-up", transform=axes[0].get_xaxis_transform(),
                 ha="center", va="bottom", fontsize=8, color="0.4")
    axes[0].text(cal.horizon_days, 1, "arrivals stop", transform=axes[0].get_xaxis_transform(),
                 ha="center", va="bottom", fontsize=8, color="0.4")
    fig.legend(*axes[0].get_legend_handles_labels(), ncols=min(len(chosen), 6), fontsize=8,
               frameon=False, loc="outside lower center")
    axes[1].set_xlabel("time (working days from the start)")
    axes[1].set_xlim(left=0)
    fig.suptitle(f"Work in progress and queues over time: {res.scenario.name}")
    return fig


def utilisation(res: Results, by: str = "role") -> Figure:
    """Share of working time the reps spend working, per role, team or rep.

    Per role the bars carry the KPI's confidence interval; per team and per rep they
    are means over replications, coloured by role.

    Raises:
        ValueError: If ``by`` is not one of ``UTILISATION_BY``.
    """
    if by not in UTILISATION_BY:
        raise ValueError(unknown("grouping", by, UTILISATION_BY, "utilisation is by"))
    roles = [r.name for r in res.scenario.roles]
    if by == "role":
        s = res.summary().loc[[f"utilisation_{r}" for r in roles]]
        labels, values, role_of = roles, s["mean"].to_numpy(dtype=float), roles
        err = np.abs(s[["ci_low", "ci_high"]].to_numpy(dtype=float).T - values)
    else:
        table = res.teams().reset_index() if by == "team" else res.reps().reset_index()
        labels = ([f"{t} / {r}" for t, r in zip(table["team"], table["role"], strict=True)]
                  if by == "team" else list(table["rep"]))
        values, role_of, err = table["utilisation"].to_numpy(dtype=float), list(table["role"]), None
    fig, ax = _figure(max(2.6, 0.18 * len(labels) + 1.3))
    y = np.arange(len(labels))
    colours = [f"C{roles.index(r)}" for r in role_of]
    ax.barh(y, values, xerr=err, color=colours, capsize=3)
    ax.set_yticks(y, labels, fontsize=9 if len(labels) < 25 else 7)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("utilisation (share of working time spent working)")
    if by != "role":
        fig.legend(handles=[Patch(color=f"C{k}", label=r) for k, r in enumerate(roles)],
                   title="role", fontsize=8, frameon=False, loc="outside lower center",
                   ncols=len(roles))
    ax.set_title(f"Utilisation per {by}: {res.scenario.name}")
    return fig


def time_breakdown(res: Results) -> Figure:
    """Where won leads' time goes: days per stage in each phase, stacked.

    The bars of all stages add up to the mean cycle time of won leads.
    """
    bn = bottlenecks(res)
    t = bn.stages
    fig, ax = _figure(0.5 * len(t) + 1.8)
    y = np.arange(len(t))
    left = np.zeros(len(t))
    for p in PHASES:
        v = t[f"{p}_days"].to_numpy(dtype=float)
        ax.barh(y, v, left=left, color=PHASE_COLOURS[p], label=PHASE_LABELS[p])
        left += v
    for yi, total, share in zip(y, t["days"], t["share"], strict=True):
        ax.annotate(f"{total:.1f} d ({share:.0%})", (total, yi), xytext=(4, 0),
                    textcoords="offset points", va="center", fontsize=9)
    ax.set_yticks(y, list(t.index.astype(str)))
    ax.invert_yaxis()
    ax.set_xlim(0, np.nanmax(np.append(left, 1.0)) * 1.25)
    ax.set_xlabel(f"days per won lead (mean); all stages add up to the cycle time, "
                  f"{bn.cycle_time_days:.1f} days")
    fig.legend(fontsize=8, frameon=False, loc="outside lower center", ncols=3)
    ax.set_title(f"Where won leads' time goes: {res.scenario.name}")
    return fig


def breakdown(table: pd.DataFrame, kpi: str = "conversion_rate",
              currency: str = "EUR") -> Figure:
    """One KPI per value of a lead attribute: means with their confidence intervals.

    One bar per value, in the table's order, its interval drawn across the bar's end
    and its mean written beside it; a value where the KPI is undefined in every
    replication (no leads, or no won leads for a cycle time) has no bar and says so.

    Args:
        table: A breakdown (``Results.breakdown(by)``): index (``kpi``, attribute),
            columns ``mean``, ``ci_low`` and ``ci_high``.
        kpi: The KPI to draw (a KPI of the table, e.g. ``"revenue"``).
        currency: Unit of money KPIs on the axis.

    Raises:
        ValueError: If the table is not a breakdown or lacks the KPI.
    """
    names = list(table.index.names)
    if len(names) != 2 or names[0] != "kpi":
        raise ValueError("a breakdown table is indexed by (kpi, attribute), as "
                         "Results.breakdown(by) returns it")
    by = str(names[1])
    known = list(dict.fromkeys(table.index.get_level_values("kpi").astype(str)))
    if kpi not in known:
        raise ValueError(unknown("KPI", kpi, known, "KPIs are"))
    rows = table.xs(kpi, level="kpi")
    labels = [str(v) for v in rows.index]
    mean = rows["mean"].to_numpy(dtype=float)
    low, high = (rows[c].to_numpy(dtype=float) for c in ("ci_low", "ci_high"))
    err = np.nan_to_num(np.abs(np.stack([low, high]) - mean))
    fig, ax = _figure(max(2.6, 0.38 * len(labels) + 1.5))
    y = np.arange(len(labels))
    ax.barh(y, np.nan_to_num(mean), xerr=err, color="#3182bd", capsize=3,
            error_kw={"ecolor": "0.25", "linewidth": 1.2})
    ends = np.fmax(mean, high)
    for yi, m, end in zip(y, mean, ends, strict=True):
        ax.annotate(fmt(kpi, m) if np.isfinite(m) else "undefined: no lead to measure",
                    (end if np.isfinite(end) else 0.0, yi), xytext=(5, 0),
                    textcoords="offset points", va="center", fontsize=9)
    ax.set_yticks(y, labels, fontsize=9 if len(labels) < 25 else 7)
    ax.set_ylim(len(labels) - 0.5, -0.5)
    right = float(np.nanmax(np.append(ends, 0.0)))
    ax.set_xlim(0, right * 1.25 if right > 0 else 1.0)
    ax.xaxis.set_major_formatter(_tick_formatter(kpi, "mean"))
    ax.set_xlabel(_axis_label(kpi, "mean", "", currency))
    ax.set_ylabel(by)
    words = _kpi_words(kpi)
    ax.set_title(f"{words[:1].upper()}{words[1:]} by {by}: means with confidence intervals")
    return fig


def forest(table: pd.DataFrame, kpis: Sequence[str] | None = None,
           baseline: str | None = None) -> Figure:
    """KPI differences to the baseline with their paired confidence intervals.

    Differences are shown relative to the baseline's mean (%), so KPIs in days,
    currency and shares share one axis; the label on each row gives the difference in
    the KPI's own unit. A filled marker means the adjusted p-value is below 0.05.

    Args:
        table: A comparison table (``Comparison.table()``): index ``(kpi, scenario)``,
            columns ``mean``, ``diff``, ``diff_ci_low``, ``diff_ci_high`` and
            ``p_adjusted``.
        kpis: KPIs to show (default ``HEADLINE_KPIS`` and utilisations, where the
            baseline mean is not zero).
        baseline: The baseline scenario (default: the first in the table).

    Raises:
        ValueError: If a KPI or the baseline is not in the table, or a requested KPI's
            baseline mean is zero (no relative difference).
    """
    names = list(dict.fromkeys(table.index.get_level_values("scenario").astype(str)))
    known = list(dict.fromkeys(table.index.get_level_values("kpi").astype(str)))
    base = baseline if baseline is not None else names[0]
    if base not in names:
        raise ValueError(unknown("baseline scenario", base, names, "scenarios are"))
    others = [n for n in names if n != base]
    base_mean = {k: float(table.loc[(k, base), "mean"]) for k in known}
    if kpis is None:
        chosen = [k for k in known if (k in HEADLINE_KPIS or k.startswith("utilisation_"))
                  and base_mean[k] not in (0.0,) and np.isfinite(base_mean[k])]
    else:
        chosen = list(kpis)
        for k in chosen:
            if k not in known:
                raise ValueError(unknown("KPI", k, known, "KPIs are"))
            if base_mean[k] == 0 or not np.isfinite(base_mean[k]):
                raise ValueError(f"KPI {k!r} has a baseline mean of {base_mean[k]}: "
                                 f"no relative difference to show")
    rows = [(k, s) for k in chosen for s in others]
    fig, ax = _figure(max(2.5, 0.34 * len(rows) + 1.4))
    y = np.arange(len(rows))
    for i, (k, s) in enumerate(rows):
        r = table.loc[(k, s)]
        scale = 100 / abs(base_mean[k])
        lo, mid, hi = (float(r[c]) * scale for c in ("diff_ci_low", "diff", "diff_ci_high"))
        colour = f"C{others.index(s)}"
        p = float(r["p_adjusted"]) if "p_adjusted" in r else np.nan
        if np.isfinite(lo) and np.isfinite(hi):
            ax.plot([lo, hi], [i, i], color=colour, linewidth=2)
        ax.plot([mid], [i], "o", color=colour, markersize=7,
                markerfacecolor=colour if p < 0.05 else "white")
        ax.annotate(_signed(k, float(r["diff"])), (1, i), xycoords=("axes fraction", "data"),
                    xytext=(6, 0), textcoords="offset points", va="center", fontsize=8)
    ax.axvline(0, color="0.3", linewidth=1)
    labels = [k if len(others) == 1 else f"{k}  ({s})" for k, s in rows]
    ax.set_yticks(y, labels, fontsize=9)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlabel(f"difference to {base!r} (% of its mean)")
    handles = [Line2D([], [], color=f"C{k}", marker="o", linewidth=2, label=s)
               for k, s in enumerate(others) if len(others) > 1]
    handles += [Line2D([], [], color="0.3", marker="o", linewidth=2,
                       label="paired confidence interval; filled: adjusted p < 0.05")]
    fig.legend(handles=handles, fontsize=8, frameon=False, loc="outside lower center",
               ncols=len(handles))
    ax.set_title("KPI differences to the baseline" if len(others) > 1
                 else f"KPI differences: {others[0]} vs {base}" if others
                 else "KPI differences (no other scenario)")
    return fig


def tradeoff(table: pd.DataFrame, x: str, y: str, values: str = "mean",
             baseline: str | None = None, currency: str = "EUR") -> Figure:
    """Two KPIs against each other, one point per scenario with its confidence intervals.

    Shows a trade-off at a glance: a scenario up and to the side of another wins on one
    KPI and loses on the other. Each axis says its unit and which way is better; each
    point is labelled with its scenario, labels placed so they do not overlap.

    Args:
        table: A comparison table (``Comparison.table()``) holding both KPIs.
        x: KPI on the horizontal axis.
        y: KPI on the vertical axis.
        values: ``"mean"``: each scenario's mean with its t interval (the baseline
            too); ``"diff"``: each other scenario's difference to the baseline with
            its paired interval, the baseline at the origin.
        baseline: The baseline scenario (default: the first in the table), drawn as
            an open marker.
        currency: Unit of money KPIs on the axes.

    Raises:
        ValueError: If ``values``, a KPI or the baseline is not known.
    """
    if values not in TRADEOFF_VALUES:
        raise ValueError(unknown("values", values, TRADEOFF_VALUES, "values are"))
    names = list(dict.fromkeys(table.index.get_level_values("scenario").astype(str)))
    known = list(dict.fromkeys(table.index.get_level_values("kpi").astype(str)))
    for k in (x, y):
        if k not in known:
            raise ValueError(unknown("KPI", k, known, "KPIs are"))
    base = baseline if baseline is not None else names[0]
    if base not in names:
        raise ValueError(unknown("baseline scenario", base, names, "scenarios are"))
    others = [n for n in names if n != base]
    mid, low, high = (("mean", "ci_low", "ci_high") if values == "mean"
                      else ("diff", "diff_ci_low", "diff_ci_high"))
    fig, ax = _figure(5.6)
    points: list[tuple[float, float]] = []
    colours: list[str] = []
    for name in [base, *others]:
        colour = "0.2" if name == base else f"C{others.index(name)}"
        at_origin = values == "diff" and name == base
        centre, bars = [], []
        for k in (x, y):
            r = table.loc[(k, name)]
            c = 0.0 if at_origin else float(r[mid])
            lo, hi = float(r[low]), float(r[high])
            centre.append(c)
            bars.append(np.array([[c - lo], [hi - c]]) if np.isfinite(lo + hi) else None)
        ax.errorbar([centre[0]], [centre[1]], xerr=bars[0], yerr=bars[1], fmt="o",
                    color=colour, markersize=7, capsize=3, linewidth=1.5,
                    markerfacecolor="white" if name == base else colour)
        points.append((centre[0], centre[1]))
        colours.append(colour)
    if values == "diff":
        ax.axhline(0, color="0.5", linewidth=0.8)
        ax.axvline(0, color="0.5", linewidth=0.8)
    for k, axis, set_label in ((x, ax.xaxis, ax.set_xlabel), (y, ax.yaxis, ax.set_ylabel)):
        axis.set_major_formatter(_tick_formatter(k, values))
        set_label(_axis_label(k, values, base, currency))
    ax.margins(0.18)
    what = (f"difference to {base!r} with paired 95% intervals" if values == "diff"
            else "means with 95% intervals")
    ax.set_title(f"{_kpi_words(y)[:1].upper()}{_kpi_words(y)[1:]} against "
                 f"{_kpi_words(x)}: {what}")
    _place_labels(fig, ax, points, [base, *others], colours)
    return fig


def _place_labels(fig: Figure, ax: Any, points: Sequence[tuple[float, float]],
                  names: Sequence[str], colours: Sequence[str]) -> None:
    """Label each point beside it, where the label covers no other point or label.

    Each label takes the first of a few offsets around its point that overlaps neither
    an earlier label nor another point, or failing that the offset of least overlap.
    """
    fig.draw_without_rendering()  # lays the figure out, so display positions hold
    xy = ax.transData.transform(np.asarray(points, dtype=float))
    scale = fig.dpi / 72  # offsets in points, positions in display pixels
    marker = 6 * scale
    taken = [(px - marker, py - marker, px + marker, py + marker) for px, py in xy]
    placed: list[tuple[float, float, float, float]] = []
    for i, name in enumerate(names):
        text = ax.annotate(name, points[i], xytext=(0, 0), textcoords="offset points",
                           fontsize=9, color=colours[i])
        box = text.get_window_extent()
        w, h = box.width / scale, box.height / scale
        candidates = [(7, 5), (7, -5 - h), (-7 - w, 5), (-7 - w, -5 - h), (7, -h / 2),
                      (-7 - w, -h / 2), (-w / 2, 9), (-w / 2, -9 - h), (7, 5 + h),
                      (7, -5 - 2 * h), (-7 - w, 5 + h), (-7 - w, -5 - 2 * h)]
        avoid = [b for j, b in enumerate(taken) if j != i] + placed
        boxes = [(xy[i][0] + dx * scale, xy[i][1] + dy * scale,
                  xy[i][0] + (dx + w) * scale, xy[i][1] + (dy + h) * scale)
                 for dx, dy in candidates]
        areas = [_overlap_area(b, avoid) for b in boxes]
        k = min(range(len(boxes)), key=lambda j: (areas[j] > 0, areas[j]))
        text.set_position(candidates[k])
        placed.append(boxes[k])


def _overlap_area(box: tuple[float, float, float, float],
                  others: Sequence[tuple[float, float, float, float]]) -> float:
    """Total area a box (x0, y0, x1, y1) shares with other boxes."""
    x0, y0, x1, y1 = box
    return float(sum(max(0.0, min(x1, b[2]) - max(x0, b[0]))
                     * max(0.0, min(y1, b[3]) - max(y0, b[1])) for b in others))


KPI_WORDS = {
    "leads": "counted leads",
    "conversion_rate": "conversion rate", "cycle_time_mean_days": "mean cycle time",
    "cycle_time_p50_days": "median cycle time", "cycle_time_p90_days": "90th-percentile cycle time",
    "response_time_mean_days": "mean response time", "cost_per_won": "cost per won deal",
    "collection_rate": "collection rate",
    "full_book_share": "leads that waited for room in a rep's book",
}
"""KPI names as words, where the name alone reads badly."""


def _kpi_words(kpi: str) -> str:
    """A KPI name as words: ``cycle_time_mean_days`` -> ``mean cycle time``."""
    return KPI_WORDS.get(kpi, kpi.removesuffix("_days").replace("_", " "))


def _axis_label(kpi: str, values: str, base: str, currency: str) -> str:
    """An axis label naming the KPI, its unit and which way is better."""
    if is_share(kpi):
        unit = "percentage points" if values == "diff" else "%"
    elif kpi.endswith("_days"):
        unit = "working days"
    elif kpi in COUNT_KPIS:
        unit = "leads per replication"
    else:
        unit = currency
    way = better(kpi)
    text = f"{_kpi_words(kpi)}, difference to {base}" if values == "diff" else _kpi_words(kpi)
    return f"{text} ({unit}" + (f"; {way} is better)" if way else ")")


def _tick_formatter(kpi: str, values: str) -> FuncFormatter | PercentFormatter:
    """Ticks as people read them: shares in % (or points), money in k and M."""
    if is_share(kpi):
        return PercentFormatter(1.0, decimals=1, symbol="" if values == "diff" else "%")
    sign = "+" if values == "diff" else ""

    def number(value: float, _pos: int) -> str:
        size, suffix = ((1e6, "M") if abs(value) >= 1e6 else (1e3, "k") if abs(value) >= 1e4
                        else (1.0, ""))
        text = f"{value / size:{sign},.2f}".rstrip("0").rstrip(".")
        return "0" if text in ("+0", "-0", "0") else text + suffix

    return FuncFormatter(number)

def figures(res: Results, ts: pd.DataFrame | None = None) -> dict[str, Figure]:
    """The standard plots of one run, by file-friendly name.

    Args:
        res: Results of a run.
        ts: ``timeseries(res)`` if already computed.
    """
    return {
        "funnel": funnel(res),
        "time_breakdown": time_breakdown(res),
        "cycle_time": cycle_time(res),
        "wip_over_time": wip_over_time(res, ts),
        "utilisation_role": utilisation(res, "role"),
        "utilisation_team": utilisation(res, "team"),
        "utilisation_rep": utilisation(res, "rep"),
    }


def _signed(kpi: str, value: float) -> str:
    """A difference in the KPI's unit: percentage points, days or plain numbers."""
    if not np.isfinite(value):
        return "-"
    if is_share(kpi):
        return f"{value * 100:+.1f} pp"
    if kpi.endswith("_days"):
        return f"{value:+.2f} d"
    for size, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:+,.1f}{suffix}"
    return f"{value:+,.1f}"
