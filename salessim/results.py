"""Results of a run: tidy tables of KPIs, stages, reps and the event log.

``Results`` is data and its tables. Analysis builds on it in its own modules
(``salessim.bottlenecks``, ``salessim.timeseries``), and so do the exports
(``salessim.eventlog``) and the plots: none of them is imported here.

Cohort accounting: the leads that arrive in [warm-up, horizon) are counted. Each ends
won, lost (at a stage, declined or gone cold) or open (still in progress when the
drain limit stopped the run); ``leads == won + lost + open`` in every replication.

Money is in the scenario's currency; times are days; efforts are hours. Costs and
utilisation are measured over the window [warm-up, horizon): salaries of every rep for
the window's days, plus channel cost per counted lead and travel cost of their visits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from salessim.kpis import check_kpi
from salessim.model.leads import LOST, LOST_REASONS, OPEN, WON
from salessim.model.records import OUTCOMES, RawReplication
from salessim.scenario.schema import Scenario
from salessim.stats import DEFAULT_CONFIDENCE, mean_ci, replications_for

EVENT_LOG_COLUMNS: tuple[str, ...] = (
    "case_id", "activity", "role", "resource", "enable_time", "start_time", "end_time",
    "outcome", "replication", "attempt", "team", "decision_time", "handoff_days",
    "info_lost", "travel_cost", "part", "channel", "grade", "region", "product", "segment",
    "deal_value",
)
"""Event-log columns: one row per activity instance (a lead's attempt at a stage).

``enable_time``: the lead became ready for a rep; ``start_time``/``end_time``: the rep
worked (including travel); ``decision_time``: the customer answered and the outcome
(``advanced``, ``lost``, ``rework``, ``nurture``, or ``cold`` for a lead lost while
waiting, which has no rep and no start) was known. Times are days from the start.
When several reps work an attempt together (joint work), each has its row: ``part`` 0
is the lead's own rep of the stage's role, 1, 2... the others, with their ``role``; the
outcome and decision are the attempt's.
"""

STATUS = {OPEN: "open", WON: "won", LOST: "lost"}

_STAGE_MEANS = ("wait_mean_days", "wait_p90_days", "effort_mean_hours",
                "customer_delay_mean_days", "handoff_mean_days", "sla_miss_rate")
"""Per-attempt averages in ``Results.stages()``: defined only where a stage had attempts."""


def kpi_names(sc: Scenario) -> list[str]:
    """KPI columns for a scenario, in table order."""
    return [
        "leads", "won", "lost", "open", "conversion_rate", "cycle_time_mean_days",
        "cycle_time_p50_days", "cycle_time_p90_days", "response_time_mean_days", "revenue",
        "collected", "collection_rate", "cost", "cost_per_won", "profit",
        *(f"utilisation_{r.name}" for r in sc.roles),
    ]


def _window(sc: Scenario, raw: RawReplication) -> tuple[float, float]:
    """The measurement window [warm-up, horizon), cut short for a run still under way."""
    return sc.calendar.warmup_days, max(sc.calendar.warmup_days,
                                        min(sc.calendar.horizon_days, raw.end_day))


def _employed_days(raw: RawReplication, start: float, stop: float) -> np.ndarray:
    """Days each rep was employed inside [start, stop)."""
    lo = np.maximum(raw.rep_hired, start)
    hi = np.minimum(raw.rep_left, stop)
    employed: np.ndarray = np.clip(hi - lo, 0.0, None)
    return employed


def _busy_days(raw: RawReplication, start: float, stop: float) -> np.ndarray:
    """Busy time of each rep inside [start, stop) (days)."""
    ev = raw.events
    worked = ev["resource"] >= 0
    lo = np.clip(ev["start_time"][worked], start, stop)
    hi = np.clip(ev["end_time"][worked], start, stop)
    return np.bincount(ev["resource"][worked], weights=hi - lo, minlength=len(raw.rep_team))


def kpi_row(sc: Scenario, raw: RawReplication) -> dict[str, float]:
    """The KPIs of one replication."""
    L = raw.leads
    cohort = L["cohort"]
    status = L["status"][cohort]
    won_mask = status == WON
    n, won = int(cohort.sum()), int(won_mask.sum())
    arrival = L["arrival_time"][cohort]
    cycle = (L["close_time"][cohort] - arrival)[won_mask]
    value = L["deal_value"][cohort]
    revenue = float(value[won_mask].sum())
    paid_in = L["payment_days"][cohort] <= sc.payment.window_days
    collected = float(value[won_mask & paid_in].sum())
    response = L["first_start_time"][cohort] - arrival

    start, stop = _window(sc, raw)
    employed = _employed_days(raw, start, stop)
    salary = np.array([sc.role(r).salary_per_day for r in raw.rep_role])
    salaries = float(salary @ employed) if len(salary) else 0.0
    channel_cost = np.array([c.cost_per_lead for c in sc.channels])
    ev = raw.events
    in_cohort = cohort[ev["case"]]
    cost = (salaries + float(channel_cost[L["channel"][cohort]].sum())
            + float(ev["travel_cost"][in_cohort].sum()))
    busy = _busy_days(raw, start, stop)
    roles = np.array(raw.rep_role, dtype=object)

    def pct(q: float) -> float:
        return float(np.percentile(cycle, q)) if won else np.nan

    row: dict[str, float] = {
        "leads": n,
        "won": won,
        "lost": int((status == LOST).sum()),
        "open": int((status == OPEN).sum()),
        "conversion_rate": won / n if n else np.nan,
        "cycle_time_mean_days": float(cycle.mean()) if won else np.nan,
        "cycle_time_p50_days": pct(50),
        "cycle_time_p90_days": pct(90),
        "response_time_mean_days": float(np.nanmean(response)) if np.isfinite(response).any()
        else np.nan,
        "revenue": revenue,
        "collected": collected,
        "collection_rate": collected / revenue if revenue else np.nan,
        "cost": cost,
        "cost_per_won": cost / won if won else np.nan,
        "profit": sc.money.gross_margin * revenue - cost,
    }
    for r in sc.roles:
        available = float(employed[roles == r.name].sum())
        row[f"utilisation_{r.name}"] = (
            float(busy[roles == r.name].sum()) / available if available > 0 else np.nan
        )
    return row


def _rep_labels(raw: RawReplication) -> list[str]:
    counts: dict[tuple[str, str], int] = {}
    labels = []
    for team, role in zip(raw.rep_team, raw.rep_role, strict=True):
        k = counts.get((team, role), 0) + 1
        counts[team, role] = k
        labels.append(f"{team}.{role}.{k}")
    return labels


@dataclass(frozen=True)
class Results:
    """Replicated results of one scenario.

    Attributes:
        scenario: The scenario that was run.
        seed: Root seed; ``run(scenario, replications, seed)`` reproduces these results.
        raw: Raw output of each replication, in replication order.
        confidence: Confidence level of the intervals in ``summary()``.
    """

    scenario: Scenario
    seed: int
    raw: Sequence[RawReplication]
    confidence: float = DEFAULT_CONFIDENCE

    @property
    def replications(self) -> int:
        """Number of replications."""
        return len(self.raw)

    @cached_property
    def kpis(self) -> pd.DataFrame:
        """One row per replication, one column per KPI (see module docs for units)."""
        rows = [kpi_row(self.scenario, r) for r in self.raw]
        df = pd.DataFrame(rows, columns=kpi_names(self.scenario))
        df.index = pd.Index([r.replication for r in self.raw], name="replication")
        return df

    def summary(self) -> pd.DataFrame:
        """KPI x (mean, std, ci_low, ci_high, n): t intervals across replications."""
        rows = {}
        for name in self.kpis.columns:
            ci = mean_ci(self.kpis[name].to_numpy(dtype=float), self.confidence)
            rows[name] = {"mean": ci.mean, "std": ci.std, "ci_low": ci.low,
                          "ci_high": ci.high, "n": ci.n}
        out = pd.DataFrame.from_dict(rows, orient="index")
        out.index.name = "kpi"
        return out

    def replications_needed(
        self, kpi: str, *, half_width: float | None = None, relative: float | None = None
    ) -> int:
        """How many replications in all would make a KPI's interval as narrow as asked.

        Estimated from the spread of the replications run so far, at ``confidence``.

        Args:
            kpi: A KPI column of ``kpis``.
            half_width: Target half-width, in the KPI's unit.
            relative: Target half-width as a share of the mean (e.g. 0.02 for +-2 %).

        Returns:
            The total number needed; compare with ``replications`` to know how many more.
        """
        check_kpi(kpi, list(self.kpis.columns))
        return replications_for(self.kpis[kpi], half_width=half_width, relative=relative,
                                confidence=self.confidence)

    @cached_property
    def leads(self) -> pd.DataFrame:
        """One row per lead per replication: attributes, status and key times (days)."""
        sc = self.scenario
        frames = []
        for r in self.raw:
            L = r.leads
            frames.append(pd.DataFrame({
                "replication": r.replication,
                "case_id": L["case"],
                "channel": _names([c.name for c in sc.channels], L["channel"]),
                "grade": _names(sc.grades, L["grade"]),
                "region": _names(sc.regions, L["region"]),
                "product": _names(sc.values_of("product"), L["product"]),
                "segment": _names(sc.segments, L["segment"]),
                "deal_value": L["deal_value"],
                "arrival_time": L["arrival_time"],
                "cohort": L["cohort"],
                "status": _names([STATUS[k] for k in sorted(STATUS)], L["status"]),
                "close_time": L["close_time"],
                "lost_stage": _names([s.name for s in sc.stages] + [""], L["lost_stage"]),
                "lost_reason": _names(LOST_REASONS, L["lost_reason"]),
                "first_start_time": L["first_start_time"],
                "payment_days": L["payment_days"],
                "paid_time": L["close_time"] + L["payment_days"],
            }))
        return pd.concat(frames, ignore_index=True)

    @cached_property
    def events(self) -> pd.DataFrame:
        """The event log, one row per activity instance (columns: ``EVENT_LOG_COLUMNS``)."""
        sc = self.scenario
        stages = [s.name for s in sc.stages]
        stage_role = [s.role for s in sc.stages]
        frames = []
        for r in self.raw:
            E, L = r.events, r.leads
            case = E["case"]
            res = E["resource"]
            labels = np.array([*_rep_labels(r), ""], dtype=object)
            teams = np.array([*r.rep_team, ""], dtype=object)
            frames.append(pd.DataFrame({
                "case_id": case,
                "activity": _names(stages, E["stage"]),
                "role": np.where(res >= 0, np.array([*r.rep_role, ""], dtype=object)[res],
                                 _names(stage_role, E["stage"])),
                "resource": labels[res],
                "enable_time": E["enable_time"],
                "start_time": E["start_time"],
                "end_time": E["end_time"],
                "outcome": _names(OUTCOMES, E["outcome"]),
                "replication": r.replication,
                "attempt": E["attempt"],
                "team": teams[res],
                "decision_time": E["decision_time"],
                "handoff_days": E["handoff_days"],
                "info_lost": E["info_lost"],
                "travel_cost": E["travel_cost"],
                "part": E["part"],
                "channel": _names([c.name for c in sc.channels], L["channel"][case]),
                "grade": _names(sc.grades, L["grade"][case]),
                "region": _names(sc.regions, L["region"][case]),
                "product": _names(sc.values_of("product"), L["product"][case]),
                "segment": _names(sc.segments, L["segment"][case]),
                "deal_value": L["deal_value"][case],
                "cohort": L["cohort"][case],
            }))
        df = pd.concat(frames, ignore_index=True)
        return df.sort_values(["replication", "enable_time", "case_id"], kind="stable",
                              ignore_index=True)

    def stages(self) -> pd.DataFrame:
        """Per stage, averaged over replications, counted leads only.

        Columns: ``entered`` (attempts), ``advanced``, ``lost`` (declined or cold),
        ``cold``, ``reworked``, ``nurtured``, ``conversion`` (advanced / entered),
        ``wait_mean_days`` and ``wait_p90_days`` (for the lead's own rep),
        ``effort_mean_hours`` (rep time per attempt incl. travel, summed over every rep
        working it together), ``customer_delay_mean_days`` (from the last rep's work to
        the answer), ``handoff_mean_days`` and ``sla_miss_rate`` (share of attempts
        that waited past the stage's SLA; NaN without an SLA).
        """
        sc = self.scenario
        hpd = sc.calendar.hours_per_day
        ev = self.events[self.events["cohort"]]
        names = [s.name for s in sc.stages]
        per_rep = []
        for (rep, stage), every in ev.groupby(["replication", "activity"], sort=False):
            st = sc.stages[sc.stage_index(str(stage))]
            last_end = every.groupby(["case_id", "attempt"])["end_time"].transform("max")
            main = every["part"] == 0
            g = every[main]
            wait = (g["start_time"] - g["enable_time"]).to_numpy(dtype=float)
            worked = np.isfinite(wait)
            out = g["outcome"]
            per_rep.append({
                "replication": rep, "stage": stage, "role": st.role,
                "entered": len(g),
                "advanced": int((out == "advanced").sum()),
                "lost": int(out.isin(["lost", "cold"]).sum()),
                "cold": int((out == "cold").sum()),
                "reworked": int((out == "rework").sum()),
                "nurtured": int((out == "nurture").sum()),
                "wait_mean_days": float(wait[worked].mean()) if worked.any() else np.nan,
                "wait_p90_days": float(np.percentile(wait[worked], 90)) if worked.any()
                else np.nan,
                "effort_mean_hours": float((every["end_time"] - every["start_time"]).sum()
                                           / worked.sum() * hpd) if worked.any() else np.nan,
                "customer_delay_mean_days": float((g["decision_time"]
                                                   - last_end[main]).mean()),
                "handoff_mean_days": float(g["handoff_days"].mean()),
                "sla_miss_rate": float((wait[worked] > st.sla_days).mean())
                if st.sla_days is not None and worked.any() else np.nan,
            })
        counts = ["entered", "advanced", "lost", "cold", "reworked", "nurtured"]
        df = pd.DataFrame(per_rep, columns=["replication", "stage", "role", *counts,
                                            *_STAGE_MEANS])
        # A stage no counted lead reached in a replication had zero entries there, not a
        # missing value: counts are averaged over every replication, while times and
        # rates are averaged over the replications where they are defined.
        full = pd.MultiIndex.from_product([[r.replication for r in self.raw], names],
                                          names=["replication", "stage"])
        df = df.set_index(["replication", "stage"]).reindex(full)
        df[counts] = df[counts].fillna(0)
        table = df.drop(columns="role").groupby(level="stage", sort=False).mean()
        table.insert(0, "role", [sc.stages[sc.stage_index(n)].role for n in table.index])
        table.insert(7, "conversion", table["advanced"] / table["entered"])
        return table

    def reps(self) -> pd.DataFrame:
        """Per rep, averaged over replications.

        Columns: ``team``, ``role``, ``tasks`` (activities worked), ``busy_days``,
        ``employed_days`` and ``utilisation`` (busy over employed) in the measurement
        window, ``deals_won`` (counted won leads the rep worked on) and ``revenue`` of
        those deals (currency). Reps hired or gone during a run are rows of their own.
        """
        rows = []
        for r in self.raw:
            start, stop = _window(self.scenario, r)
            busy = _busy_days(r, start, stop)
            employed = _employed_days(r, start, stop)
            n = len(r.rep_team)
            tasks = np.bincount(r.events["resource"][r.events["resource"] >= 0], minlength=n)
            _, _, deals, revenue = _touched(r, np.arange(n), n)
            for i, label in enumerate(_rep_labels(r)):
                rows.append({"rep": label, "team": r.rep_team[i], "role": r.rep_role[i],
                             "tasks": tasks[i], "busy_days": busy[i],
                             "employed_days": employed[i],
                             "utilisation": busy[i] / employed[i] if employed[i] else np.nan,
                             "deals_won": deals[i], "revenue": revenue[i]})
        df = pd.DataFrame(rows)
        return df.groupby(["rep", "team", "role"], sort=False).mean().reset_index(["team", "role"])

    def teams(self) -> pd.DataFrame:
        """Per team and role, averaged over replications: the load of each territory.

        Columns: ``headcount`` (reps employed on average over the measurement window),
        ``tasks``, ``utilisation`` (busy over employed time of the team's reps),
        ``wait_mean_days`` (leads' wait for a rep of the team), ``leads`` (distinct
        counted leads the team worked on), ``potential`` (their deal value, won or
        not: what the territory could sell; currency), ``deals_won`` (of those leads,
        the won ones; a lead reworked by two reps of the team counts once),
        ``revenue`` of those deals (currency), ``potential_per_rep`` and
        ``revenue_per_rep`` (currency), and ``load_index`` (utilisation over the mean
        utilisation of the role's teams: above 1 carries more than its share).
        """
        rows = []
        for r in self.raw:
            start, stop = _window(self.scenario, r)
            groups = list(dict.fromkeys(zip(r.rep_team, r.rep_role, strict=True)))
            group_of = np.array([groups.index(g) for g in zip(r.rep_team, r.rep_role,
                                                                strict=True)])
            n = len(groups)
            busy = np.bincount(group_of, weights=_busy_days(r, start, stop), minlength=n)
            E = r.events
            worked = E["resource"] >= 0
            tasks = np.bincount(group_of[E["resource"][worked]], minlength=n)
            counted = worked & r.leads["cohort"][E["case"]]
            waits = np.bincount(group_of[E["resource"][counted]], minlength=n,
                                weights=(E["start_time"] - E["enable_time"])[counted])
            employed = np.bincount(group_of, weights=_employed_days(r, start, stop),
                                   minlength=n)
            leads, potential, deals, revenue = _touched(r, group_of, n)
            for k, (team, role) in enumerate(groups):
                heads = employed[k] / (stop - start) if stop > start else np.nan
                served = np.count_nonzero(group_of[E["resource"][counted]] == k)
                rows.append({"team": team, "role": role, "headcount": heads,
                             "tasks": tasks[k],
                             "utilisation": busy[k] / employed[k] if employed[k] else np.nan,
                             "wait_mean_days": waits[k] / served if served else np.nan,
                             "leads": leads[k], "potential": potential[k],
                             "deals_won": deals[k], "revenue": revenue[k],
                             "potential_per_rep": potential[k] / heads if heads else np.nan,
                             "revenue_per_rep": revenue[k] / heads if heads else np.nan})
        table = pd.DataFrame(rows).groupby(["team", "role"], sort=False).mean()
        role_mean = table.groupby(level="role")["utilisation"].transform("mean")
        table["load_index"] = table["utilisation"] / role_mean
        return table


def _touched(
    raw: RawReplication, group_of: np.ndarray, n_groups: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """What each group of reps worked on: counted leads, their value, wins, revenue.

    Returns distinct counted leads per group and their deal value (currency), then the
    won ones among them and their revenue (currency).

    Args:
        raw: One replication.
        group_of: Group index of each rep.
        n_groups: Number of groups.
    """
    E, L = raw.events, raw.leads
    worked = E["resource"] >= 0
    pairs = np.unique(np.stack([group_of[E["resource"][worked]], E["case"][worked]]), axis=1)
    pairs = pairs[:, L["cohort"][pairs[1]]]
    value = L["deal_value"][pairs[1]]
    won = L["status"][pairs[1]] == WON
    return (np.bincount(pairs[0], minlength=n_groups),
            np.bincount(pairs[0], weights=value, minlength=n_groups),
            np.bincount(pairs[0][won], minlength=n_groups),
            np.bincount(pairs[0][won], weights=value[won], minlength=n_groups))


def _names(names: Sequence[str], codes: np.ndarray) -> np.ndarray:
    """Map integer codes to names (code -1 maps to the last name when one is given)."""
    table: np.ndarray = np.asarray(list(names), dtype=object)
    named: np.ndarray = table[codes]
    return named
