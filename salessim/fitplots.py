"""Figures of a calibration's fit: pure functions from tables and arrays to a ``Figure``.

Each sets the history (the CRM export) beside the simulation of the calibrated scenario:
the history always in ``HISTORY`` (orange points and lines), the simulation in
``SIMULATION`` (blue), its 95 % range as a light blue band. Like ``salessim.plots`` they
use no pyplot state and write no file. They are sized for a slide: ``WIDTH_IN`` wide,
saved at ``SLIDE_DPI`` they are 1,600 pixels wide, every text 10 points or more.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter
from numpy.typing import NDArray

from salessim.plots import WIDTH_IN, _figure, _tick_formatter

FloatArray = NDArray[np.float64]

SLIDE_DPI = 200
"""Resolution to save the figures at: ``WIDTH_IN`` inches make 1,600 pixels."""
HISTORY = "#e6550d"
"""Colour of the history (the CRM export) in every figure."""
SIMULATION = "#3182bd"
"""Colour of the simulation's mean or pooled values."""
BAND = "#9ecae1"
"""Colour of the simulation's 95 % range."""
HELD_OUT = "0.9"
"""Shade of the months a hold-out calibration did not see."""
TEAM_COLOURS = ("#1b9e77", "#7570b3", "#e7298a", "#66a61e", "#a6761d", "#666666")
"""Teams (not history or simulation): a palette of its own, repeated for more teams."""
MONTHLY = (("created", "deals created"), ("won", "deals won"),
           ("open_at_end", "deals open at month end"))
"""Columns of ``Backtest.monthly()`` drawn, with their axis labels."""
TAIL = 0.99
"""Axes of durations and amounts end at this quantile of the history: a few very long
deals or very large amounts would squeeze the rest into a corner."""


def _panels(height_in: float, columns: int) -> tuple[Figure, Sequence[Axes]]:
    """A figure of ``columns`` panels side by side, sharing their vertical axis."""
    fig = Figure(figsize=(WIDTH_IN, height_in), layout="constrained")
    return fig, list(fig.subplots(1, columns, sharey=True, squeeze=False)[0])


def _legend(fig: Figure, handles: Sequence[Line2D | Patch], ncols: int | None = None) -> None:
    fig.legend(handles=list(handles), frameon=False, loc="outside lower center",
               ncols=ncols or len(handles))


def _fit_legend(ranged: str = "simulated 95 % range") -> list[Line2D | Patch]:
    return [Line2D([], [], color=HISTORY, marker="o", linewidth=0, label="history"),
            Line2D([], [], color=SIMULATION, linewidth=2, label="simulated mean"),
            Patch(color=BAND, label=ranged)]


