"""The back-test: simulate the calibrated company over the data's own period and compare.

The calibrated scenario is run over the working days the data cover, starting empty on
day 0 like the export (which holds only deals created from then on), with each team's
headcount following the months of the data. Each replication becomes an opportunity
table exactly like the export: a deal created by the export day, won or lost if it
closed by then, otherwise open. The same statistics are then computed for the history
and for every replication, and the history is set beside the simulated range (2.5th to
97.5th percentile of the replications): arrivals and wins per month, deals open at each
month's end, the win rate overall and per product, segment and team, the time to close
of deals closed by the export, and deals per owner.

Each distance (Wasserstein, ``scipy.stats.wasserstein_distance``) between the history
and the simulation is shown beside the same distance between two replications, so that
what chance alone gives is the yardstick.

The **hold-out** calibrates on the export as it was some months earlier
(``calibrate.cut``), simulates the whole period, and scores the months it did not see.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from salessim.calibration.calibrate import Calibration, calibrate_data, cut
from salessim.calibration.reps import team_of
from salessim.calibration.tables import CANONICAL_COLUMNS, WorkingCalendar
from salessim.executors import ExecutorSpec
from salessim.results import Results
from salessim.runner import run
from salessim.scenario.schema import Scenario

DEFAULT_BACKTEST_REPLICATIONS = 20
BY: tuple[str, ...] = ("product", "segment", "team")
"""What the win rates are also compared by."""


def backtest_scenario(cal: Calibration, export_day: float | None = None) -> Scenario:
    """The calibrated scenario over the data's period: no warm-up, no drain, real headcounts.

    Args:
        cal: The calibration.
        export_day: The last day simulated (working days); the data's export by default.
    """
    last = cal.data.export_day if export_day is None else export_day
    changes: dict[str, Any] = {"calendar.horizon_days": last + 1, "calendar.warmup_days": 0.0,
                               "calendar.drain_limit_days": 0.0}
    owner = cal.mapping.owner_role.name
    for team, group in cal.pieces.teams.monthly.groupby("team"):
        counts = group.sort_values("day")
        start = max(1, int(counts["owners"].iloc[0]))
        plan, current = [], start
        for day, n in zip(counts["day"], counts["owners"], strict=True):
            n = max(1, int(n))
            if n != current and 0 < day <= last:
                plan.append({"day": float(day), "headcount": n})
                current = n
        changes[f"teams.{team}.{owner}.headcount"] = start
        changes[f"teams.{team}.{owner}.plan"] = plan
    return cal.scenario.with_changes(changes, source="<back-test>")


def simulated_export(res: Results, export_day: float, owner_role: str
                     ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each replication as the CRM would have shown it on the export day.

    Returns:
        The opportunity table (``CANONICAL_COLUMNS`` plus ``replication``) and the stage
        history (``replication``, ``id``, ``stage``, ``entered``).
    """
    leads = res.leads
    leads = leads[leads["arrival_time"] < export_day + 1]
    ev = res.events
    owned = ev[(ev["role"] == owner_role) & (ev["part"] == 0) & (ev["resource"] != "")]
    first = (owned.sort_values("start_time", kind="stable")
             .drop_duplicates(["replication", "case_id"])
             .set_index(["replication", "case_id"])[["resource", "team"]])
    key = pd.MultiIndex.from_arrays([leads["replication"], leads["case_id"]])
    closed = leads["status"].isin(["won", "lost"]) & (leads["close_time"] < export_day + 1)
    table = pd.DataFrame({
        "replication": leads["replication"].to_numpy(),
        "id": [f"{r}-{c}" for r, c in zip(leads["replication"], leads["case_id"], strict=True)],
        "owner": first["resource"].reindex(key).to_numpy(),
        "created": leads["arrival_time"].to_numpy(),
        "closed": np.where(closed, leads["close_time"], np.nan),
        "outcome": np.where(closed, leads["status"], "open"),
        "amount": leads["deal_value"].to_numpy(),
        "team": first["team"].reindex(key).to_numpy(),
        **{a: leads[a].to_numpy() for a in ("channel", "grade", "region", "product",
                                            "segment")},
    })
    return table[["replication", *CANONICAL_COLUMNS]], _history(res, export_day)


