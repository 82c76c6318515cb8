"""Plots of results: pure functions from results or tables to a matplotlib ``Figure``.

No pyplot state and no files: each function builds a ``matplotlib.figure.Figure`` and
returns it, to show in a notebook or to save (the CLI and the report do that, at
``DPI``: twice a screen's, sharp on a slide). Each is titled, with axes in words and
their units; stages, roles and teams are named as a reader says them (``Labels``), every
text is 9 points or more, and each colour means one thing in every figure: the phases of
a lead's time (``PHASE_COLOURS``), counted and won leads, roles, scenarios, and the
bottleneck (the colour of waiting for a rep).
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import FuncFormatter, PercentFormatter

from salessim.bottlenecks import Bottlenecks, bottlenecks
from salessim.bottlenecks import funnel as funnel_table
from salessim.formatting import (
    COUNTED,
    RATIOS,
    fmt_number,
    is_share,
    kpi_label,
    kpi_unit,
    kpi_words,
    lower_first,
    readable,
    whole,
)
from salessim.intervals import PHASES
from salessim.kpis import better
from salessim.model.leads import CLEARED, LOST, OPEN, WON
from salessim.scenario.errors import unknown
from salessim.timeseries import timeseries

if TYPE_CHECKING:
    from salessim.results import Results
    from salessim.scenario import Scenario

WIDTH_IN = 8.0
"""Figure width (inches): a notebook cell's width at 100 dpi, a slide's at ``DPI``."""
DPI = 200
"""Dots per inch to save figures at: ``WIDTH_IN`` inches make 1,600 pixels."""
SMALL_PT = 9.0
"""The smallest text in a figure (points): legends, notes and dense tick labels."""
PHASE_LABELS = {
    "handoff": "handoff between roles",
    "nurture": "nurture (parked)",
    "wait": "waiting for a rep",
    "work": "rep working",
    "customer": "waiting on the customer",
}
PHASE_COLOURS = {"handoff": "#9e9ac8", "nurture": "#d9d9d9", "wait": "#e6550d",
                 "work": "#3182bd", "customer": "#dfc27d"}
"""One colour per phase; waiting for a rep is the bottleneck's colour everywhere."""
BOTTLENECK_COLOUR = PHASE_COLOURS["wait"]
LEADS_COLOUR = "#7b8ca3"
"""Counted leads (funnel bars, histograms of deals)."""
WON_COLOUR = "#31a354"
MEAN_COLOUR = "#252525"
"""Lines marking a mean."""
ROLE_COLOURS = ("#66c2a5", "#8da0cb", "#e78ac3", "#a6d854", "#ffd92f", "#e5c494", "#b3b3b3",
                "#1f78b4")
"""Roles, in the scenario's order (repeated for more roles)."""
SCENARIO_COLOURS = ("#404040", "#2166ac", "#762a83", "#01665e", "#8c510a", "#c51b7d",
                    "#5e3c99", "#35978f")
"""Scenarios in a comparison: the baseline first (dark grey), then the others."""
BETTER_SHADE = "#edf8e9"
"""The side of a difference that is better."""
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
PANELS_PER_ROW = 3
"""Scenarios side by side in one row of a comparison figure."""
TAIL = 0.99
"""A histogram's axis ends at this quantile: a few very long deals squeeze the rest."""


@dataclass(frozen=True)
class Labels:
    """Stage, role and team names as a reader says them.

    A scenario item's ``label`` (or a role's ``title``) where it has one, otherwise its
    name as words (``first_contact``: "First contact"). Built from a scenario by
    ``Labels.of``; an empty one turns every name into words.

    Attributes:
        stages: Stage name -> label.
        roles: Role name -> label, singular ("Account executive").
        teams: Team name -> label.
    """

    stages: Mapping[str, str] = field(default_factory=dict)
    roles: Mapping[str, str] = field(default_factory=dict)
    teams: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, sc: Scenario) -> Labels:
        """The labels of a scenario's stages, roles and teams."""
        return cls(stages={s.name: _item_label(s) for s in sc.stages},
                   roles={r.name: _item_label(r) for r in sc.roles},
                   teams={t.name: _item_label(t) for t in sc.teams})

    def stage(self, name: str) -> str:
        """A stage's label."""
        return self.stages.get(name) or readable(name)

    def role(self, name: str, plural: bool = False) -> str:
        """A role's label; ``plural``: "Account executives"."""
        text = self.roles.get(name) or readable(name)
        return text + ("" if not plural or text.endswith("s") else "s")

    def team(self, name: str) -> str:
        """A team's label."""
        return self.teams.get(name) or readable(name)

    def kpi(self, kpi: str) -> str:
        """A KPI in words, utilisation named by its role: "Utilisation of legal counsels"."""
        role = kpi.removeprefix("utilisation_")
        if role != kpi:
            return f"Utilisation of {lower_first(self.role(role, plural=True))}"
        return kpi_words(kpi)

    def kpi_words(self, kpi: str) -> str:
        """A KPI in words inside a sentence: "cycle time, 90th percentile"."""
        return lower_first(self.kpi(kpi))

    def kpi_label(self, kpi: str, currency: str = "") -> str:
        """A KPI with its unit, as a table names it: "Profit (EUR)" (``kpi_label``)."""
        return self.kpi(kpi) if kpi.startswith("utilisation_") else kpi_label(kpi, currency)

    def team_role(self, team: str, role: str) -> str:
        """A team's reps of one role: "North: account executives"."""
        return f"{self.team(team)}: {lower_first(self.role(role, plural=True))}"