def _month_axis(ax: Axes, months: pd.Index) -> None:
    """Draw month i of ``months`` (first days) at x = i, ticked every month or few.

    The year is written under the first tick and under the first tick of each new year.
    """
    dates = pd.DatetimeIndex(months)
    ticks = list(range(0, len(dates), -(-len(dates) // 12)))
    labels = [dates[i].strftime("%b\n%Y" if i == 0 or dates[i].month < dates[j].month
                                else "%b")
              for j, i in zip([0, *ticks], ticks, strict=False)]
    ax.set_xticks(ticks, labels, fontsize=10)
    ax.set_xlim(-0.6, len(dates) - 0.4)


def monthly(table: pd.DataFrame, title: str, held_out_from: dt.date | None = None
            ) -> Figure:
    """Deals created, won and open at month end: the history against the simulation.

    Args:
        table: ``Backtest.monthly()``: index ``month`` (first days), and for each of
            ``created``, ``won`` and ``open_at_end`` the history's count and the
            simulation's ``_mean``, ``_low`` and ``_high`` (2.5th and 97.5th percentiles).
        title: The figure's title.
        held_out_from: The first day of the months a hold-out calibration did not see;
            they are shaded.
    """
    fig, axes = _figure(7.4, rows=len(MONTHLY), sharex=True)
    x = np.arange(len(table))
    held = (None if held_out_from is None
            else int(pd.DatetimeIndex(table.index).searchsorted(pd.Timestamp(held_out_from))))
    for ax, (col, label) in zip(axes, MONTHLY, strict=True):
        ax.fill_between(x, table[f"{col}_low"], table[f"{col}_high"], color=BAND, linewidth=0)
        ax.plot(x, table[f"{col}_mean"], color=SIMULATION, linewidth=2)
        ax.plot(x, table[col], "o", color=HISTORY, markersize=5)
        if held is not None:
            ax.axvspan(held - 0.5, len(table) - 0.4, color=HELD_OUT, zorder=0)
        ax.set_ylabel(label, fontsize=10)
        ax.set_ylim(bottom=0, top=max(float(table[[col, f"{col}_high"]].max().max()), 1) * 1.12)
        ax.yaxis.set_major_locator(MaxNLocator(5, integer=True))
    _month_axis(axes[-1], table.index)
    axes[-1].set_xlabel("month (deals counted per calendar month)")
    handles = _fit_legend()
    if held is not None:
        handles.append(Patch(color=HELD_OUT, label="not seen by the calibration"))
    _legend(fig, handles, ncols=2 if held is not None else None)
    fig.suptitle(title)
    return fig


def win_rates(tables: Mapping[str, pd.DataFrame]) -> Figure:
    """Win rates overall and per product, segment and team: history against simulation.

    Args:
        tables: Panel title -> ``Backtest.win_rates()`` (index ``by``, ``value``; columns
            ``history``, ``closed``, ``simulated``, ``low``, ``high``, ``inside``). The
            panels share their rows, so give tables with the same index.
    """
    first = next(iter(tables.values()))
    labels = ["all deals" if by == "all" else f"{by}: {value}" for by, value in first.index]
    fig, axes = _panels(0.42 * len(labels) + 1.8, len(tables))
    y = np.arange(len(labels))
    for ax, (name, t) in zip(axes, tables.items(), strict=True):
        t = t.reindex(first.index)
        ax.hlines(y, t["low"], t["high"], color=BAND, linewidth=9)
        ax.plot(t["simulated"], y, "|", color=SIMULATION, markersize=16, markeredgewidth=2.5)
        ax.plot(t["history"], y, "o", color=HISTORY, markersize=7)
        ends = np.fmax(t["high"].to_numpy(float), t["history"].to_numpy(float))
        for yi, end, inside in zip(y, ends, t["inside"], strict=True):
            if not inside:
                ax.annotate("outside", (end, yi), xytext=(5, 0), textcoords="offset points",
                            va="center", fontsize=10, color=HISTORY, fontweight="bold")
        _percent_axis(ax)
        low, high = _padded(np.r_[t["low"], t["high"], t["history"]], 0.08)
        ax.set_xlim(low, high + 0.12 * (high - low))  # room for "outside"
        ax.set_title(name, fontsize=11)
        ax.set_xlabel("win rate of deals closed (won / closed)")
        ax.grid(axis="x", color="0.92")
        ax.set_axisbelow(True)
    axes[0].set_yticks(y, labels, fontsize=10)
    axes[0].set_ylim(len(labels) - 0.5, -0.5)
    handles = _fit_legend()
    handles[1] = Line2D([], [], color=SIMULATION, marker="|", markersize=12, linewidth=0,
                        markeredgewidth=2.5, label="simulated mean")
    _legend(fig, handles)
    fig.suptitle("Win rates: history against the simulated 95 % range")
    return fig


def _percent_axis(ax: Axes) -> None:
    """Shares on the horizontal axis in %, ticked at round steps (5 %, 2 %, 1 %...)."""
    ax.xaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 5, 10]))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x * 100:g}%"))


def _padded(values: FloatArray, share: float) -> tuple[float, float]:
    """An axis range around finite values, widened by ``share`` of their span each side."""
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    lo, hi = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
    pad = max(hi - lo, 1e-3) * share
    return max(lo - pad, 0.0), hi + pad


def survival(history: pd.DataFrame, simulated: pd.DataFrame, *, naive_mean: float,
             censored_mean: float, family: str, days_shown: float) -> Figure:
    """Share of deals still open so many days after they were created (Kaplan-Meier).

    Deals open at the export are counted as open for as long as they were (censored),
    in the history and in the simulation alike.

    Args:
        history: ``survival.kaplan_meier`` of the history: ``days``, ``survival``,
            ``ci_low``, ``ci_high``.
        simulated: The same of all replications' deals pooled.
        naive_mean: Mean time to close of the closed deals alone (working days).
        censored_mean: Mean of the fit with the open deals censored (working days).
        family: The fitted distribution's family, named in the legend.
        days_shown: The axis's right end (working days).
    """
    fig, ax = _figure(4.6)
    ax.fill_between(history["days"], history["ci_low"], history["ci_high"], step="post",
                    color=HISTORY, alpha=0.2, linewidth=0)
    ax.step(history["days"], history["survival"], where="post", color=HISTORY, linewidth=2)
    ax.step(simulated["days"], simulated["survival"], where="post", color=SIMULATION,
            linewidth=2)
    ax.axvline(naive_mean, color="0.45", linestyle="--", linewidth=1.5)
    ax.axvline(censored_mean, color="0.1", linewidth=1.5)
    ax.set_xlim(0, days_shown)
    ax.set_ylim(0, 1.02)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel("working days since the deal was created")
    ax.set_ylabel("deals still open")
    ax.grid(color="0.93")
    ax.set_axisbelow(True)
    _legend(fig, [
        Line2D([], [], color=HISTORY, linewidth=2, label="history (95 % band)"),
        Line2D([], [], color=SIMULATION, linewidth=2, label="simulation, all runs"),
        Line2D([], [], color="0.1", linewidth=1.5,
               label=f"mean with open deals counted: {censored_mean:.1f} days ({family} fit)"),
        Line2D([], [], color="0.45", linestyle="--", linewidth=1.5,
               label=f"mean of closed deals only: {naive_mean:.1f} days"),
    ], ncols=2)
    ax.set_title("Time to close: deals still open after so many days (Kaplan-Meier)")
    return fig


