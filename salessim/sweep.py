"""Sweeps: many variants of one scenario, each compared with it on common random numbers.

A sweep is a grid (every combination of values at some key paths) or a list of change
sets, applied to a base scenario with ``Scenario.with_changes``. Every point is
validated before anything runs; then all points and the unchanged base run together
(one progress bar, one executor, one store), and each point is compared with the base
as in ``salessim.compare``.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from salessim.compare import Comparison, ScenarioSource, as_scenario, compare
from salessim.executors import ExecutorSpec
from salessim.kpis import direction_of
from salessim.runner import StoreSpec
from salessim.scenario import Scenario
from salessim.stats import DEFAULT_CONFIDENCE

BASELINE = "baseline"
"""Name of the unchanged base scenario in a sweep's tables."""

Changes = Mapping[str, Any]


def sweep(
    base: ScenarioSource,
    grid: Mapping[str, Sequence[Any]] | None = None,
    *,
    changes: Mapping[str, Changes] | Sequence[Changes] | None = None,
    replications: int = 30,
    seed: int | None = None,
    executor: ExecutorSpec = None,
    workers: int | None = None,
    store: StoreSpec = None,
    progress: bool | None = None,
    confidence: float = DEFAULT_CONFIDENCE,
) -> Sweep:
    """Run variants of a scenario and compare each with it.

    Args:
        base: The scenario varied (a Scenario, file path, YAML text or document).
        grid: Key path -> values; every combination is a point, e.g.
            ``{"teams.north.ae.headcount": [3, 4, 5], "stages.contract.effort_hours.value":
            [2, 8]}`` gives six points.
        changes: Instead of a grid, change sets: a mapping of name -> changes, or a list
            of changes (named by their values).
        replications: Replications per point.
        seed: Root seed shared by all points (None draws one).
        executor: Where replications run (see ``salessim.run``).
        workers: Pool size for ``"processes"``.
        store: Results store: each finished replication is kept, and an interrupted
            sweep run again skips what is done.
        progress: Progress bar: True, False, or None for automatic.
        confidence: Confidence level of the intervals.

    Raises:
        ScenarioError: If a key path names no scenario value or a value is not valid
            (naming the point), before anything runs.
        ValueError: Unless exactly one of ``grid`` and ``changes`` is given, non-empty.
    """
    scenario = as_scenario(base)
    points = _points(grid, changes)
    variants: dict[str, Scenario] = {BASELINE: scenario}
    for name, point in points.items():
        variants[name] = scenario.with_changes(point, source=f"sweep point {name!r}")
    comparison = compare(variants, replications, seed, executor, baseline=BASELINE,
                         workers=workers, store=store, progress=progress,
                         confidence=confidence)
    keys = list(dict.fromkeys(k for point in points.values() for k in point))
    table = pd.DataFrame([{k: point.get(k) for k in keys} for point in points.values()],
                         index=pd.Index(list(points), name="point"), columns=keys)
    baseline_row = pd.DataFrame([dict.fromkeys(keys)], index=pd.Index([BASELINE], name="point"),
                                columns=keys)
    return Sweep(comparison=comparison,
                 points=pd.concat([baseline_row, table]) if keys else table)


def _points(
    grid: Mapping[str, Sequence[Any]] | None,
    changes: Mapping[str, Changes] | Sequence[Changes] | None,
) -> dict[str, dict[str, Any]]:
    """The sweep's points by name, each a dict of key path -> value."""
    if (grid is None) == (changes is None):
        raise ValueError("give a grid (key path -> list of values) or changes (a list or "
                         "mapping of change sets), not both and not neither")
    if grid is not None:
        if not grid:
            raise ValueError("the grid is empty; give at least one key path and its values")
        for key, values in grid.items():
            if isinstance(values, str | bytes) or not isinstance(values, Sequence) or not values:
                raise ValueError(f"grid: {key}: give a non-empty list of values, e.g. "
                                 f"[3, 4, 5]; got {values!r}")
        keys = list(grid)
        combos = [dict(zip(keys, values, strict=True))
                  for values in itertools.product(*(grid[k] for k in keys))]
        return _named(combos, keys)
    assert changes is not None
    if isinstance(changes, Mapping):
        named = {str(name): dict(point) for name, point in changes.items()}
    else:
        sets = [dict(point) for point in changes]
        named = _named(sets, list(dict.fromkeys(k for p in sets for k in p)))
    if not named:
        raise ValueError("no change sets given")
    if BASELINE in named:
        raise ValueError(f"{BASELINE!r} names the unchanged base scenario; call the change "
                         "set something else")
    return named


