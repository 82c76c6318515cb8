"""Plots of an optimisation: the sensitivity tornado, a frontier, the search's progress.

Pure functions from an ``Optimisation`` to a matplotlib ``Figure``, like
``salessim.plots``: titled, axes in words with their units and which way is better.
Save them at ``DPI`` (twice the screen's) for a report or a slide.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from salessim.briefing import _field_words, path_words
from salessim.formatting import is_share
from salessim.kpis import better
from salessim.optimise.levers import plain
from salessim.optimise.result import Optimisation
from salessim.plots import SMALL_PT, WIDTH_IN, Labels, _kpi_words, _tick_formatter

# The words and ticks of the standard plots (salessim.plots) are used, so that every
# figure says a KPI the same way.
DPI = 200
"""Dots per inch to save these figures at: twice a screen's, sharp when printed."""
COUNT_KPIS = ("leads", "won", "lost", "open")


def words(kpi: str) -> str:
    """A KPI name as words: ``cycle_time_p90_days`` -> ``90th-percentile cycle time``."""
    return _kpi_words(kpi)


def unit(kpi: str, currency: str, difference: bool = False) -> str:
    """A KPI's unit in words (percentage points for a difference of shares)."""
    if is_share(kpi):
        return "percentage points" if difference else "%"
    if kpi.endswith("_days"):
        return "working days"
    if kpi in COUNT_KPIS:
        return "leads per replication"
    if kpi in ("headcount",):
        return "reps"
    return currency


def label(kpi: str, currency: str, difference: bool = False) -> str:
    """An axis label: the KPI in words, its unit and which way is better."""
    way = better(kpi)
    text = f"{words(kpi)} ({unit(kpi, currency, difference)}"
    return text + (f"; {way} is better)" if way else ")")


def lever_words(path: str, labels: Labels) -> str:
    """A lever's key path as a reader names it.

    ``teams.north.ae.headcount`` -> ``Account executives in North (headcount)``,
    ``roles.ae.assignment`` -> ``Account executive assignment``; any other path as the
    report's list of levers writes it (``briefing.path_words``).
    """
    parts = path.split(".")
    if parts[0] == "teams" and len(parts) >= 4:
        rest = parts[3:] if parts[2] == "reps" and len(parts) >= 5 else parts[2:]
        if rest[0] in labels.roles and len(rest) == 2:
            return (f"{labels.role(rest[0], plural=True)} in {labels.team(parts[1])} "
                    f"({_field_words(rest[1])})")
    if parts[0] == "roles" and len(parts) == 3:
        return f"{labels.role(parts[1])} {_field_words(parts[2])}"
    # A fixed number of a distribution is held under "value": the field names it.
    return path_words(path.removesuffix(".value"), labels)


def move_words(path: str, now: Any, value: Any, labels: Labels) -> str:
    """One move of a lever: ``Account executives in North (headcount): 7 → 8``."""
    return f"{lever_words(path, labels)}: {plain(now)} → {plain(value)}"


def ticks(kpi: str, difference: bool = False) -> FuncFormatter | PercentFormatter:
    """Tick labels as ``salessim.plots`` writes them: shares in %, money in k and M."""
    return _tick_formatter(kpi, "diff" if difference else "mean")


def tornado(plan: Optimisation, kpi: str | None = None) -> Figure:
    """Which levers matter: each one-step move's effect around the recommendation.

    One row per move (``Optimisation.sensitivity``), levers ordered by their largest
    effect, each a bar from zero to the paired difference to the recommendation with
    its interval; a move over the budget is hatched.

    Raises:
        ValueError: Without a recommendation or moves to show.
    """
    kpi = kpi or plan.objectives[0].kpi
    table = plan.sensitivity(kpi)
    if table.empty:
        raise ValueError("there is no recommendation (or no lever can move), so no tornado")
    currency = plan.scenario.money.currency
    fig = Figure(figsize=(WIDTH_IN, 0.38 * len(table) + 1.8), layout="constrained")
    ax = fig.subplots()
    y = np.arange(len(table))
    diff = table["diff"].to_numpy(dtype=float)
    colours = ["#31a354" if (d > 0) == (better(kpi) != "lower") else "#de2d26" for d in diff]
    bars = ax.barh(y, diff, color=colours, alpha=0.85)
    for bar, within in zip(bars, table["within_budget"], strict=True):
        if not within:
            bar.set_hatch("//")
    low = diff - table["diff_ci_low"].to_numpy(dtype=float)
    high = table["diff_ci_high"].to_numpy(dtype=float) - diff
    ax.errorbar(diff, y, xerr=np.vstack([low, high]), fmt="none", ecolor="0.2", capsize=3)
    now = {} if plan.best is None else plan.best.settings
    lab = Labels.of(plan.scenario)
    ax.set_yticks(y, [move_words(str(lever), now.get(lever), value, lab)
                      for lever, value in table.index], fontsize=SMALL_PT)
    ax.invert_yaxis()
    ax.axvline(0, color="0.3", linewidth=1)
    ax.xaxis.set_major_formatter(ticks(kpi, difference=True))
    ax.set_xlabel(f"change in {label(kpi, currency, difference=True)}, against the "
                  "recommendation")
    # Over the figure, not the axis: the levers' words push the axis right, off centre.
    fig.suptitle(f"Which levers matter: one step away from the recommendation, "
                 f"{words(kpi)}\n(paired intervals over {_replications(plan)} replications; "
                 "hatched: over the budget)", fontsize=10)
    return fig