def closing_times(panels: Mapping[str, tuple[FloatArray, Sequence[FloatArray], float, float]]
                  ) -> Figure:
    """Cumulative distribution of closed deals' time to close: history against simulation.

    Args:
        panels: Panel title -> (the history's times to close, each replication's, the
            Wasserstein distance of the history to the pooled simulation, and the
            median distance of one replication to the others), times in working days.
    """
    fig, axes = _panels(4.4, len(panels))
    for ax, (name, (data, sims, distance, chance)) in zip(axes, panels.items(), strict=True):
        right = float(np.quantile(data, TAIL)) if len(data) else 1.0
        grid = np.linspace(0.0, right, 200)
        curves = np.array([np.searchsorted(np.sort(s), grid, side="right") / max(len(s), 1)
                           for s in sims])
        ax.fill_between(grid, np.percentile(curves, 2.5, axis=0),
                        np.percentile(curves, 97.5, axis=0), color=BAND, linewidth=0)
        pooled = np.sort(np.concatenate(list(sims)))
        ax.plot(pooled, np.arange(1, len(pooled) + 1) / len(pooled), color=SIMULATION,
                linewidth=2)
        ordered = np.sort(data)
        ax.step(ordered, np.arange(1, len(ordered) + 1) / len(ordered), where="post",
                color=HISTORY, linewidth=2)
        ax.set_xlim(0, right)
        ax.set_ylim(0, 1.02)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_xlabel("working days from created to closed")
        ax.set_title(f"{name}: {len(data):,} deals closed", fontsize=11)
        ax.text(0.97, 0.05, f"Wasserstein distance {distance:.2f} days\n"
                f"between two runs: {chance:.2f} days", transform=ax.transAxes, ha="right",
                va="bottom", fontsize=10, bbox={"facecolor": "white", "edgecolor": "0.8"})
        ax.grid(color="0.93")
        ax.set_axisbelow(True)
    axes[0].set_ylabel("share closed within so many days")
    handles = _fit_legend()
    handles[0] = Line2D([], [], color=HISTORY, linewidth=2, label="history")
    handles[1] = Line2D([], [], color=SIMULATION, linewidth=2, label="simulation, all runs")
    _legend(fig, handles)
    fig.suptitle("Time to close of closed deals: history against simulation")
    return fig


def deal_values(normalised: FloatArray, ppf: Callable[[FloatArray], FloatArray], *,
                label: str, currency: str) -> Figure:
    """Deal amounts with their product and segment factors taken out, and the fit.

    Both are drawn as the share of deals per ``unit`` of currency (a round width of
    about one bar), so the axis reads as a share rather than a density per unit.

    Args:
        normalised: Each deal's amount divided by its factors (currency).
        ppf: The fitted base distribution's inverse CDF (uniforms to amounts).
        label: The fit in words, for the legend.
        currency: The amounts' currency.
    """
    fig, ax = _figure(4.2)
    bins = 50
    right = float(np.quantile(normalised, TAIL))
    unit = 10.0 ** round(np.log10(right / bins))
    shown = normalised[normalised <= right]
    ax.hist(shown, bins=bins, range=(0.0, right), color=HISTORY, alpha=0.55,
            weights=np.full(len(shown), unit * bins / (right * len(normalised))),
            edgecolor="white", label=f"history: {len(normalised):,} deals")
    u = np.linspace(0.0005, 0.9995, 2000)
    x = ppf(u)
    density = np.gradient(u, x)  # the pdf is the slope of the CDF, u against x
    keep = x <= right
    ax.plot(x[keep], density[keep] * unit, color=SIMULATION, linewidth=2.5, label=label)
    ax.set_xlim(0, right)
    ax.xaxis.set_major_formatter(_tick_formatter("revenue", "mean"))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=1))
    ax.set_xlabel(f"deal amount with the product and segment factors taken out ({currency})")
    ax.set_ylabel(f"share of deals per {unit:,.0f} {currency}")
    ax.legend(frameon=False, fontsize=10)
    ax.set_title("Deal values: amounts against the fitted distribution")
    return fig