def _named(points: list[dict[str, Any]], keys: list[str]) -> dict[str, dict[str, Any]]:
    """Name points by their values, e.g. ``headcount=4, value=2``.

    Each key is shortened to its shortest trailing part that no other key ends with.
    """
    short = {k: _short_key(k, keys) for k in keys}
    names: dict[str, dict[str, Any]] = {}
    for point in points:
        name = ", ".join(f"{short[k]}={_show(v)}" for k, v in point.items())
        unique, n = name, 1
        while unique in names:
            n += 1
            unique = f"{name} ({n})"
        names[unique] = point
    return names


def _short_key(key: str, keys: list[str]) -> str:
    parts = key.split(".")
    for take in range(1, len(parts) + 1):
        tail = ".".join(parts[-take:])
        if not any(other != key and (other == tail or other.endswith("." + tail))
                   for other in keys):
            return tail
    return key


def _show(value: Any) -> str:
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_show(v)}" for k, v in value.items()) + "}"
    return f"{value:g}" if isinstance(value, float) else str(value)


@dataclass(frozen=True)
class Sweep:
    """The points of a sweep, run and compared with the unchanged base scenario.

    Attributes:
        comparison: The comparison of every point (and the base, named ``baseline``).
        points: One row per point (``baseline`` first), one column per key path varied.
    """

    comparison: Comparison

    points: pd.DataFrame

    def table(self, kpis: Sequence[str] | None = None) -> pd.DataFrame:
        """Every point's KPIs with CIs and paired differences to the base.

        The columns of ``Comparison.table()`` (indexed by ``kpi`` and ``point``), with
        the varied key paths first.
        """
        stats = self.comparison.table(kpis).rename_axis(["kpi", "point"])
        params = self.points.reindex(stats.index.get_level_values("point"))
        params.index = stats.index
        return pd.concat([params, stats], axis=1)

    def means(self, kpis: Sequence[str] | None = None) -> pd.DataFrame:
        """One row per point: the varied values, then the mean of each KPI."""
        stats = self.comparison.table(kpis)
        order = list(dict.fromkeys(stats.index.get_level_values("kpi")))
        means = stats["mean"].unstack("kpi").reindex(index=list(self.points.index),
                                                     columns=order)
        means.index.name = "point"
        return pd.concat([self.points, means], axis=1)

    def frontier(self, x: str, y: str) -> pd.DataFrame:
        """The points no other point beats on both KPIs (means), sorted by ``x``.

        "Beats" follows each KPI's better direction (lower cost, shorter cycle time,
        higher profit...): a point is on the frontier unless another is at least as good
        on both and better on one. This is the trade-off curve to choose from.

        Args:
            x: First KPI, e.g. ``"cost"``.
            y: Second KPI, e.g. ``"cycle_time_p90_days"``.

        Returns:
            The varied values and the two KPI means of the frontier's points.
        """
        if x == y:
            raise ValueError(f"a frontier needs two different KPIs, got {x!r} twice")
        known = self.comparison.kpi_names
        signs = {k: 1.0 if direction_of(k, known) == "lower" else -1.0 for k in (x, y)}
        table = self.means([x, y])
        scores = table[[x, y]].mul([signs[x], signs[y]]).dropna()
        keep = [
            name for name, row in scores.iterrows()
            if not ((scores[x] <= row[x]) & (scores[y] <= row[y])
                    & ((scores[x] < row[x]) | (scores[y] < row[y]))).any()
        ]
        return table.loc[keep, [*self.points.columns, x, y]].sort_values(x, kind="stable")
