"""After the search: select the recommendation among the leaders, compare it, probe it.

The leading feasible settings (by their search means) are re-run on the same random
numbers and selected by Kim and Nelson's procedure (``salessim.optimise.selection``). If
the one selected misses a constraint on its final replications, it is set aside and the
procedure runs again among the others (the replications already run are reused). The
recommendation then runs beside the baseline for as many replications as it has, and
each lever is moved one step around it for the sensitivity analysis.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from salessim.compare import Comparison
from salessim.optimise.evaluate import Evaluator, means
from salessim.optimise.levers import plain, value_at
from salessim.optimise.result import BASELINE, RECOMMENDED, Recommendation
from salessim.optimise.search import Record, Space
from salessim.optimise.selection import Selection, kn_select
from salessim.optimise.spec import costs, over_budget
from salessim.scenario import ScenarioError
from salessim.scenario.schema import Scenario

if TYPE_CHECKING:
    from salessim.optimise.core import Settings

DEFAULT_INDIFFERENCE = 0.01
"""Indifference zone unless given: this share of the best candidate's mean."""


def leaders(space: Space, records: Sequence[Record], count: int) -> list[Record]:
    """The best ``count`` feasible records with distinct settings, best first."""
    objective = space.objectives[0]
    feasible = [r for r in records if space.feasible(r)]
    ranked = sorted(feasible, key=lambda r: (-objective.score(r.kpis[objective.kpi]),
                                             r.number))
    out: list[Record] = []
    for r in ranked:
        if all(r.params != o.params for o in out):
            out.append(r)
        if len(out) == count:
            break
    return out


def recommend(sc: Scenario, space: Space, settings: Settings, records: Sequence[Record],
              ev: Evaluator) -> Recommendation | None:
    """Select among the leaders and compare the selected setting with the baseline.

    Returns:
        The recommendation, or None (with a warning) if no trial met the constraints.
    """
    top = leaders(space, records, settings.candidates)
    if not top:
        warnings.warn("no trial met the constraints, so there is nothing to recommend; "
                      "loosen the constraints, widen the levers or run more trials",
                      RuntimeWarning, stacklevel=3)
        return None
    chosen = [space.decode(r.params) for r in top]
    scenarios = [sc.with_changes(c, source="<candidate>") for c in chosen]
    selection, meets = _select(space, settings, scenarios, ev)
    best = selection.chosen
    n = selection.replications[best]
    reps = range(n)
    comparison = Comparison(
        results={BASELINE: ev.results(sc, reps, settings.confidence),
                 RECOMMENDED: ev.results(scenarios[best], reps, settings.confidence)},
        baseline=BASELINE, seed=ev.seed, confidence=settings.confidence)
    baseline = {lv.path: value_at(sc, lv.path)[1] for lv in space.levers}
    return Recommendation(settings=chosen[best], baseline_settings=baseline,
                          scenario=scenarios[best], comparison=comparison,
                          objective=space.objectives[0], constraints=space.constraints,
                          meets_constraints=meets, selection=selection,
                          candidates=tuple(chosen))


def _select(space: Space, settings: Settings, scenarios: Sequence[Scenario],
            ev: Evaluator) -> tuple[Selection, bool]:
    """KN among the candidates, and whether the one selected meets the constraints.

    While the selected one misses a constraint on its final replications, KN runs again
    among the others.
    """
    objective = space.objectives[0]
    n0 = settings.first_stage

    def scores(positions: Sequence[int], reps: Sequence[int]) -> np.ndarray:
        rows = ev.rows([scenarios[p] for p in positions], [reps] * len(positions),
                       label="candidate")
        return np.array([[objective.score(row[objective.kpi]) for row in rs] for rs in rows])

    first = scores(range(len(scenarios)), range(n0))
    delta = settings.indifference or _default_indifference(first)
    remaining = [p for p in range(len(scenarios)) if np.isfinite(first[p]).all()] or [0]
    counts = [n0] * len(scenarios)
    while True:
        def more(alive: Sequence[int], r: int) -> Sequence[float]:
            return list(scores([remaining[a] for a in alive], [r])[:, 0])

        found = kn_select(first[remaining], more, indifference=delta,
                          confidence=settings.confidence,
                          max_replications=settings.max_replications)
        for a, n in enumerate(found.replications):
            counts[remaining[a]] = max(counts[remaining[a]], n)
        winner = remaining[found.chosen]
        rows = ev.rows([scenarios[winner]], [range(counts[winner])], label="candidate")[0]
        kpis = means(rows)
        meets = all(c.holds(kpis.get(c.kpi, math.nan)) for c in space.constraints)
        if meets or len(remaining) == 1:
            survivors = tuple(remaining[s] for s in found.survivors)
            return Selection(winner, survivors, tuple(counts), found.finished,
                             found.indifference, found.confidence), meets
        remaining.remove(winner)


def _default_indifference(first: np.ndarray) -> float:
    """A share of the best candidate's mean score (1 if that mean is 0)."""
    best = float(np.nanmax(first.mean(axis=1)))
    return DEFAULT_INDIFFERENCE * abs(best) if best else 1.0


def sensitivity(sc: Scenario, space: Space, settings: Settings,
                best: Recommendation | None, ev: Evaluator
                ) -> tuple[pd.DataFrame, Comparison | None]:
    """Each lever moved one step around the recommendation, run on its random numbers.

    Returns:
        The moves (indexed by name: lever, value, within_budget) and the comparison of
        the recommendation (the baseline of it) with every move.
    """
    columns = ["lever", "value", "within_budget"]
    if best is None:
        return pd.DataFrame(columns=columns), None
    moves: dict[str, dict[str, Any]] = {}
    variants: dict[str, Scenario] = {}
    for lv in space.levers:
        for value in lv.neighbours(best.settings[lv.path]):
            try:
                variant = best.scenario.with_changes({lv.path: value}, source="<sensitivity>")
            except ScenarioError:
                continue  # a move the scenario does not allow with the other values
            name = f"{lv.path} = {plain(value)}"
            variants[name] = variant
            moves[name] = {"lever": lv.path, "value": value,
                           "within_budget": not over_budget(costs(variant), space.budget)}
    reps = range(settings.first_stage)
    results = {RECOMMENDED: ev.results(best.scenario, reps, settings.confidence)}
    if variants:
        ev.rows(list(variants.values()), [reps] * len(variants), label="move")
    results.update({name: ev.results(v, reps, settings.confidence)
                    for name, v in variants.items()})
    table = pd.DataFrame.from_dict(moves, orient="index", columns=columns)
    if len(results) < 2:
        return table, None
    return table, Comparison(results=results, baseline=RECOMMENDED, seed=ev.seed,
                             confidence=settings.confidence)