def rep_skill(skill: pd.DataFrame) -> Figure:
    """Each owner's raw win rate and its shrunk estimate, by team.

    Win rates of a few dozen deals are noisy; the calibration pulls each towards the
    team's rate, the more the fewer deals the owner closed.

    Args:
        skill: ``TeamFit.skill``: ``owner``, ``team``, ``won``, ``lost``, ``raw`` (win
            rate), ``shrunk`` (the empirical-Bayes estimate: the team's rate where its owners
            differ no more than chance makes them).
    """
    teams = sorted(skill["team"].unique())
    fig, ax = _figure(0.32 * len(skill) + 0.5 * len(teams) + 1.6)
    start, ticks, labels = 0.0, [], []
    for k, team in enumerate(teams):
        rows = skill[skill["team"] == team].sort_values("raw")
        closed = (rows["won"] + rows["lost"]).to_numpy(float)
        rate = float(rows["won"].sum() / closed.sum())
        shrunk = rows["shrunk"].to_numpy(float)
        ys = start + np.arange(len(rows))
        colour = TEAM_COLOURS[k % len(TEAM_COLOURS)]
        ax.vlines(rate, ys[0] - 0.4, ys[-1] + 0.4, color=colour, linestyle="--", linewidth=1.5)
        ax.annotate(f"{team}: {rate:.1%}", (rate, ys[0] - 0.45), ha="center", va="bottom",
                    fontsize=10, color=colour)
        ax.hlines(ys, rows["raw"], shrunk, color="0.6", linewidth=1)
        ax.scatter(rows["raw"], ys, s=closed * 0.6, facecolors="white", edgecolors=HISTORY,
                   linewidths=1.5, zorder=3)
        ax.scatter(shrunk, ys, s=22, color=SIMULATION, zorder=4)
        ticks += list(ys)
        labels += list(rows["owner"])
        start = float(ys[-1]) + 1.8
    ax.set_yticks(ticks, labels, fontsize=10)
    ax.set_ylim(ticks[-1] + 0.7, -1.3)
    ax.set_xlim(*_padded(np.r_[skill["raw"], skill["shrunk"]], 0.1))
    _percent_axis(ax)
    ax.set_xlabel("win rate of the owner's closed deals")
    ax.grid(axis="x", color="0.93")
    _legend(fig, [
        Line2D([], [], marker="o", markerfacecolor="white", markeredgecolor=HISTORY,
               linewidth=0, markersize=9, label="raw win rate (size: deals closed)"),
        Line2D([], [], marker="o", color=SIMULATION, linewidth=0, label="shrunk estimate"),
        Line2D([], [], color="0.3", linestyle="--", label="team's win rate"),
    ])
    ax.set_title("Rep skill: each owner's win rate, raw and shrunk towards the team's")
    return fig


def owners_per_month(table: pd.DataFrame) -> Figure:
    """Deal owners employed each month, per team, stacked.

    An owner counts as employed from the first deal created for them to the last.

    Args:
        table: ``TeamFit.monthly``: ``month`` (first day), ``team``, ``owners``.
    """
    wide = table.pivot(index="month", columns="team", values="owners").fillna(0)
    fig, ax = _figure(3.8)
    x = np.arange(len(wide))
    bottom = np.zeros(len(wide))
    for k, team in enumerate(wide.columns):
        ax.bar(x, wide[team], bottom=bottom, width=0.8, color=TEAM_COLOURS[k % len(TEAM_COLOURS)],
               label=str(team), edgecolor="white", linewidth=0.5)
        bottom += wide[team].to_numpy(float)
    for xi, total in zip(x, bottom, strict=True):
        ax.annotate(f"{total:.0f}", (xi, total), xytext=(0, 2), textcoords="offset points",
                    ha="center", va="bottom", fontsize=10)
    ax.set_ylim(0, bottom.max() * 1.15)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    _month_axis(ax, wide.index)
    ax.set_ylabel("deal owners employed")
    ax.set_xlabel("month")
    fig.legend(frameon=False, loc="outside lower center", ncols=len(wide.columns),
               title="team")
    ax.set_title("Owners employed per month (from their first deal to their last)")
    return fig
