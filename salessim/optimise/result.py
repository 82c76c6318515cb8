"""What an optimisation found: the recommendation, the trials, the frontier, sensitivity."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from salessim.compare import Comparison
from salessim.formatting import (
    fmt_change,
    fmt_number,
    fmt_range,
    fmt_value,
    kpi_label,
    kpi_words,
    lower_first,
)
from salessim.kpis import Condition, direction_of
from salessim.optimise.levers import Lever, plain
from salessim.optimise.selection import Selection
from salessim.optimise.spec import Objective
from salessim.scenario.errors import unknown
from salessim.scenario.schema import Scenario

BASELINE = "baseline"
"""Name of the scenario as it is, in the recommendation's comparison."""
RECOMMENDED = "recommended"
"""Name of the recommended setting in the recommendation's comparison."""
SHOWN_KPIS = ("profit", "revenue", "cost", "conversion_rate", "cycle_time_p90_days")
"""KPIs a recommendation shows besides its objectives and constrained KPIs."""


@dataclass(frozen=True)
class Recommendation:
    """The setting selected, with paired intervals of every KPI against the baseline.

    Attributes:
        settings: Lever path -> recommended value.
        baseline_settings: Lever path -> the value in the scenario as it is (None
            where the scenario leaves it unset).
        scenario: The recommended scenario.
        comparison: The baseline and the recommendation on common random numbers
            (``comparison.table()`` holds every KPI with its paired interval).
        objective: The objective the selection ranked by.
        constraints: The constraints, checked on the final replications' means.
        meets_constraints: Whether the recommendation meets them on those replications.
        selection: How it was selected among the leading candidates (``Selection``).
        candidates: The leading candidates' settings, in the selection's positions.
    """

    settings: Mapping[str, Any]
    baseline_settings: Mapping[str, Any]
    scenario: Scenario
    comparison: Comparison
    objective: Objective
    constraints: tuple[Condition, ...]
    meets_constraints: bool
    selection: Selection
    candidates: tuple[Mapping[str, Any], ...]

    @property
    def changes(self) -> dict[str, Any]:
        """The levers the recommendation moves away from the scenario as it is."""
        return {p: v for p, v in self.settings.items() if self.baseline_settings.get(p) != v}

    def table(self, kpis: Sequence[str] | None = None) -> pd.DataFrame:
        """Per KPI: the recommendation's mean, CI and paired difference to the baseline.

        The columns are those of ``Comparison.table()``.
        """
        table = self.comparison.table(kpis)
        return table[table.index.get_level_values("scenario") == RECOMMENDED].droplevel(
            "scenario")

    def shown_kpis(self) -> list[str]:
        """The objective, the constrained KPIs and the headline KPIs, once each."""
        known = self.comparison.kpi_names
        names = [self.objective.kpi, *(c.kpi for c in self.constraints), *SHOWN_KPIS]
        return [k for k in dict.fromkeys(names) if k in known]

    def lines(self) -> list[str]:
        """The recommendation in words, one line each."""
        s = self.selection
        level = f"{s.confidence:.0%}"
        n = self.comparison.results[RECOMMENDED].replications
        zone = _amount(self.objective.kpi, s.indifference, self.scenario.money.currency)
        many = len(s.replications)
        how = ("the only leading candidate, so nothing to select among" if many == 1 else
               f"selected among {many} leading candidates with {level} "
               f"confidence of being the best or within {zone} of it" if s.finished else
               f"the best mean of {len(s.survivors)} candidates that {max(s.replications)} "
               f"replications each could not tell apart within {zone} (no {level} guarantee)")
        out = [f"Recommended for {self.scenario.name}: {self.objective}; {how}."]
        width = max(len(p) for p in self.settings)
        for path, value in self.settings.items():
            before = self.baseline_settings.get(path)
            moved = f"{plain(before)} -> {plain(value)}" if before != value else (
                f"{plain(value)} (as it is)")
            out.append(f"  {path.ljust(width)}  {moved}")
        if not self.meets_constraints:
            out.append("  It misses a constraint on its final replications: no candidate "
                       "met them all.")
        out.append(f"Against the baseline, {n} replications on common random numbers, "
                   f"paired {self.comparison.confidence:.0%} intervals:")
        currency = self.scenario.money.currency
        table = self.table(self.shown_kpis())
        names = {str(k): kpi_label(str(k), currency) for k in table.index}
        width = max(len(name) for name in names.values())
        for kpi, row in table.iterrows():
            k = str(kpi)
            # The label names the unit: the numbers go without it, as in the report's tables.
            out.append(f"  {names[k].ljust(width)}  {fmt_number(k, row['mean']):>8}  "
                       f"{fmt_number(k, row['diff'], sign=True)} "
                       f"({fmt_range(k, row['diff_ci_low'], row['diff_ci_high'], sign=True)})")
        return out

    def __repr__(self) -> str:
        return "\n".join(self.lines())

    def _repr_html_(self) -> str:
        return "<pre>" + html.escape(repr(self)) + "</pre>"