def _item_label(item: object) -> str:
    """An item's own label (``label``, or a role's ``title``), or its name as words."""
    own = getattr(item, "label", "") or getattr(item, "title", "")
    return str(own) if own else readable(str(getattr(item, "name", "")))


def _figure(height_in: float, rows: int = 1, **kwargs: Any) -> tuple[Figure, Any]:
    fig = Figure(figsize=(WIDTH_IN, height_in), layout="constrained")
    return fig, fig.subplots(rows, 1, squeeze=True, **kwargs)


def _side_by_side(count: int, panel_height_in: float, sharey: bool
                  ) -> tuple[Figure, list[Axes]]:
    """Panels for ``count`` scenarios, ``PANELS_PER_ROW`` a row, on one horizontal scale.

    ``sharey``: the scenarios have the same rows (stages), named once at the left.
    """
    cols = min(count, PANELS_PER_ROW)
    rows = math.ceil(count / cols)
    fig = Figure(figsize=(WIDTH_IN, panel_height_in * rows + 0.6), layout="constrained")
    grid = fig.subplots(rows, cols, sharex=True, sharey=sharey, squeeze=False)
    axes = list(grid.flat)
    for ax in axes[count:]:
        ax.set_visible(False)
    return fig, axes[:count]


def _room_for_notes(fig: Figure, axes: Sequence[Axes]) -> None:
    """Widen each axis to the right until the notes written beside its bars fit inside.

    A note is offset from its bar in points, so how much data it covers depends on the
    layout: lay out, measure, widen, a few times.
    """
    for _ in range(4):
        fig.draw_without_rendering()
        over = 0.0
        for ax in axes:
            box = ax.get_window_extent()
            right = max((t.get_window_extent().x1 for t in ax.texts), default=box.x1)
            x0, x1 = ax.get_xlim()
            over = max(over, (right - box.x1 + 4) * (x1 - x0) / box.width)
        if over <= 0:
            return
        limits = [ax.get_xlim() for ax in axes]  # read first: shared axes move together
        for ax, (x0, x1) in zip(axes, limits, strict=True):
            ax.set_xlim(x0, x1 + 1.1 * over)


def _wrapped(title: str) -> str:
    """A title over a whole figure, on two lines when it is too long for one."""
    return "\n".join(textwrap.wrap(title, 72))


def _panel_title(name: str) -> str:
    """A scenario's name over a panel a third of the figure wide: two lines at most."""
    lines = textwrap.wrap(name, 30)
    return "\n".join([*lines[:1], _short(" ".join(lines[1:]), 30)] if len(lines) > 1 else lines)


def _short(name: str, most: int = 34) -> str:
    return name if len(name) <= most else name[:most - 1].rstrip() + "…"


def funnel(res: Results) -> Figure:
    """The funnel: counted leads reaching each stage, and the share that passes on.

    Bars are leads per replication (mean); the label on each bar gives the share of
    all leads that reached the stage and the share of them that reached the next
    stage (or, at the last stage, were won); the stage fewest pass is marked.
    """
    fig, ax = _figure(0.42 * (len(res.scenario.stages) + 1) + 1.3)
    _draw_funnel(ax, res, Labels.of(res.scenario), notes=True)
    ax.set_xlabel("counted leads per replication (mean)")
    ax.set_title(_wrapped(f"Funnel: {res.scenario.name}"))
    _room_for_notes(fig, [ax])
    return fig


def funnels(results: Mapping[str, Results]) -> Figure:
    """The funnels of several scenarios side by side, on one scale.

    Args:
        results: Results by scenario name, the baseline first.
    """
    stage_lists = {tuple(s.name for s in r.scenario.stages) for r in results.values()}
    most = max(len(s) for s in stage_lists)
    fig, axes = _side_by_side(len(results), 0.34 * (most + 1) + 0.9,
                              sharey=len(stage_lists) == 1)
    for ax, (name, res) in zip(axes, results.items(), strict=True):
        _draw_funnel(ax, res, Labels.of(res.scenario), notes=False)
        ax.set_title(_panel_title(name), fontsize=10)
        ax.set_xlabel("leads per replication (mean)")
    fig.suptitle("Funnels side by side: counted leads reaching each stage, and won")
    _room_for_notes(fig, axes)
    return fig


def _draw_funnel(ax: Axes, res: Results, lab: Labels, notes: bool) -> None:
    """One funnel's bars; ``notes``: each with its shares, else its count alone."""
    f = funnel_table(res)
    won = float(res.kpis["won"].mean())
    leads = float(res.kpis["leads"].mean())
    names = [*(lab.stage(s) for s in f.index.astype(str)), "Won"]
    values = np.append(f["reached"].to_numpy(dtype=float), won)
    y = np.arange(len(names))
    ax.barh(y, values, color=[LEADS_COLOUR] * len(f) + [WON_COLOUR])
    ax.set_yticks(y, names)
    ax.set_ylim(len(names) - 0.5, -0.5)
    passed = f["passed_share"].to_numpy(dtype=float)
    weakest = int(np.nanargmin(passed)) if np.isfinite(passed).any() else -1
    texts = [f"{r:,.0f}" + (f"  ({s:.0%} of leads; {p:.0%} pass)" if notes else "")
             + ("  ◀ fewest pass" if notes and i == weakest else "")
             for i, (r, s, p) in enumerate(zip(f["reached"], f["reached_share"], passed,
                                                strict=True))]
    texts.append(f"{won:,.0f}" + (f"  ({won / leads:.1%} of leads)" if leads else ""))
    for yi, v, text in zip(y, values, texts, strict=True):
        ax.annotate(text, (v, yi), xytext=(4, 0), textcoords="offset points", va="center",
                    fontsize=SMALL_PT)
    ax.set_xlim(0, max(float(values.max()), 1.0) * 1.05)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))