def _history(res: Results, export_day: float) -> pd.DataFrame:
    """Stage entries as a CRM records them: the first stage on arrival, the next on a pass."""
    sc = res.scenario
    names = [s.name for s in sc.stages]
    leads = res.leads
    first = pd.DataFrame({"replication": leads["replication"], "case_id": leads["case_id"],
                          "stage": names[0], "entered": leads["arrival_time"]})
    ev = res.events
    passed = ev[(ev["outcome"] == "advanced") & (ev["part"] == 0)]
    nxt = passed["activity"].map({n: names[i + 1] for i, n in enumerate(names[:-1])})
    later = pd.DataFrame({"replication": passed["replication"], "case_id": passed["case_id"],
                          "stage": nxt, "entered": passed["decision_time"]}).dropna()
    out = pd.concat([first, later], ignore_index=True)
    out = out[out["entered"] < export_day + 1]
    out["id"] = [f"{r}-{c}" for r, c in zip(out["replication"], out["case_id"], strict=True)]
    return out[["replication", "id", "stage", "entered"]].sort_values(
        ["replication", "id", "entered"], kind="stable", ignore_index=True)


@dataclass(frozen=True)
class Backtest:
    """The history beside its simulation.

    Attributes:
        history: The export's opportunity table (``CANONICAL_COLUMNS``).
        simulated: The replications' tables, with a ``replication`` column.
        calendar: Working days to dates.
        export_day: The last day compared.
        from_day: The first day scored (0, or the start of the hold-out).
        label: ``back-test`` or ``hold-out``.
    """

    history: pd.DataFrame
    simulated: pd.DataFrame
    calendar: WorkingCalendar
    export_day: float
    from_day: float
    label: str

    @property
    def replications(self) -> int:
        """Simulated replications."""
        return int(self.simulated["replication"].nunique())

    def _per_replication(self, f: Any) -> list[Any]:
        return [f(group) for _, group in self.simulated.groupby("replication", sort=True)]

    @property
    def scored_months(self) -> list[dt.date]:
        """First days of the months scored: all of them, or the hold-out's."""
        return [first for first, _, _ in self._months()]

    def monthly(self) -> pd.DataFrame:
        """Per month of the whole period: deals created, won and open at the month's end.

        A hold-out's table covers the months the calibration saw too, for context; its
        scored months are those from ``from_day`` on.

        Returns:
            Index ``month`` (first day); for each of ``created``, ``won``, ``open_at_end``
            the history and the simulation's ``_mean``, ``_low`` and ``_high`` (2.5th and
            97.5th percentiles).
        """
        bounds = self._months(0.0)
        data = _monthly_counts(self.history, bounds)
        sims = self._per_replication(lambda g: _monthly_counts(g, bounds))
        out = pd.DataFrame(index=pd.Index([b[0] for b in bounds], name="month"))
        for col in ("created", "won", "open_at_end"):
            sim = np.array([s[col].to_numpy() for s in sims])
            out[col] = data[col].to_numpy()
            out[f"{col}_mean"] = sim.mean(axis=0)
            out[f"{col}_low"] = np.percentile(sim, 2.5, axis=0)
            out[f"{col}_high"] = np.percentile(sim, 97.5, axis=0)
        return out

    def _months(self, from_day: float | None = None) -> list[tuple[dt.date, float, float]]:
        """Each month to the export: its first date, first day and end day.

        Months start at ``from_day`` (the scored period's start by default).
        """
        start = self.from_day if from_day is None else from_day
        days = np.arange(int(start), int(self.export_day) + 1, dtype=float)
        months = np.unique(self.calendar.date(days).astype("datetime64[M]"))
        out = []
        for m in months:
            first = m.astype("datetime64[D]").item()
            nxt = (m + 1).astype("datetime64[D]").item()
            out.append((first, max(self.calendar.day_of(first), start),
                        min(self.calendar.day_of(nxt), self.export_day + 1)))
        return out

    def win_rates(self) -> pd.DataFrame:
        """Win rate of the deals closed in the scored period, overall and by value.

        Returns:
            Index (``by``, ``value``) with ``by`` one of ``all``, ``product``,
            ``segment``, ``team``; columns ``history``, ``closed`` (deals in the
            history), ``simulated`` (mean), ``low``, ``high`` (2.5th and 97.5th
            percentiles) and ``inside`` (whether the history is in the range).
        """
        rows = []
        for by in ("all", *BY):
            data = _win_rates(self._scored(self.history), by)
            sims = self._per_replication(lambda g, by=by: _win_rates(self._scored(g), by))
            for value, (rate, n) in data.items():
                sim = np.array([s.get(value, (math.nan, 0))[0] for s in sims], dtype=float)
                sim = sim[~np.isnan(sim)]
                low, high = (np.percentile(sim, [2.5, 97.5]) if len(sim) else (math.nan,) * 2)
                rows.append({"by": by, "value": value, "history": rate, "closed": n,
                             "simulated": float(np.mean(sim)) if len(sim) else math.nan,
                             "low": float(low), "high": float(high),
                             "inside": bool(low <= rate <= high)})
        return pd.DataFrame(rows).set_index(["by", "value"])

    def _scored(self, t: pd.DataFrame) -> pd.DataFrame:
        closed = t["outcome"] != "open"
        return t[closed & (t["closed"] >= self.from_day) & (t["closed"] < self.export_day + 1)]

    def time_to_close(self, outcome: str | None = None) -> tuple[np.ndarray, list[np.ndarray]]:
        """Days from created to closed of the deals closed in the scored period.

        Args:
            outcome: ``won`` or ``lost`` for those deals only; None for all closed deals.

        Returns:
            The history's and each replication's (the export cuts both the same way).
        """
        def days(t: pd.DataFrame) -> np.ndarray:
            # Whole days on both sides: a CRM records dates, so the history's durations
            # are whole days, and the simulation's are read the same way.
            s = self._scored(t)
            if outcome is not None:
                s = s[s["outcome"] == outcome]
            return np.asarray(np.floor(s["closed"]) - np.floor(s["created"]), dtype=float)
        return days(self.history), self._per_replication(days)

    def deals_per_owner(self) -> tuple[np.ndarray, list[np.ndarray]]:
        """Deals created in the scored period per owner: the history's and each replication's."""
        def counts(t: pd.DataFrame) -> np.ndarray:
            s = t[(t["created"] >= self.from_day) & t["owner"].notna()]
            return np.sort(s.groupby("owner").size().to_numpy(float))
        return counts(self.history), self._per_replication(counts)

    def distances(self) -> pd.DataFrame:
        """How far the history is from the simulation, against how far two runs are.

        Returns:
            One row per measure: ``history`` and ``simulated`` (its mean) values,
            ``low``/``high`` (the simulated 2.5-97.5 % range), ``inside``, and for the
            distributions the Wasserstein ``distance`` (history to the pooled simulation)
            and ``chance`` (the median distance of one replication to the others) in the
            measure's unit.
        """
        rows = [self._distribution_row("time to close (days)", self.time_to_close()),
                self._distribution_row("time to close, won deals (days)",
                                       self.time_to_close("won")),
                self._distribution_row("time to close, lost deals (days)",
                                       self.time_to_close("lost")),
                self._distribution_row("deals per owner", self.deals_per_owner())]
        month = _monthly_counts(self.history, self._months())
        for col, what in (("created", "deals created"), ("won", "deals won"),
                          ("open_at_end", "deals open at the end")):
            if col == "open_at_end":
                data, sims = float(month[col].iloc[-1]), self._last_open()
            else:
                data, sims = float(month[col].sum()), self._totals(col)
            low, high = np.percentile(sims, [2.5, 97.5])
            rows.append({"measure": what, "history": data, "simulated": float(np.mean(sims)),
                         "low": float(low), "high": float(high),
                         "inside": bool(low <= data <= high), "distance": math.nan,
                         "chance": math.nan})
        return pd.DataFrame(rows).set_index("measure")

    def _totals(self, col: str) -> np.ndarray:
        bounds = self._months()
        return np.array(self._per_replication(
            lambda g: float(_monthly_counts(g, bounds)[col].sum())))

    def _last_open(self) -> np.ndarray:
        bounds = self._months()
        return np.array(self._per_replication(
            lambda g: float(_monthly_counts(g, bounds)["open_at_end"].iloc[-1])))

    def _distribution_row(self, what: str, pair: tuple[np.ndarray, list[np.ndarray]]
                          ) -> dict[str, Any]:
        data, sims = pair
        pooled = np.concatenate(sims) if sims else np.array([])
        means = np.array([s.mean() if len(s) else math.nan for s in sims])
        low, high = np.nanpercentile(means, [2.5, 97.5])
        distance = _wasserstein(data, pooled)
        chance = float(np.median([_wasserstein(s, np.concatenate(sims[:i] + sims[i + 1:]))
                                  for i, s in enumerate(sims)])) if len(sims) > 1 else math.nan
        mean = float(data.mean()) if len(data) else math.nan
        return {"measure": what, "history": mean, "simulated": float(np.nanmean(means)),
                "low": float(low), "high": float(high), "inside": bool(low <= mean <= high),
                "distance": distance, "chance": chance}