def _difference(kpi: str, row: pd.Series, currency: str) -> str:
    """A paired difference with its interval, in the KPI's unit.

    ``+465k EUR (-3,865 .. +933k)``; ``row`` is the KPI's row of a comparison table.
    """
    return (f"{fmt_change(kpi, row['diff'], currency)} "
            f"({fmt_range(kpi, row['diff_ci_low'], row['diff_ci_high'], sign=True)})")


def _count(n: int, thing: str) -> str:
    """``1 trial``, ``4 trials``."""
    return f"{n:,} {thing}{'' if n == 1 else 's'}"


def _amount(kpi: str, value: float, currency: str) -> str:
    """An amount of a KPI with its unit: ``25.0k EUR``, ``1.50 working days``, ``0.5 pts``."""
    return fmt_change(kpi, value, currency).lstrip("+")


@dataclass(frozen=True)
class Optimisation:
    """The outcome of ``salessim.optimise``.

    Attributes:
        scenario: The scenario as it is (the baseline).
        levers: The levers searched.
        objectives: The objectives (the first ranks the recommendation).
        constraints: Conditions on KPI means a setting must meet.
        budget: Limits on what a setting costs (see ``salessim.optimise.spec.COSTS``).
        seed: The root seed of every replication and of the search.
        replications: Replications per trial during the search.
        history: One row per trial, in order: the lever values, the KPI means, whether
            the trial met the constraints (``feasible``) and what it costs
            (``salary_per_year``, ``headcount``).
        skipped: Settings proposed over the budget: not simulated, not counted as trials.
        best: The recommendation, or None if no trial met the constraints.
        moves: The one-step moves of the sensitivity analysis: one row per move, its
            lever, value and whether it stays within the budget.
        sensitivity_runs: The recommendation and each move on common random numbers
            (None without a recommendation).
        timings: Seconds spent: ``total``, ``simulating`` (running replications and
            working out their KPIs) and ``search`` (everything else: proposing,
            keeping the study, selecting).
        study_name: The study's name in its storage.
        note: Why the search stopped before the trials asked for, if it did.
    """

    scenario: Scenario
    levers: tuple[Lever, ...]
    objectives: tuple[Objective, ...]
    constraints: tuple[Condition, ...]
    budget: Mapping[str, float]
    seed: int
    replications: int
    history: pd.DataFrame
    skipped: int
    best: Recommendation | None
    moves: pd.DataFrame
    sensitivity_runs: Comparison | None
    timings: Mapping[str, float]
    study_name: str
    note: str | None = None

    def frontier(self, x: str, y: str) -> pd.DataFrame:
        """The feasible trials no other feasible trial beats on both KPIs (means).

        "Beats" follows each KPI's better direction; repeated settings count once.

        Args:
            x: First KPI, e.g. ``"cost"``.
            y: Second KPI, e.g. ``"cycle_time_p90_days"``.

        Returns:
            The trials of the Pareto set (lever values and the two KPIs), sorted by ``x``.

        Raises:
            ValueError: For the same KPI twice, or a KPI without a better direction.
        """
        if x == y:
            raise ValueError(f"a frontier needs two different KPIs, got {x!r} twice")
        known = [c for c in self.history.columns if c not in self._non_kpi_columns()]
        signs = [1.0 if direction_of(k, known) == "higher" else -1.0 for k in (x, y)]
        paths = [lv.path for lv in self.levers]
        table = self.history[self.history["feasible"]].drop_duplicates(paths)
        table = table[np.isfinite(table[[x, y]].to_numpy(dtype=float)).all(axis=1)]
        scores = table[[x, y]].to_numpy(dtype=float) * signs
        keep = [not ((scores >= s).all(axis=1) & (scores > s).any(axis=1)).any()
                for s in scores]
        front: pd.DataFrame = table.loc[keep, [*paths, x, y]]
        return front.sort_values(x, kind="stable")

    def _non_kpi_columns(self) -> set[str]:
        return {lv.path for lv in self.levers} | {"feasible", "salary_per_year", "headcount"}

    def sensitivity(self, kpi: str | None = None) -> pd.DataFrame:
        """One-at-a-time effects around the recommendation, the largest first (a tornado).

        Each lever is moved one step either side of its recommended value (a whole
        number by its step, a continuous one by a tenth of its range, a choice to each
        other value), the others held, and run on the recommendation's random numbers:
        the effect is the paired difference to the recommendation, with intervals that
        hold together for all moves (Bonferroni).

        Args:
            kpi: The KPI whose effects are shown (default: the first objective).

        Returns:
            One row per move, indexed by lever and value: ``diff``, ``diff_ci_low``,
            ``diff_ci_high``, ``p_adjusted``, ``within_budget`` and the lever's
            ``swing`` (its largest absolute effect), ordered by swing.
        """
        kpi = kpi or self.objectives[0].kpi
        columns = ["diff", "diff_ci_low", "diff_ci_high", "p_adjusted", "within_budget",
                   "swing"]
        if self.sensitivity_runs is None or self.moves.empty:
            return pd.DataFrame(columns=columns,
                                index=pd.MultiIndex.from_arrays([[], []],
                                                                names=["lever", "value"]))
        known = self.sensitivity_runs.kpi_names
        if kpi not in known:
            raise ValueError(unknown("KPI", kpi, known, "KPIs are"))
        table = self.sensitivity_runs.table([kpi]).xs(kpi, level="kpi")
        rows = self.moves.join(table[["diff", "diff_ci_low", "diff_ci_high", "p_adjusted"]])
        rows["swing"] = rows.groupby("lever", sort=False)["diff"].transform(
            lambda d: d.abs().max())
        order = {p: i for i, p in enumerate(lv.path for lv in self.levers)}
        rows["_order"] = rows["lever"].map(order)
        rows = rows.sort_values(["swing", "_order"], ascending=[False, True], kind="stable")
        rows["value"] = rows["value"].map(plain)
        return rows.set_index(["lever", "value"])[columns]

    def lines(self) -> list[str]:
        """The study in a few lines: what was searched, how much, what was found."""
        objectives = ", ".join(str(o) for o in self.objectives)
        extra = [_count(len(self.constraints), "constraint")]
        if self.budget:
            currency = self.scenario.money.currency
            extra.append("budget: " + ", ".join(
                f"{lower_first(kpi_words(k))} at most "
                f"{f'{v:,.0f} {currency}' if k == 'salary_per_year' else f'{v:,.0f} reps'}"
                for k, v in self.budget.items()))
        skipped = (f", {_count(self.skipped, 'setting')} over the budget skipped"
                   if self.skipped else "")
        out = [f"Optimisation of {self.scenario.name}: {objectives}; "
               f"{_count(len(self.levers), 'lever')}, {'; '.join(extra)}; "
               f"{_count(len(self.history), 'trial')} of {self.replications} replications, "
               f"seed {self.seed}{skipped}"]
        if self.note:
            out.append(self.note)
        if self.best is None:
            out.append("No trial met the constraints: there is no recommendation.")
        else:
            out += self.best.lines()
        return out

    def __repr__(self) -> str:
        """The study's line, the levers moved and the objective's paired difference."""
        out = self.lines()[:1 + bool(self.note)]
        best = self.best
        if best is None:
            return "\n".join([*out, "No trial met the constraints: there is no recommendation."])
        moved = ", ".join(f"{p} {plain(best.baseline_settings.get(p))} -> {plain(v)}"
                          for p, v in best.changes.items()) or "the scenario as it is"
        kpi = best.objective.kpi
        row = best.table([kpi]).iloc[0]
        currency = self.scenario.money.currency
        out += [f"Recommended: {moved}.",
                f"{kpi_words(kpi)}: {fmt_value(kpi, row['mean'], currency)}, "
                f"{_difference(kpi, row, currency)} against the baseline (paired "
                f"{best.comparison.confidence:.0%} interval); plan.best for every KPI and how "
                "it was selected."]
        return "\n".join(out)

    def _repr_html_(self) -> str:
        return "<pre>" + html.escape(repr(self)) + "</pre>"