FLOW_EXITS = {"won": "won", "lost": "lost", "cleared": "stale", "open": "open"}
"""Where a lead leaves the process, as the flow diagram names it beside a bar (short:
the bars of one stage sit beside the next stage's); ``FLOW_NOTE`` says what they mean."""
FLOW_NOTE = ("lost: declined or gone cold; stale: cleared as stale at a pipeline review; "
             "open: still open when the run ended")
FLOW_COLOURS = {"won": WON_COLOUR, "lost": "#a50f15", "cleared": "#969696", "open": "#6baed6"}
"""One colour per way out: won is won's colour everywhere, lost a dark red."""


def flow_counts(res: Results) -> pd.DataFrame:
    """Counted leads into each stage and out of it, per replication (mean).

    A lead counts at every stage up to the furthest it reached (a lead that skipped a
    stage passed through it), so what enters a stage is what leaves it: ``entered`` is
    ``passed`` (on to the next stage) plus the leads that left there ``won``, ``lost``
    (declined or gone cold), ``cleared`` (as stale, at a pipeline review) or still
    ``open`` at the end of the run.

    Returns:
        One row per stage in process order, those six columns.
    """
    n = len(res.scenario.stages)
    rows = []
    for raw in res.raw:
        L, E = raw.leads, raw.events
        furthest = np.zeros(len(L["cohort"]), dtype=np.int64)  # a lead not yet at a stage: 0
        np.maximum.at(furthest, E["case"], E["stage"])
        cohort = L["cohort"]
        lost = L["status"] == LOST
        cleared = lost & (L["lost_reason"] == CLEARED)
        ways = {"won": L["status"] == WON, "lost": lost & ~cleared, "cleared": cleared,
                "open": L["status"] == OPEN}
        out = {k: np.bincount(furthest[cohort & m], minlength=n) for k, m in ways.items()}
        entered = np.cumsum(np.bincount(furthest[cohort], minlength=n)[::-1])[::-1]
        rows.append(np.column_stack([entered, np.append(entered[1:], 0), *out.values()]))
    table = pd.DataFrame(np.mean(rows, axis=0), columns=["entered", "passed", *FLOW_EXITS],
                         index=pd.Index([s.name for s in res.scenario.stages], name="stage"))
    return table


def flow(res: Results) -> Figure:
    """Where leads go, stage by stage: a Sankey diagram of counted leads.

    Each stage is a column whose bar is the leads that entered it; a band carries the
    leads that pass on to the next stage, and the leads that leave there (won, lost,
    cleared as stale, still open) flow to small bars below the next column, each with
    its count. Band widths are leads per replication (mean), from ``flow_counts``.
    """
    table = flow_counts(res)
    lab = Labels.of(res.scenario)
    total = max(float(table["entered"].iloc[0]), 1.0)
    fig, ax = _figure(4.6)
    n = len(table)
    for k, (stage, row) in enumerate(table.iterrows()):
        size = float(row["entered"]) / total
        ax.add_patch(Rectangle((k, -size), FLOW_NODE, size, color=LEADS_COLOUR, linewidth=0))
        ax.text(k + FLOW_NODE / 2, 0.03, f"{lab.stage(str(stage))}\n{whole(row['entered'])}",
                ha="center", va="bottom", fontsize=SMALL_PT)
        exits = [(w, float(row[w]) / total) for w in FLOW_EXITS if row[w] > 0
                 and not (w == "won" and k == n - 1)]  # the last stage's wins: the Won bar
        passed = float(row["passed"] if k < n - 1 else row["won"]) / total
        _flow_band(ax, k, 0.0, 0.0, passed, LEADS_COLOUR if k < n - 1 else WON_COLOUR)
        if k == n - 1:
            ax.add_patch(Rectangle((n, -passed), FLOW_NODE, passed, color=WON_COLOUR))
            ax.text(n + FLOW_NODE / 2, 0.03, f"Won\n{whole(row['won'])}", ha="center",
                    va="bottom", fontsize=SMALL_PT)
        below = -(float(table["entered"].iloc[k + 1]) / total if k < n - 1 else passed)
        _flow_exits(ax, k, -passed, below - FLOW_GAP, exits, total)
    ax.set_xlim(-0.3, n + 0.85)  # room for the first stage's name, the last exits' words
    ax.set_ylim(min(ax.get_ylim()[0], -1.05), 0.22)
    ax.set_axis_off()
    shown = [w for w in ("lost", "cleared", "open") if table[w].sum() > 0]
    ax.text(0, 0, "; ".join(p for p in FLOW_NOTE.split("; ")
                            if p.split(":")[0] in {FLOW_EXITS[w] for w in shown}),
            transform=ax.transAxes, fontsize=SMALL_PT, color="0.35")
    ax.set_title(_wrapped(f"Where leads go, stage by stage: {res.scenario.name}") + "\n"
                 "(counted leads per replication, mean; a band's width is its leads)",
                 fontsize=10)
    return fig


