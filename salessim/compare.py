"""Comparing scenarios on common random numbers: paired differences you can trust.

Every scenario runs with the same root seed and replication indices. Replication ``r``
of two scenarios then sees the same leads and, lead by lead, the same random draws
wherever the scenarios agree (see ``salessim.rng``), so the difference of a KPI within
a replication carries little noise. Differences to the baseline are paired t
intervals over replications; with several scenarios against one baseline the p-values
are Holm-adjusted and the intervals are simultaneous (Bonferroni) per KPI.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from salessim.executors import ExecutorSpec
from salessim.formatting import HEADLINE_KPIS, fmt_interval, fmt_number, html_table, kpi_label
from salessim.kpis import Condition, check_kpi, direction_of
from salessim.replications import Replications
from salessim.results import Results
from salessim.runner import (
    DEFAULT_REPLICATIONS,
    Job,
    StoreSpec,
    check_replications,
    check_seed,
    replicate,
)
from salessim.scenario import Scenario, load_scenario
from salessim.scenario.loader import ScenarioSource
from salessim.stats import DEFAULT_CONFIDENCE, holm, mean_ci, paired_difference

TABLE_COLUMNS = ("mean", "ci_low", "ci_high", "diff", "diff_ci_low", "diff_ci_high",
                 "p_value", "p_adjusted", "n")
"""Columns of ``Comparison.table()``."""


def named_scenarios(
    scenarios: Mapping[str, ScenarioSource] | Sequence[ScenarioSource],
) -> dict[str, Scenario]:
    """Scenarios by name, in the given order.

    A mapping keeps its keys as names; a sequence is named by each scenario's own
    ``name`` (with `` (2)``, `` (3)`` added to repeats).

    Raises:
        ScenarioError: For the first scenario that does not load.
        ValueError: If fewer than two scenarios are given.
    """
    if isinstance(scenarios, Mapping):
        named = {str(k): load_scenario(v) for k, v in scenarios.items()}
    else:
        named = {}
        for source in scenarios:
            sc = load_scenario(source)
            name, k = sc.name, 1
            while name in named:
                k += 1
                name = f"{sc.name} ({k})"
            named[name] = sc
    if len(named) < 2:
        raise ValueError(f"a comparison needs at least two scenarios, got {len(named)}")
    return named


def compare(
    scenarios: Mapping[str, ScenarioSource] | Sequence[ScenarioSource],
    *,
    replications: int = DEFAULT_REPLICATIONS,
    seed: int | None = None,
    executor: ExecutorSpec = None,
    workers: int | None = None,
    store: StoreSpec = None,
    progress: bool | None = None,
    baseline: str | None = None,
    confidence: float = DEFAULT_CONFIDENCE,
) -> Comparison:
    """Run several scenarios on common random numbers and compare them to a baseline.

    Args:
        scenarios: Name -> scenario (a Scenario, a file path, YAML text or a document),
            or a list of them named by their ``name``. The first is the baseline
            unless ``baseline`` names another.
        replications: Replications per scenario.
        seed: Root seed shared by all scenarios (None draws one; see ``Comparison.seed``).
        executor: Where replications run (see ``salessim.run``).
        workers: Pool size for ``"processes"``.
        store: Results store: finished replications are kept and reused (see ``run``).
        progress: Progress bar: True, False, or None for automatic.
        baseline: Name of the scenario the others are compared with.
        confidence: Confidence level of the intervals.

    Returns:
        The comparison; ``table()`` has the numbers.

    Raises:
        ScenarioError: If a scenario does not load (before anything runs).
        ValueError: For a bad count, seed, executor or baseline name.
        ReplicationError: If some replications raised an error.
    """
    named = named_scenarios(scenarios)
    base = baseline if baseline is not None else next(iter(named))
    if base not in named:
        raise ValueError(f"baseline {base!r} is not one of the scenarios: {', '.join(named)}")
    check_replications(replications)
    seed = check_seed(seed)
    jobs = [Job(sc, seed, r, name) for name, sc in named.items() for r in range(replications)]
    raws = replicate(jobs, executor=executor, workers=workers, store=store, progress=progress,
                     desc=f"{len(named)} scenarios")
    results = {
        name: Results(scenario=sc, seed=seed, raw=Replications(raws[i * replications:
                                                                 (i + 1) * replications]),
                      confidence=confidence)
        for i, (name, sc) in enumerate(named.items())
    }
    return Comparison(results=results, baseline=base, seed=seed, confidence=confidence)


@dataclass(frozen=True)
class Comparison:
    """Scenarios run on common random numbers, compared with a baseline.

    Attributes:
        results: Results by scenario name, in the order given.
        baseline: Name of the baseline scenario.
        seed: Root seed shared by all scenarios.
        confidence: Confidence level of the intervals.
    """

    results: Mapping[str, Results]
    baseline: str
    seed: int
    confidence: float = DEFAULT_CONFIDENCE

    def __repr__(self) -> str:
        others = [n for n in self.results if n != self.baseline]
        return (f"<Comparison of {len(self.results)} scenarios, seed {self.seed}, "
                f"{self.results[self.baseline].replications} replications: baseline "
                f"{_short(self.baseline)!r} against {_names(others)}>")

    def _repr_html_(self) -> str:
        """The headline KPIs of each scenario, and their differences to the baseline."""
        return comparison_html(self, f"Against {_short(self.baseline)}: "
                                     f"{self.results[self.baseline].replications} "
                                     f"replications, seed {self.seed}")

    @property
    def kpi_names(self) -> list[str]:
        """KPIs of all scenarios, in table order (baseline's first)."""
        names: dict[str, None] = {}
        for res in self.results.values():
            names.update(dict.fromkeys(res.kpis.columns))
        return list(names)

    def table(self, kpis: Sequence[str] | None = None) -> pd.DataFrame:
        """KPI x scenario: mean and CI, difference to the baseline with its paired CI.

        Args:
            kpis: KPIs to include (default: all).

        Returns:
            A DataFrame indexed by (``kpi``, ``scenario``) with columns ``mean``,
            ``ci_low``, ``ci_high`` (t interval of the scenario's mean), ``diff``,
            ``diff_ci_low``, ``diff_ci_high`` (scenario minus baseline, paired over
            replications; simultaneous for all scenarios of a KPI when there are more
            than two), ``p_value`` (paired t test of no difference), ``p_adjusted``
            (Holm, over the scenarios of the KPI) and ``n`` (replications used). The
            baseline's rows have a difference of 0 and no interval or p-value.
        """
        known = self.kpi_names
        chosen = known if kpis is None else list(dict.fromkeys(kpis))
        for kpi in chosen:
            check_kpi(kpi, known)
        others = [n for n in self.results if n != self.baseline]
        # Bonferroni over the scenarios of one KPI: all intervals hold together.
        level = 1 - (1 - self.confidence) / len(others) if len(others) > 1 else self.confidence
        rows: list[dict[str, Any]] = []
        for kpi in chosen:
            base = self._values(self.baseline, kpi)
            diffs = {n: paired_difference(self._values(n, kpi), base, level) for n in others}
            adjusted = dict(zip(others, holm([d.p_value for d in diffs.values()]), strict=True))
            for name in self.results:
                ci = mean_ci(self._values(name, kpi), self.confidence)
                row: dict[str, Any] = {"kpi": kpi, "scenario": name, "mean": ci.mean,
                                       "ci_low": ci.low, "ci_high": ci.high, "n": ci.n}
                if name == self.baseline:
                    row.update(diff=0.0 if ci.n else np.nan, diff_ci_low=np.nan,
                               diff_ci_high=np.nan, p_value=np.nan, p_adjusted=np.nan)
                else:
                    d = diffs[name]
                    row.update(diff=d.mean, diff_ci_low=d.low, diff_ci_high=d.high,
                               p_value=d.p_value, p_adjusted=adjusted[name], n=d.n)
                rows.append(row)
        return pd.DataFrame(rows).set_index(["kpi", "scenario"])[list(TABLE_COLUMNS)]

    def _values(self, name: str, kpi: str) -> pd.Series:
        """A KPI per replication of one scenario (NaN where the scenario lacks it)."""
        kpis = self.results[name].kpis
        if kpi in kpis.columns:
            return kpis[kpi]
        return pd.Series(np.nan, index=kpis.index)

    def best(self, kpi: str, constraint: str | Sequence[str] | None = None) -> str:
        """The scenario with the best mean of a KPI among those meeting the constraints.

        Args:
            kpi: KPI to optimise; "best" is the highest for profit, revenue or
                conversion and the lowest for cost or cycle times.
            constraint: One or several conditions on KPI means, each written
                ``KPI OPERATOR NUMBER``, e.g. ``"cycle_time_p90_days <= 40"`` or
                ``"conversion_rate >= 25%"`` (read as data, never run as code).

        Returns:
            The scenario's name.

        Raises:
            ValueError: For an unknown KPI, a KPI without a better direction (e.g.
                utilisation), a condition that cannot be read, or when no scenario
                meets the constraints (the message says how close each came).
        """
        known = self.kpi_names
        way = direction_of(kpi, known)
        texts = [constraint] if isinstance(constraint, str) else list(constraint or [])
        conditions = [Condition.parse(t, known) for t in texts]
        means = self.table([kpi, *(c.kpi for c in conditions)])["mean"]
        feasible = [n for n in self.results
                    if all(c.holds(float(means[c.kpi, n])) for c in conditions)]
        if not feasible:
            closest = "; ".join(
                f"{c.kpi}: " + ", ".join(f"{n} {float(means[c.kpi, n]):.4g}" for n in self.results)
                for c in conditions)
            raise ValueError(f"no scenario meets {' and '.join(map(str, conditions))} "
                             f"(means: {closest})")
        values = {n: float(means[kpi, n]) for n in feasible}
        ranked = [n for n in feasible if np.isfinite(values[n])]
        if not ranked:
            raise ValueError(f"no scenario meeting the constraints has a value of {kpi}")
        pick = max if way == "higher" else min
        return pick(ranked, key=values.__getitem__)


HTML_COLUMNS = 6
"""Most scenarios a comparison's HTML table shows side by side (the baseline's included)."""


def comparison_html(cmp: Comparison, caption: str) -> str:
    """The headline KPIs of the first scenarios, with differences to the baseline, as HTML.

    A cell reads ``878k, +166k (-530k .. +863k)``: the scenario's mean, then its paired
    difference to the baseline with its interval.

    Args:
        cmp: The comparison.
        caption: A line above the table (the scenarios left out are counted after it).
    """
    names = [cmp.baseline, *(n for n in cmp.results if n != cmp.baseline)]
    shown = names[:HTML_COLUMNS]
    table = cmp.table([k for k in HEADLINE_KPIS if k in cmp.kpi_names])
    currency = cmp.results[cmp.baseline].scenario.money.currency
    rows = []
    for kpi in dict.fromkeys(table.index.get_level_values("kpi")):
        cells = [kpi_label(str(kpi), currency)]
        for name in shown:
            r = table.loc[(kpi, name)]
            mean = fmt_number(str(kpi), float(r["mean"]))
            cells.append(mean if name == cmp.baseline else
                         f"{mean}, {fmt_number(str(kpi), float(r['diff']), sign=True)} "
                         f"({fmt_interval(str(kpi), r['diff_ci_low'], r['diff_ci_high'], True)})")
        rows.append(tuple(cells))
    left = len(names) - len(shown)
    more = f" ({left} more not shown)" if left else ""
    return html_table(("KPI", *(_short(n) for n in shown)), rows, caption + more)


def _short(name: str, most: int = 40) -> str:
    return name if len(name) <= most else name[:most - 3] + "..."


def _names(names: Sequence[str], most: int = 5) -> str:
    """The first few names, and how many more."""
    shown = ", ".join(repr(_short(n)) for n in names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")