def _wasserstein(a: np.ndarray, b: np.ndarray) -> float:
    return float(stats.wasserstein_distance(a, b)) if len(a) and len(b) else math.nan


def _monthly_counts(t: pd.DataFrame, bounds: list[tuple[dt.date, float, float]]
                    ) -> pd.DataFrame:
    created, closed = t["created"].to_numpy(float), t["closed"].to_numpy(float)
    won = (t["outcome"] == "won").to_numpy()
    rows = []
    for _, lo, hi in bounds:
        still_open = (created < hi) & ~(closed < hi)
        rows.append({"created": int(((created >= lo) & (created < hi)).sum()),
                     "won": int((won & (closed >= lo) & (closed < hi)).sum()),
                     "open_at_end": int(still_open.sum())})
    return pd.DataFrame(rows)


def _win_rates(t: pd.DataFrame, by: str) -> dict[str, tuple[float, int]]:
    groups = {"all": t} if by == "all" else {str(k): g for k, g in t.groupby(by)}
    return {k: (float((g["outcome"] == "won").mean()), len(g))
            for k, g in groups.items() if len(g)}


def backtest(cal: Calibration, *, replications: int = DEFAULT_BACKTEST_REPLICATIONS,
             seed: int = 1, executor: ExecutorSpec = None, progress: bool | None = None
             ) -> Backtest:
    """Simulate the calibrated company over the data's period and set it beside the data.

    Args:
        cal: The calibration.
        replications: Simulated histories.
        seed: Root seed.
        executor: Where replications run, as for ``salessim.run``.
        progress: Show a progress bar.
    """
    sc = backtest_scenario(cal)
    res = run(sc, replications=replications, seed=seed, executor=executor, progress=progress)
    sim, _ = simulated_export(res, cal.data.export_day, cal.mapping.owner_role.name)
    history = cal.data.opportunities.assign(team=team_of(cal.data))
    return Backtest(history, sim, cal.data.calendar, cal.data.export_day, 0.0, "back-test")