FLOW_NODE = 0.1
"""Width of a stage's bar in the flow diagram (a column is 1 wide)."""
FLOW_GAP = 0.05
"""Space above the bars of the leads leaving a stage (a share of all leads)."""
FLOW_LABEL = 0.075
"""The least height a bar of leaving leads takes, so that labels do not overlap."""


def _flow_exits(ax: Axes, k: int, source: float, top: float,
                exits: Sequence[tuple[str, float]], total: float) -> None:
    """The leads leaving stage ``k``: bands from under its passing band to bars below."""
    for way, size in exits:
        _flow_band(ax, k, source, top, size, FLOW_COLOURS[way])
        ax.add_patch(Rectangle((k + 1, top - size), FLOW_NODE, size, color=FLOW_COLOURS[way],
                               linewidth=0))
        ax.text(k + 1 + FLOW_NODE + 0.03, top - size / 2,
                f"{FLOW_EXITS[way]} {whole(size * total)}", va="center", fontsize=SMALL_PT,
                bbox={"facecolor": "white", "alpha": 0.8, "linewidth": 0, "pad": 1})
        source -= size
        top -= max(size, FLOW_LABEL) + FLOW_GAP / 2


def _flow_band(ax: Axes, k: int, start: float, end: float, size: float, colour: str) -> None:
    """A band ``size`` wide from stage ``k``'s bar (top at ``start``) to the next column."""
    if size <= 0:
        return
    x = np.linspace(k + FLOW_NODE, k + 1, 50)
    ease = (1 - np.cos(np.linspace(0, np.pi, 50))) / 2  # flat at both ends, like a ribbon
    upper = start + (end - start) * ease
    ax.fill_between(x, upper, upper - size, color=colour, alpha=0.45, linewidth=0)


def cycle_time(res: Results, bins: int = 40) -> Figure:
    """Distribution of won leads' cycle time (arrival to signature): mean, p50, p90 marked.

    The histogram pools all replications' won counted leads, scaled to one
    replication; the axis ends at the 99th percentile (how many deals take longer is
    said); the marked mean and percentiles are the KPIs (means over replications).
    """
    days = np.concatenate([
        (r.leads["close_time"] - r.leads["arrival_time"])[
            (r.leads["status"] == WON) & r.leads["cohort"]]
        for r in res.raw])
    fig, ax = _figure(4.2)
    top = float(np.quantile(days, TAIL)) if len(days) else 1.0
    ax.hist(days[days <= top], bins=bins, range=(0.0, top),
            weights=np.full(int((days <= top).sum()), 1 / res.replications),
            color=LEADS_COLOUR, edgecolor="white")
    for kpi, label, style in (("cycle_time_mean_days", "mean", "--"),
                              ("cycle_time_p50_days", "median", "-"),
                              ("cycle_time_p90_days", "90th percentile", ":")):
        value = float(res.kpis[kpi].mean())
        if np.isfinite(value):
            ax.axvline(value, color=MEAN_COLOUR, linestyle=style, linewidth=2,
                       label=f"{label}: {value:.1f} days")
    if len(days):
        # A white ground: where the tail is long, a marked line can run under the text.
        ax.legend(facecolor="white", framealpha=0.9, edgecolor="none",
                  fontsize=SMALL_PT + 1)
        longer = float((days > top).mean())
        ax.text(1, 1.01, f"{longer:.1%} of won deals take longer than {top:.0f} days "
                f"(not shown)", transform=ax.transAxes, ha="right", va="bottom",
                fontsize=SMALL_PT, color="0.35")
    ax.set_xlim(0, top)
    ax.set_xlabel("cycle time, arrival to signature (working days)")
    ax.set_ylabel("won deals per replication")
    ax.set_title(_wrapped(f"Cycle time of won deals: {res.scenario.name}"), pad=16)
    return fig