def _replications(plan: Optimisation) -> int:
    runs = plan.sensitivity_runs
    return 0 if runs is None else next(iter(runs.results.values())).replications


def frontier(plan: Optimisation, x: str, y: str) -> Figure:
    """Every trial on two KPIs, the ones no other feasible trial beats joined up.

    Feasible trials are dots, those that miss a constraint crosses; the frontier
    (``Optimisation.frontier``) is a line, the recommendation a star and the baseline
    an open circle (its means over the recommendation's replications).
    """
    currency = plan.scenario.money.currency
    history = plan.history
    fig = Figure(figsize=(WIDTH_IN, 5.6), layout="constrained")
    ax = fig.subplots()
    feasible = history[history["feasible"]]
    missed = history[~history["feasible"]]
    ax.scatter(missed[x], missed[y], marker="x", color="0.65", s=18,
               label="trial missing a constraint")
    ax.scatter(feasible[x], feasible[y], color="#6baed6", s=18, label="feasible trial")
    front = plan.frontier(x, y)
    ax.plot(front[x], front[y], "-o", color="#08519c", markersize=5,
            label="frontier: no feasible trial beats these on both")
    if plan.best is not None:
        table = plan.best.comparison.table([x, y])["mean"]
        ax.plot(table[x, "recommended"], table[y, "recommended"], "*", color="#e6550d",
                markersize=16, label="recommended")
        ax.plot(table[x, "baseline"], table[y, "baseline"], "o", markerfacecolor="white",
                markeredgecolor="0.1", markersize=9, label="baseline (as it is)")
    for k, axis, set_label in ((x, ax.xaxis, ax.set_xlabel), (y, ax.yaxis, ax.set_ylabel)):
        axis.set_major_formatter(ticks(k))
        set_label(label(k, currency))
    ax.legend(fontsize=SMALL_PT, frameon=False)
    ax.set_title(f"{words(y)[:1].upper()}{words(y)[1:]} against {words(x)}: "
                 f"{len(history)} trials, means of {plan.replications} replications each")
    return fig


def progress(plan: Optimisation, kpi: str | None = None) -> Figure:
    """The search trial by trial: each trial's mean and the best feasible one so far."""
    kpi = kpi or plan.objectives[0].kpi
    history = plan.history
    values = history[kpi].to_numpy(dtype=float)
    feasible = history["feasible"].to_numpy(dtype=bool)
    sign = -1.0 if better(kpi) == "lower" else 1.0
    running = np.maximum.accumulate(np.where(feasible, sign * values, -np.inf))
    best = np.where(np.isfinite(running), sign * running, np.nan)
    fig = Figure(figsize=(WIDTH_IN, 4.2), layout="constrained")
    ax = fig.subplots()
    trials = np.arange(len(history))
    ax.scatter(trials[~feasible], values[~feasible], marker="x", color="0.65", s=16,
               label="trial missing a constraint")
    ax.scatter(trials[feasible], values[feasible], color="#6baed6", s=16, label="feasible trial")
    ax.step(trials, best, where="post", color="#08519c", label="best feasible so far")
    ax.yaxis.set_major_formatter(ticks(kpi))
    ax.set_xlabel("trial (in the order the search ran them)")
    ax.set_ylabel(label(kpi, plan.scenario.money.currency))
    ax.legend(fontsize=SMALL_PT, frameon=False)
    ax.set_title(f"Search progress: {words(kpi)}, {plan.replications} replications per trial")
    return fig
