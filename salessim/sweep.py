"""Sweeps: many variants of one scenario, each compared with it on common random numbers.

A sweep is a grid (every combination of values at some key paths) or a list of change
sets, applied to a base scenario with ``Scenario.with_changes``. Every point is
validated before anything runs; then all points and the unchanged base run together
(one progress bar, one executor, one store), and each point is compared with the base
as in ``salessim.compare``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from salessim.compare import Comparison, compare, comparison_html
from salessim.executors import ExecutorSpec
from salessim.kpis import direction_of
from salessim.runner import DEFAULT_REPLICATIONS, StoreSpec
from salessim.scenario import Scenario, ScenarioError, load_scenario
from salessim.scenario.document import plain_data
from salessim.scenario.errors import MAX_LISTED_PROBLEMS, Problem, show
from salessim.scenario.loader import ScenarioSource, read_sweep_spec
from salessim.stats import DEFAULT_CONFIDENCE

BASELINE = "baseline"
"""Name of the unchanged base scenario in a sweep's tables."""
MAX_POINTS = 1_000
"""Most points a sweep runs unless told otherwise (``max_points``, ``--max-points``)."""

Changes = Mapping[str, Any]
Grid = Mapping[str, Sequence[Any]]


def sweep(
    base: ScenarioSource,
    grid: Grid | str | Path | None = None,
    *,
    changes: Mapping[str, Changes] | Sequence[Changes] | None = None,
    replications: int = DEFAULT_REPLICATIONS,
    seed: int | None = None,
    executor: ExecutorSpec = None,
    workers: int | None = None,
    store: StoreSpec = None,
    progress: bool | None = None,
    confidence: float = DEFAULT_CONFIDENCE,
    max_points: int = MAX_POINTS,
) -> Sweep:
    """Run variants of a scenario and compare each with it.

    Args:
        base: The scenario varied (a Scenario, file path, YAML text or document).
        grid: Key path -> values; every combination is a point, e.g.
            ``{"teams.north.ae.headcount": [3, 4, 5], "stages.contract.effort_hours.value":
            [2, 8]}`` gives six points. Or the path of a sweep file (``grid:`` or
            ``changes:``), whose name every message about its points then gives.
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
        max_points: Most points allowed; a larger grid is refused before anything is
            built, saying how many points it has.

    Raises:
        ScenarioError: If a key path names no scenario value, a value is not valid or
            the grid has more than ``max_points`` points, before anything runs; each
            problem names the grid (the file, when one is given) and the key path.
        ValueError: Unless exactly one of ``grid`` and ``changes`` is given.
    """
    scenario = load_scenario(base)
    spec = _Spec.of(grid, changes)
    points = spec.points(max_points)
    variants: dict[str, Scenario] = {BASELINE: scenario, **spec.variants(scenario, points)}
    comparison = compare(variants, replications=replications, seed=seed, executor=executor,
                         workers=workers, store=store, progress=progress, baseline=BASELINE,
                         confidence=confidence)
    keys = list(dict.fromkeys(k for point in points.values() for k in point))
    table = pd.DataFrame([{k: point.get(k) for k in keys} for point in points.values()],
                         index=pd.Index(list(points), name="point"), columns=keys)
    baseline_row = pd.DataFrame([dict.fromkeys(keys)], index=pd.Index([BASELINE], name="point"),
                                columns=keys)
    return Sweep(comparison=comparison,
                 points=pd.concat([baseline_row, table]) if keys else table)


def sweep_points(grid: Grid | str | Path | None = None, *,
                 changes: Mapping[str, Changes] | Sequence[Changes] | None = None,
                 max_points: int = MAX_POINTS) -> dict[str, dict[str, Any]]:
    """The points a sweep would run, by name, checked as far as they can be without a base.

    Takes the same ``grid``, ``changes`` and ``max_points`` as ``sweep``; whether each
    point makes a valid scenario is checked against the base when the sweep starts.

    Raises:
        ScenarioError: For a grid or change sets that are not well formed, too many
            points, or a change set named ``baseline``.
    """
    return _Spec.of(grid, changes).points(max_points)