def wip_over_time(res: Results, ts: pd.DataFrame | None = None, step_days: float = 1.0,
                  stages: Sequence[str] | None = None) -> Figure:
    """Leads at each stage (WIP) and waiting for a rep there (queue), over time.

    Means over replications at each sample time. The warm-up is shaded and the end of
    arrivals (the horizon) marked; the stage with the longest queue on average is
    drawn thicker and named so in the legend.

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
    queues = {s: float(mean.loc[("wait", s)].mean()) for s in chosen}
    longest = max(queues, key=queues.__getitem__)
    lab = Labels.of(res.scenario)
    fig, axes = _figure(6.4, rows=2, sharex=True)
    cal = res.scenario.calendar
    for ax, measure, label in ((axes[0], "wip", "leads at the stage (WIP)"),
                               (axes[1], "wait", "leads waiting for a rep")):
        for stage in chosen:
            line = mean.loc[(measure, stage)]
            ax.plot(line.index, line.to_numpy(), color=_stage_colour(names.index(stage)),
                    linewidth=2.6 if stage == longest else 1.2,
                    label=lab.stage(stage) + (" (longest queue)" if stage == longest else ""))
        ax.axvspan(0, cal.warmup_days, color="0.92", zorder=0)
        ax.axvline(cal.horizon_days, color="0.4", linestyle="--", linewidth=1)
        ax.set_ylabel(label)
        ax.set_ylim(bottom=0)
    for x, text in ((cal.warmup_days / 2, "warm-up"), (cal.horizon_days, "arrivals stop")):
        axes[0].text(x, 1.01, text, transform=axes[0].get_xaxis_transform(), ha="center",
                     va="bottom", fontsize=SMALL_PT, color="0.35")
    fig.legend(*axes[0].get_legend_handles_labels(), ncols=min(len(chosen), 3),
               fontsize=SMALL_PT, frameon=False, loc="outside lower center")
    axes[1].set_xlabel("time (working days from the start)")
    axes[1].set_xlim(0, float(ts["time_days"].max()) if len(ts) else cal.horizon_days)
    fig.suptitle(_wrapped(f"Work in progress and queues over time: {res.scenario.name}"))
    return fig


STAGE_COLOURS = ("#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#1b9e77", "#666666",
                 "#17becf")
"""Stages in the lines over time, in process order (repeated for more stages)."""


def _stage_colour(index: int) -> str:
    return STAGE_COLOURS[index % len(STAGE_COLOURS)]


def _role_colour(index: int) -> str:
    return ROLE_COLOURS[index % len(ROLE_COLOURS)]


def scenario_colour(index: int) -> str:
    """The colour of the ``index``-th scenario of a comparison (0: the baseline)."""
    return SCENARIO_COLOURS[index % len(SCENARIO_COLOURS)]


def utilisation(res: Results, by: str = "role") -> Figure:
    """Share of working time the reps spend working, per role, team or rep.

    Per role the bars carry the KPI's confidence interval; per team they are means over
    replications, coloured by role. Per rep, each rep is a dot on the row of its team
    and role, the row's mean marked, so the chart reads the same for 10 reps or 500.
    A dashed line marks the mean over all reps (weighted by headcount).

    Raises:
        ValueError: If ``by`` is not one of ``UTILISATION_BY``.
    """
    if by not in UTILISATION_BY:
        raise ValueError(unknown("grouping", by, UTILISATION_BY, "utilisation is by"))
    if by == "rep":
        return _rep_utilisation(res)
    sc = res.scenario
    lab = Labels.of(sc)
    roles = [r.name for r in sc.roles]
    if by == "role":
        s = res.summary().loc[[f"utilisation_{r}" for r in roles]]
        labels = [lab.role(r, plural=True) for r in roles]
        values, role_of = s["mean"].to_numpy(dtype=float), roles
        err = np.abs(s[["ci_low", "ci_high"]].to_numpy(dtype=float).T - values)
    else:
        table = res.teams().reset_index()
        labels = [lab.team_role(t, r) for t, r in zip(table["team"], table["role"], strict=True)]
        values, role_of = table["utilisation"].to_numpy(dtype=float), list(table["role"])
        err = None
    fig, ax = _figure(max(2.6, 0.3 * len(labels) + 1.5))
    y = np.arange(len(labels))
    ax.barh(y, values, xerr=err, color=[_role_colour(roles.index(r)) for r in role_of],
            capsize=3)
    ends = values if err is None else values + np.nan_to_num(err[1])
    for yi, v, end in zip(y, values, ends, strict=True):
        ax.annotate(f"{v:.0%}", (end, yi), xytext=(5, 0), textcoords="offset points",
                    va="center", fontsize=SMALL_PT)
    ax.set_yticks(y, labels)
    ax.set_ylim(len(labels) - 0.5, -0.5)
    _mark_mean_utilisation(ax, res)
    _utilisation_axis(ax)
    if by == "team":
        _role_legend(fig, sc, lab)
    else:
        fig.legend(fontsize=SMALL_PT, frameon=False, loc="outside lower center")
    ax.set_title(_wrapped(f"Utilisation per {by}: {sc.name}"))
    return fig


def _rep_utilisation(res: Results) -> Figure:
    """Each rep a dot on its team and role's row; the row's mean a bar across it."""
    sc = res.scenario
    lab = Labels.of(sc)
    roles = [r.name for r in sc.roles]
    reps = res.reps().reset_index()
    groups = list(dict.fromkeys(zip(reps["team"], reps["role"], strict=True)))
    fig, ax = _figure(max(2.6, 0.34 * len(groups) + 1.7))
    rng = np.random.default_rng(0)  # a fixed spread, so the same run draws the same dots
    names = []
    for i, (team, role) in enumerate(groups):
        u = reps.loc[(reps["team"] == team) & (reps["role"] == role), "utilisation"]
        values = u.to_numpy(dtype=float)
        ax.scatter(values, i + rng.uniform(-0.18, 0.18, len(values)), s=22,
                   color=_role_colour(roles.index(role)), edgecolor="0.3", linewidth=0.4,
                   zorder=3)
        ax.plot([values.mean()] * 2, [i - 0.34, i + 0.34], color=MEAN_COLOUR, linewidth=2)
        names.append(f"{lab.team_role(team, role)} ({len(values)})")
    ax.set_yticks(np.arange(len(groups)), names)
    ax.set_ylim(len(groups) - 0.5, -0.5)
    _mark_mean_utilisation(ax, res)
    every = reps["utilisation"].to_numpy(dtype=float)
    _utilisation_axis(ax, max(0.0, math.floor(np.nanmin(every) * 10 - 0.5) / 10),
                      min(1.05, math.ceil(np.nanmax(every) * 10 + 0.5) / 10))
    _role_legend(fig, sc, lab, extra=[Line2D([], [], color=MEAN_COLOUR, linewidth=2,
                                             label="mean of the row")])
    ax.set_title(_wrapped(f"Utilisation per rep ({len(reps)} reps, a dot each): {sc.name}"))
    return fig


def _mark_mean_utilisation(ax: Axes, res: Results) -> None:
    """A dashed line at the mean utilisation of all reps, weighted by headcount."""
    heads: dict[str, int] = {}
    for team in res.scenario.teams:
        for role, group in team.reps.items():
            heads[role] = heads.get(role, 0) + group.headcount
    total = sum(heads.values())
    if not total:
        return
    mean = sum(float(res.kpis[f"utilisation_{r}"].mean()) * h for r, h in heads.items()) / total
    ax.axvline(mean, color=MEAN_COLOUR, linestyle="--", linewidth=1.2,
               label=f"mean of all reps: {mean:.0%}")


def _utilisation_axis(ax: Axes, low: float = 0.0, high: float = 1.08) -> None:
    ax.set_xlim(low, high)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("utilisation (share of working time spent working)")


def _role_legend(fig: Figure, sc: Scenario, lab: Labels, extra: Sequence[Line2D] = ()) -> None:
    """Roles by colour, then what the lines mean (the mean of all reps, ``extra``)."""
    handles: list[Any] = [Patch(color=_role_colour(k), label=lab.role(r.name, plural=True))
                          for k, r in enumerate(sc.roles)]
    handles += [line for line in fig.axes[0].lines if not str(line.get_label()).startswith("_")]
    handles += list(extra)
    fig.legend(handles=handles, fontsize=SMALL_PT, frameon=False, loc="outside lower center",
               ncols=min(len(handles), 3))


def time_breakdown(res: Results) -> Figure:
    """Where won leads' time goes: days per stage in each phase, stacked.

    The bars of all stages add up to the mean cycle time of won leads; the bottleneck
    (the stage where won leads wait longest for a rep) is marked.
    """
    bn = bottlenecks(res)
    fig, ax = _figure(0.5 * len(bn.stages) + 1.9)
    _draw_time(ax, bn, Labels.of(res.scenario), notes=True)
    ax.set_xlabel(f"days per won deal (mean); all stages add up to the cycle time, "
                  f"{bn.cycle_time_days:.1f} days")
    _phase_legend(fig)
    ax.set_title(_wrapped(f"Where won deals' time goes: {res.scenario.name}"))
    _room_for_notes(fig, [ax])
    return fig


def time_breakdowns(results: Mapping[str, Results],
                    analyses: Mapping[str, Bottlenecks] | None = None) -> Figure:
    """Where won leads' time goes in several scenarios, side by side on one scale.

    Args:
        results: Results by scenario name, the baseline first.
        analyses: ``bottlenecks(res)`` by name, where already worked out.
    """
    bns = {n: (analyses or {}).get(n) or bottlenecks(r) for n, r in results.items()}
    stage_lists = {tuple(b.stages.index) for b in bns.values()}
    most = max(len(s) for s in stage_lists)
    fig, axes = _side_by_side(len(results), 0.36 * most + 1.0, sharey=len(stage_lists) == 1)
    for ax, (name, res) in zip(axes, results.items(), strict=True):
        _draw_time(ax, bns[name], Labels.of(res.scenario), notes=False)
        ax.set_title(f"{_panel_title(name)}\ncycle time {bns[name].cycle_time_days:.1f} days",
                     fontsize=10)
        ax.set_xlabel("days per won deal (mean)")
    _phase_legend(fig)
    fig.suptitle("Where won deals' time goes, side by side (◀: the bottleneck)")
    _room_for_notes(fig, axes)
    return fig


def _draw_time(ax: Axes, bn: Bottlenecks, lab: Labels, notes: bool) -> None:
    """Stacked phase days per stage; ``notes``: each total with its share of the cycle."""
    t = bn.stages
    y = np.arange(len(t))
    left = np.zeros(len(t))
    for p in PHASES:
        v = np.nan_to_num(t[f"{p}_days"].to_numpy(dtype=float))
        ax.barh(y, v, left=left, color=PHASE_COLOURS[p], label=PHASE_LABELS[p])
        left += v
    stages = list(t.index.astype(str))
    for yi, stage, total, share in zip(y, stages, t["days"], t["share"], strict=True):
        text = f"{total:.1f} d" + (f" ({share:.0%})" if notes else "")
        mark = stage == bn.bottleneck
        ax.annotate(text + (("  ◀ bottleneck" if notes else " ◀") if mark else ""), (total, yi),
                    xytext=(4, 0),
                    textcoords="offset points", va="center", fontsize=SMALL_PT,
                    color=BOTTLENECK_COLOUR if mark else "black",
                    fontweight="bold" if mark else "normal")
    ax.set_yticks(y, [lab.stage(s) for s in stages])
    ax.set_ylim(len(t) - 0.5, -0.5)
    ax.set_xlim(0, max(float(np.nanmax(np.append(left, 1.0))), 1.0) * 1.05)


def _phase_legend(fig: Figure) -> None:
    handles = [Patch(color=PHASE_COLOURS[p], label=PHASE_LABELS[p]) for p in PHASES]
    fig.legend(handles=handles, fontsize=SMALL_PT, frameon=False, loc="outside lower center",
               ncols=3)


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
    # Teams are named in the scenario's code; other values are the scenario's own words.
    labels = [readable(str(v)) if by == "team" else str(v) for v in rows.index]
    mean = rows["mean"].to_numpy(dtype=float)
    low, high = (rows[c].to_numpy(dtype=float) for c in ("ci_low", "ci_high"))
    err = np.nan_to_num(np.abs(np.stack([low, high]) - mean))
    fig, ax = _figure(max(2.6, 0.38 * len(labels) + 1.5))
    y = np.arange(len(labels))
    ax.barh(y, np.nan_to_num(mean), xerr=err, color=LEADS_COLOUR, capsize=3,
            error_kw={"ecolor": "0.25", "linewidth": 1.2})
    ends = np.fmax(mean, high)
    for yi, m, end in zip(y, mean, ends, strict=True):
        ax.annotate(fmt_number(kpi, m) if np.isfinite(m) else "undefined: no lead to measure",
                    (end if np.isfinite(end) else 0.0, yi), xytext=(5, 0),
                    textcoords="offset points", va="center", fontsize=SMALL_PT)
    ax.set_yticks(y, labels)
    ax.set_ylim(len(labels) - 0.5, -0.5)
    right = float(np.nanmax(np.append(ends, 0.0)))
    ax.set_xlim(0, right * 1.25 if right > 0 else 1.0)
    ax.xaxis.set_major_formatter(_tick_formatter(kpi, "mean"))
    ax.set_xlabel(_axis_label(kpi, "mean", "", currency))
    ax.set_ylabel(readable(by))
    ax.set_title(f"{kpi_words(kpi)} by {by}: means with confidence intervals")
    return fig


def forest(table: pd.DataFrame, kpis: Sequence[str] | None = None,
           baseline: str | None = None, currency: str = "EUR",
           labels: Labels | None = None) -> Figure:
    """KPI differences to the baseline with their paired confidence intervals.

    One panel per unit and direction (money where more is better, money where less
    is, working days, percentage points...), each on an axis in its own unit with the
    better side shaded, so a difference reads as it is: "+120k EUR profit". Each
    scenario has its colour; a filled marker is an interval that excludes zero (a
    clear difference), an open one a difference within chance.

    Args:
        table: A comparison table (``Comparison.table()``): index ``(kpi, scenario)``,
            columns ``diff``, ``diff_ci_low`` and ``diff_ci_high``.
        kpis: KPIs to show (default ``HEADLINE_KPIS`` and utilisations).
        baseline: The baseline scenario (default: the first in the table).
        currency: Unit of money KPIs.
        labels: Names of roles for the utilisations (``Labels.of(scenario)``).

    Raises:
        ValueError: If a KPI or the baseline is not in the table.
    """
    names, known, base = _comparison_names(table, baseline)
    others = [n for n in names if n != base]
    if kpis is None:
        chosen = [k for k in known if k in HEADLINE_KPIS or k.startswith("utilisation_")]
    else:
        chosen = list(kpis)
        for k in chosen:
            if k not in known:
                raise ValueError(unknown("KPI", k, known, "KPIs are"))
    groups: dict[tuple[str, str], list[str]] = {}
    for k in chosen:
        unit = _difference_unit(k, currency) + PER.get(k, "")
        groups.setdefault((unit, better(k) or ""), []).append(k)
    per_kpi = max(1, len(others))
    sizes = [len(ks) * (0.22 * per_kpi + 0.12) + 0.6 for ks in groups.values()]
    fig = Figure(figsize=(WIDTH_IN, sum(sizes) + 1.1), layout="constrained")
    axes = fig.subplots(len(groups), 1, squeeze=False,
                        gridspec_kw={"height_ratios": sizes})[:, 0]
    for ax, ((unit, way), ks) in zip(axes, groups.items(), strict=True):
        _forest_panel(ax, table, ks, others, labels or Labels())
        _better_side(ax, way)
        ax.set_title(f"{unit[:1].upper()}{unit[1:]}: "
                     + (f"{way} is better" if way else "no better direction"),
                     loc="left", fontsize=10)
    _forest_legend(fig, others)
    fig.suptitle(f"Differences to {_short(base, 50)}, with paired 95% intervals"
                 if others else "KPI differences (no other scenario)")
    return fig


PER = {"cost_per_won": " per deal won", "customer_lifetime_value": " per customer"}
"""Money KPIs per deal or customer: a panel of their own, apart from the totals."""


def _comparison_names(table: pd.DataFrame, baseline: str | None
                      ) -> tuple[list[str], list[str], str]:
    """A comparison table's scenarios, its KPIs and the baseline, checked."""
    names = list(dict.fromkeys(table.index.get_level_values("scenario").astype(str)))
    known = list(dict.fromkeys(table.index.get_level_values("kpi").astype(str)))
    base = baseline if baseline is not None else names[0]
    if base not in names:
        raise ValueError(unknown("baseline scenario", base, names, "scenarios are"))
    return names, known, base