def holdout(cal: Calibration, *, months: int | None = None,
            replications: int = DEFAULT_BACKTEST_REPLICATIONS, seed: int = 1,
            executor: ExecutorSpec = None, progress: bool | None = None) -> Backtest:
    """Calibrate without the last months, simulate the whole period, score those months.

    Args:
        cal: The calibration on all the data.
        months: Months held out; the mapping's ``holdout_months`` by default.
        replications: Simulated histories.
        seed: Root seed.
        executor: Where replications run, as for ``salessim.run``.
        progress: Show a progress bar.
    """
    n = cal.mapping.holdout_months if months is None else months
    export = cal.mapping.export_date
    first = _months_back(export, n)
    earlier = calibrate_data(cut(cal.data, first - dt.timedelta(days=1)), cal.mapping,
                             cal.source)
    # The earlier calibration keeps the full period's headcounts: staffing is known.
    earlier = _with_team_history(earlier, cal)
    sc = backtest_scenario(earlier, cal.data.export_day)
    res = run(sc, replications=replications, seed=seed, executor=executor, progress=progress)
    sim, _ = simulated_export(res, cal.data.export_day, cal.mapping.owner_role.name)
    history = cal.data.opportunities.assign(team=team_of(cal.data))
    return Backtest(history, sim, cal.data.calendar, cal.data.export_day,
                    cal.data.calendar.day_of(first), "hold-out")


def _months_back(date: dt.date, months: int) -> dt.date:
    y, m = divmod(date.year * 12 + date.month - 1 - months + 1, 12)
    return dt.date(y, m + 1, 1)


def _with_team_history(earlier: Calibration, full: Calibration) -> Calibration:
    teams = replace(earlier.pieces.teams, monthly=full.pieces.teams.monthly)
    return replace(earlier, pieces=replace(earlier.pieces, teams=teams))