@dataclass(frozen=True)
class _Spec:
    """What a sweep varies, and where it was written (named in every message).

    Attributes:
        grid: Key path -> values, or None.
        changes: Change sets (by name or in a list), or None.
        source: ``<grid>``, ``<changes>`` or the sweep file.
        prefix: Key path of the grid or change sets in ``source`` (``grid.`` in a file).
    """

    grid: Any
    changes: Any
    source: str
    prefix: str

    @classmethod
    def of(cls, grid: Grid | str | Path | None, changes: Any) -> _Spec:
        if (grid is None) == (changes is None):
            raise ValueError("give a grid (key path -> list of values, or a sweep file) or "
                             "changes (a list or mapping of change sets), not both and not "
                             "neither")
        if isinstance(grid, str | Path):
            spec = read_sweep_spec(grid)
            kind = "grid" if spec.grid is not None else "changes"
            return cls(spec.grid, spec.changes, str(grid), f"{kind}.")
        if isinstance(grid, Mapping):  # numpy arrays of values are lists of values
            grid = {k: plain_data(v)[0] for k, v in grid.items()}
        if grid is not None:
            return cls(grid, None, "<grid>", "")
        return cls(None, changes, "<changes>", "")

    def fail(self, problems: list[Problem]) -> ScenarioError:
        return ScenarioError(self.source, problems)

    def points(self, max_points: int) -> dict[str, dict[str, Any]]:
        """The sweep's points by name, each a dict of key path -> value."""
        if self.grid is not None:
            return self._grid_points(max_points)
        return self._change_points(max_points)

    def _change_points(self, max_points: int) -> dict[str, dict[str, Any]]:
        changes = self.changes
        if isinstance(changes, Mapping):
            named = {str(name): dict(point) for name, point in changes.items()}
            bad = [name for name, point in changes.items() if not isinstance(point, Mapping)]
        elif isinstance(changes, Sequence) and not isinstance(changes, str | bytes):
            bad = [f"[{i}]" for i, point in enumerate(changes) if not isinstance(point, Mapping)]
            sets = [dict(point) for point in changes if isinstance(point, Mapping)]
            named = _named(sets, list(dict.fromkeys(k for p in sets for k in p)))
        else:
            raise self.fail([Problem(self.prefix.rstrip("."), (
                "changes must be a mapping of name -> change set, or a list of change sets; "
                f"got {show(changes)}"))])
        if bad:
            raise self.fail([Problem(f"{self.prefix}{b}", "a change set is a mapping of key "
                                                          "path -> value") for b in bad])
        if not named:
            raise self.fail([Problem(self.prefix.rstrip("."), "no change sets given")])
        if BASELINE in named:
            raise self.fail([Problem(f"{self.prefix}{BASELINE}", (
                f"{BASELINE!r} names the unchanged base scenario; call the change set "
                "something else"))])
        if len(named) > max_points:
            raise self.fail([Problem(self.prefix.rstrip("."), _too_many(len(named), max_points,
                                                                        f"{len(named)} sets"))])
        return named

    def _grid_points(self, max_points: int) -> dict[str, dict[str, Any]]:
        grid = self.grid
        where = self.prefix.rstrip(".")
        if not isinstance(grid, Mapping) or not grid:
            raise self.fail([Problem(where, "the grid must map key paths to lists of values, "
                                            "e.g. {teams.north.ae.headcount: [3, 4, 5]}; got "
                                            f"{show(grid)}")])
        problems = [Problem(f"{self.prefix}{show(key)}", "a key path must be text such as "
                                                         "'teams.north.ae.headcount'")
                    for key in grid if not isinstance(key, str) or not key]
        problems += [Problem(f"{self.prefix}{key}", "give a non-empty list of values, e.g. "
                                                    f"[3, 4, 5]; got {show(values)}")
                     for key, values in grid.items() if isinstance(key, str)
                     and (isinstance(values, str | bytes) or not isinstance(values, Sequence)
                          or not values)]
        if problems:
            raise self.fail(problems)
        sizes = [len(values) for values in grid.values()]
        count = math.prod(sizes)
        if count > max_points:
            raise self.fail([Problem(where, _too_many(count, max_points,
                                                      " x ".join(map(str, sizes)) + " values"))])
        keys = list(grid)
        combos = [dict(zip(keys, values, strict=True))
                  for values in itertools.product(*(grid[k] for k in keys))]
        return _named(combos, keys)

    def variants(self, scenario: Scenario, points: Mapping[str, Mapping[str, Any]]
                 ) -> dict[str, Scenario]:
        """Each point's scenario; every problem of every point, at its grid key path."""
        out: dict[str, Scenario] = {}
        problems: dict[tuple[str, str], Problem] = {}
        for name, point in points.items():
            try:
                out[name] = scenario.with_changes(point, source=f"point {name!r}")
            except ScenarioError as err:
                for p in self._blame(scenario, name, point, err):
                    problems.setdefault((p.path, p.message), p)
            if len(problems) > MAX_LISTED_PROBLEMS:
                break
        if problems:
            raise self.fail(list(problems.values()))
        return out

    def _blame(self, scenario: Scenario, name: str, point: Mapping[str, Any],
               err: ScenarioError) -> list[Problem]:
        """Say which key and value of a point made it invalid, where one alone does."""
        if self.grid is None:
            return [Problem(f"{self.prefix}{name}", str(p)) for p in err.problems]
        found = {str(p) for p in err.problems}
        blamed: list[Problem] = []
        for key, value in point.items():
            try:
                scenario.with_changes({key: value}, source="")
            except ScenarioError as alone:  # the value is wrong whatever goes with it
                blamed += [Problem(f"{self.prefix}{key}", f"the value {show(value)}: {p}")
                           for p in alone.problems if str(p) in found]
        if blamed:
            return blamed
        where = self.prefix.rstrip(".")
        return [Problem(where, f"the point {name!r}: {p}") for p in err.problems]


def _too_many(count: int, limit: int, shape: str) -> str:
    return (f"{count:,} points ({shape}); the limit is {limit:,}: give fewer values, or raise "
            "the limit with max_points= (--max-points on the command line)")


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

    def __repr__(self) -> str:
        cmp = self.comparison
        return (f"<Sweep of {len(self.points) - 1} points over "
                f"{', '.join(map(str, self.points.columns)) or 'named changes'}, seed "
                f"{cmp.seed}, {cmp.results[cmp.baseline].replications} replications>")

    def _repr_html_(self) -> str:
        """The headline KPIs of the first points, with differences to the base."""
        cmp = self.comparison
        return comparison_html(cmp, f"Sweep of {len(self.points) - 1} points against the "
                                    f"base: {cmp.results[cmp.baseline].replications} "
                                    f"replications, seed {cmp.seed}")

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