def _cell(table: pd.DataFrame, kpi: str, name: str, column: str) -> float:
    """One number of a comparison table: a KPI's ``column`` for one scenario."""
    value: Any = table.loc[(kpi, name), column]
    return float(value)


def _forest_panel(ax: Axes, table: pd.DataFrame, kpis: Sequence[str], others: Sequence[str],
                  lab: Labels) -> None:
    """One unit's rows: per KPI, each scenario's difference with its interval.

    Differences of shares are drawn in percentage points (100 times the share).
    """
    n = max(1, len(others))
    points = _difference_unit(kpis[0], "") == "percentage points"
    scale = 100.0 if points else 1.0
    ends: list[float] = [0.0]
    for i, k in enumerate(kpis):
        for j, s in enumerate(others):
            yy = i + (j - (n - 1) / 2) * (0.8 / n)
            lo, mid, hi = (_cell(table, k, s, c) * scale
                           for c in ("diff_ci_low", "diff", "diff_ci_high"))
            colour = scenario_colour(j + 1)
            ranged = math.isfinite(lo) and math.isfinite(hi)
            if ranged:
                ax.plot([lo, hi], [yy, yy], color=colour, linewidth=2.2)
                ends += [lo, hi]
            clear = ranged and (lo > 0 or hi < 0)
            ax.plot([mid], [yy], "o", color=colour, markersize=6.5,
                    markerfacecolor=colour if clear else "white")
            if math.isfinite(mid):
                ends.append(mid)
                ax.annotate(fmt_number(k, mid / scale, sign=True), (hi if ranged else mid, yy),
                            xytext=(5, 0), textcoords="offset points", va="center",
                            fontsize=SMALL_PT, color=colour)
    ax.axvline(0, color="0.3", linewidth=1)
    ax.set_yticks(range(len(kpis)), [lab.kpi(k) for k in kpis])
    ax.set_ylim(len(kpis) - 0.5, -0.5)
    low, high = min(ends), max(ends)
    span = (high - low) or max(abs(high), 1e-9)
    ax.set_xlim(low - 0.12 * span, high + 0.3 * span)  # room for the values on the right
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: "0" if v == 0 else f"{v:+g}")
                                 if points else _tick_formatter(kpis[0], "diff"))


def _better_side(ax: Axes, way: str) -> None:
    """Shade the better side of zero and say so; nothing for KPIs without a direction."""
    if not way:
        return
    left, right = ax.get_xlim()
    if way == "higher":
        ax.axvspan(0, right, color=BETTER_SHADE, zorder=0)
    else:
        ax.axvspan(left, 0, color=BETTER_SHADE, zorder=0)
    ax.set_xlim(left, right)
    ax.set_title("better →" if way == "higher" else "← better", loc="right",
                 fontsize=SMALL_PT, color=WON_COLOUR)


def _forest_legend(fig: Figure, others: Sequence[str]) -> None:
    handles = [Line2D([], [], color=scenario_colour(j + 1), marker="o", linewidth=2.2,
                      label=_short(s)) for j, s in enumerate(others) if len(others) > 1]
    handles += [Line2D([], [], color="0.3", marker="o", linewidth=0, label="clear difference "
                       "(the interval excludes 0)"),
                Line2D([], [], color="0.3", marker="o", markerfacecolor="white", linewidth=0,
                       label="within chance")]
    fig.legend(handles=handles, fontsize=SMALL_PT, frameon=False, loc="outside lower center",
               ncols=min(len(handles), 3))


def _difference_unit(kpi: str, currency: str) -> str:
    """The unit a difference of a KPI is in: percentage points, the currency, days..."""
    if is_share(kpi) or kpi in RATIOS:
        return "percentage points"
    if kpi.endswith("_pct"):
        return "points of per cent"
    return kpi_unit(kpi, currency) or "value"


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
    names, known, base = _comparison_names(table, baseline)
    for k in (x, y):
        if k not in known:
            raise ValueError(unknown("KPI", k, known, "KPIs are"))
    order = [base, *(n for n in names if n != base)]
    mid, low, high = (("mean", "ci_low", "ci_high") if values == "mean"
                      else ("diff", "diff_ci_low", "diff_ci_high"))
    fig, ax = _figure(5.6)
    points: list[tuple[float, float]] = []
    for i, name in enumerate(order):
        at_origin = values == "diff" and name == base
        centre, bars = [], []
        for k in (x, y):
            c = 0.0 if at_origin else _cell(table, k, name, mid)
            lo, hi = _cell(table, k, name, low), _cell(table, k, name, high)
            centre.append(c)
            bars.append(np.array([[c - lo], [hi - c]]) if np.isfinite(lo + hi) else None)
        ax.errorbar([centre[0]], [centre[1]], xerr=bars[0], yerr=bars[1], fmt="o",
                    color=scenario_colour(i), markersize=7, capsize=3, linewidth=1.5,
                    markerfacecolor="white" if name == base else scenario_colour(i))
        points.append((centre[0], centre[1]))
    if values == "diff":
        ax.axhline(0, color="0.5", linewidth=0.8)
        ax.axvline(0, color="0.5", linewidth=0.8)
    for k, axis, set_label in ((x, ax.xaxis, ax.set_xlabel), (y, ax.yaxis, ax.set_ylabel)):
        axis.set_major_formatter(_tick_formatter(k, values))
        set_label(_axis_label(k, values, base, currency))
    ax.margins(0.18)
    what = (f"difference to {_short(base)} with paired 95% intervals" if values == "diff"
            else "means with 95% intervals")
    ax.set_title(f"{kpi_words(y)} against {lower_first(kpi_words(x))}: {what}")
    _place_labels(fig, ax, points, [_short(n, 44) for n in order],
                  [scenario_colour(i) for i in range(len(order))])
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
                           fontsize=SMALL_PT, color=colours[i])
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


def _kpi_words(kpi: str) -> str:
    """A KPI as words inside a sentence: ``cycle_time_p90_days`` -> ``cycle time, 90th...``."""
    return lower_first(kpi_words(kpi))


def _axis_label(kpi: str, values: str, base: str, currency: str) -> str:
    """An axis label naming the KPI, its unit and which way is better."""
    if values == "diff":
        unit = _difference_unit(kpi, currency)
        text = f"{kpi_words(kpi)}, difference to {_short(base)}"
    else:
        unit = kpi_unit(kpi, currency) or "value"
        unit += " per replication" if kpi in COUNTED else ""
        text = kpi_words(kpi)
    way = better(kpi)
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
