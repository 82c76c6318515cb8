"""Results of a run: tidy tables of KPIs, stages, reps and the event log.

``Results`` is data and its tables. Analysis builds on it in its own modules
(``salessim.bottlenecks``, ``salessim.timeseries``), and so do the exports
(``salessim.eventlog``) and the plots: none of them is imported here.

Cohort accounting: the leads that arrive in [warm-up, horizon) are counted. Each ends
won, lost (at a stage, declined or gone cold) or open (still in progress when the
drain limit stopped the run); ``leads == won + lost + open`` in every replication.

Money is in the scenario's currency; times are days; efforts are hours. Costs and
utilisation are measured over the window [warm-up, horizon): salaries of every rep for
the window's days, plus channel cost per counted lead, travel cost of their visits and,
with a management plan, the commission earned in the window (``salessim.pay``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from salessim.after_kpis import AFTER_SALE_KPIS, after_sale_busy, after_sale_kpis, collected_by_lead
from salessim.formatting import HEADLINE_KPIS, fmt_interval, fmt_number, html_table, kpi_label
from salessim.kpis import check_kpi
from salessim.model.leads import LOST, LOST_REASONS, MADE_BY, OPEN, WON
from salessim.model.records import AFTER_SALE_TABLES, OUTCOMES, RawReplication
from salessim.pay import (
    APPROVAL_KPIS,
    MANAGEMENT_KPIS,
    approval_wait,
    management_kpis,
    review_busy,
    review_kpi_names,
    review_kpis,
    variable_pay,
)
from salessim.replications import Replications
from salessim.scenario.errors import unknown
from salessim.scenario.schema import Scenario
from salessim.stats import DEFAULT_CONFIDENCE, mean_ci, replications_for

EVENT_LOG_COLUMNS: tuple[str, ...] = (
    "case_id", "activity", "role", "resource", "enable_time", "start_time", "end_time",
    "outcome", "replication", "attempt", "team", "decision_time", "handoff_days",
    "info_lost", "travel_cost", "part", "touch", "channel", "grade", "region", "product",
    "segment", "deal_value",
)
"""Event-log columns: one row per activity instance (a lead's attempt at a stage).

``enable_time``: the lead became ready for a rep; ``start_time``/``end_time``: the rep
worked (including travel); ``decision_time``: the customer answered and the outcome
(``advanced``, ``lost``, ``rework``, ``nurture``, or ``cold`` for a lead lost while
waiting, which has no rep and no start) was known. Times are days from the start.
When several reps work an attempt together (joint work), each has its row: ``part`` 0
is the lead's own rep of the stage's role, 1, 2... the others, with their ``role``; the
outcome and decision are the attempt's. A stage with follow-ups has a row per touch:
``touch`` 0 is the first work, 1, 2... the follow-ups; every touch but the last has the
outcome ``follow-up`` and, as its decision time, the day the next touch fell due.
"""

STATUS = {OPEN: "open", WON: "won", LOST: "lost"}

_STAGE_MEANS = ("wait_mean_days", "wait_p90_days", "effort_mean_hours",
                "customer_delay_mean_days", "handoff_mean_days", "sla_miss_rate")
"""Per-attempt averages in ``Results.stages()``: defined only where a stage had attempts."""


LEAD_KPIS: tuple[str, ...] = (
    "leads", "won", "lost", "open", "conversion_rate", "cycle_time_mean_days",
    "cycle_time_p50_days", "cycle_time_p90_days", "response_time_mean_days", "revenue",
    "collected", "collection_rate",
)
"""The KPIs that depend on the counted leads alone (not on salaries or rep time)."""

BREAKDOWN_BY: tuple[str, ...] = ("segment", "product", "channel", "grade", "region", "team")
"""The lead attributes ``Results.breakdown`` splits the KPIs by."""

BREAKDOWN_KPIS: tuple[str, ...] = (*LEAD_KPIS, "revenue_share")
"""The KPIs of ``Results.breakdown``: ``LEAD_KPIS`` and each value's share of revenue."""

NEVER_WORKED = "(never worked)"
"""The team of a lead no rep worked, in ``Results.breakdown("team")``."""

INTERVAL_COLUMNS: tuple[str, ...] = ("mean", "std", "ci_low", "ci_high", "n")
"""Columns of the tables of means with t intervals (``summary()``, ``breakdown()``)."""


def kpi_names(sc: Scenario) -> list[str]:
    """KPI columns for a scenario, in table order."""
    return [*LEAD_KPIS, "cost", "cost_per_won", "profit",
            *(f"utilisation_{r.name}" for r in sc.roles),
            *(["full_book_share"] if _capped(sc) else []),
            *(AFTER_SALE_KPIS if sc.after_sale is not None else ()),
            *(MANAGEMENT_KPIS if sc.management is not None else ()),
            *(review_kpi_names(sc.management) if sc.management is not None else ()),
            *(APPROVAL_KPIS if any(st.approval is not None for st in sc.stages) else ())]


def _capped(sc: Scenario) -> bool:
    """Whether some role caps its reps' books (``full_book_share`` is then a KPI)."""
    return any(r.max_open_deals is not None for r in sc.roles)


def check_breakdown_by(by: str) -> str:
    """``by`` if KPIs can be broken down by it, else a ValueError listing what can be.

    Raises:
        ValueError: Unless ``by`` is one of ``BREAKDOWN_BY``.
    """
    if by not in BREAKDOWN_BY:
        raise ValueError(unknown("attribute", by, BREAKDOWN_BY, "KPIs break down by"))
    return by


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
    """Busy time of each rep inside [start, stop) (days), after-sale work included."""
    ev = raw.events
    worked = ev["resource"] >= 0
    lo = np.clip(ev["start_time"][worked], start, stop)
    hi = np.clip(ev["end_time"][worked], start, stop)
    busy: np.ndarray = np.bincount(ev["resource"][worked], weights=hi - lo,
                                   minlength=len(raw.rep_team))
    return busy + after_sale_busy(raw, start, stop) + review_busy(raw, start, stop)


def _lead_kpis(sc: Scenario, raw: RawReplication, counted: np.ndarray) -> dict[str, float]:
    """The KPIs of some leads of one replication: those that depend on the leads alone.

    ``LEAD_KPIS``, in that order (counts, shares, days, currency); rates and times
    are NaN where no lead (or no won lead) defines them.

    Args:
        sc: The scenario that was run.
        raw: One replication.
        counted: Which leads to count (a boolean mask over ``raw.leads``).
    """
    L = raw.leads
    status = L["status"][counted]
    won_mask = status == WON
    n, won = int(counted.sum()), int(won_mask.sum())
    arrival = L["arrival_time"][counted]
    cycle = (L["close_time"][counted] - arrival)[won_mask]
    value = L["deal_value"][counted]
    revenue = float(value[won_mask].sum())
    if raw.after_sale is not None:  # milestone invoices, each paid on its own day
        collected = float(collected_by_lead(sc, raw)[counted][won_mask].sum())
    else:
        paid_in = L["payment_days"][counted] <= sc.payment.window_days
        collected = float(value[won_mask & paid_in].sum())
    response = L["first_start_time"][counted] - arrival

    def pct(q: float) -> float:
        return float(np.percentile(cycle, q)) if won else np.nan

    return {
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
    }


def kpi_row(sc: Scenario, raw: RawReplication) -> dict[str, float]:
    """The KPIs of one replication."""
    L = raw.leads
    cohort = L["cohort"]
    row = _lead_kpis(sc, raw, cohort)
    won, revenue = row["won"], row["revenue"]

    start, stop = _window(sc, raw)
    employed = _employed_days(raw, start, stop)
    salary = np.array([sc.role(r).salary_per_day for r in raw.rep_role])
    salaries = float(salary @ employed) if len(salary) else 0.0
    channel_cost = np.array([c.cost_per_lead for c in sc.channels])
    ev = raw.events
    in_cohort = cohort[ev["case"]]
    cost = (salaries + float(channel_cost[L["channel"][cohort]].sum())
            + float(ev["travel_cost"][in_cohort].sum()))
    commission = variable_pay(sc, raw, stop) if sc.management is not None else 0.0
    cost += commission
    busy = _busy_days(raw, start, stop)
    roles = np.array(raw.rep_role, dtype=object)
    row.update({
        "cost": cost,
        "cost_per_won": cost / won if won else np.nan,
        "profit": sc.money.gross_margin * revenue - cost,
    })
    for r in sc.roles:
        available = float(employed[roles == r.name].sum())
        row[f"utilisation_{r.name}"] = (
            float(busy[roles == r.name].sum()) / available if available > 0 else np.nan
        )
    if _capped(sc):
        n = int(cohort.sum())
        row["full_book_share"] = (float(L["waited_for_book"][cohort].sum()) / n if n
                                  else np.nan)
    if raw.after_sale is not None:
        row.update(after_sale_kpis(sc, raw, start, stop))
    if sc.management is not None:
        row.update(management_kpis(sc, raw, start, stop, commission, revenue, cost))
        if sc.management.reviews is not None:
            row.update(review_kpis(sc, raw))
    if any(st.approval is not None for st in sc.stages):
        row["approval_wait_mean_days"] = approval_wait(sc, raw, start, stop)
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
        raws = self.raw if isinstance(self.raw, Replications) else Replications(self.raw)
        # A replication read back from a store brings its KPIs: no simulating it again.
        rows = [raws.stored_kpis(i) or kpi_row(self.scenario, raws[i])
                for i in range(len(raws))]
        df = pd.DataFrame(rows, columns=kpi_names(self.scenario))
        df.index = pd.Index(raws.indices, name="replication")
        return df

    def _repr_html_(self) -> str:
        """The headline KPIs with their intervals, for a notebook."""
        caption = (f"{self.scenario.name}: {self.replications} replications, seed "
                   f"{self.seed}")
        return kpi_html(self.kpis, self.scenario.money.currency, caption, self.confidence)

    def summary(self) -> pd.DataFrame:
        """KPI x (mean, std, ci_low, ci_high, n): t intervals across replications."""
        rows = {name: _interval_row(self.kpis[name], self.confidence)
                for name in self.kpis.columns}
        out = pd.DataFrame.from_dict(rows, orient="index")
        out.index.name = "kpi"
        return out

    def breakdown(self, by: str) -> pd.DataFrame:
        """The lead KPIs per value of a lead attribute, with t intervals over replications.

        Each KPI is computed in each replication from the counted leads with that value,
        exactly as the overall KPI is from all of them (``kpis``), then averaged over
        replications with its interval as in ``summary()``. The values split the
        counted leads, so in every replication ``leads``, ``won``, ``lost``, ``open``,
        ``revenue`` and ``collected`` summed over the values are the overall KPIs
        (``breakdown_kpis`` gives the values per replication).

        Every value the scenario defines is a row, in the scenario's order, products
        followed by bundles. A value no counted lead had in a replication counts 0
        leads there, and its rates and times are undefined (left out of the mean): a
        value no channel's mix produces has counts of 0 and rates with ``n`` 0.

        With ``by="team"`` a lead belongs to the team of the rep who first worked it:
        the lead's own rep (part 0) of its earliest started activity. Leads no rep
        worked (lost cold in the first queue, or still waiting) are under
        ``NEVER_WORKED``, the last row.

        Cost, cost per won deal, profit and utilisation are not broken down: salaries
        are paid for reps shared by leads of every value, so any split of them would be
        an allocation rule, not a measurement.

        Args:
            by: One of ``BREAKDOWN_BY``: ``segment``, ``product``, ``channel``,
                ``grade``, ``region`` or ``team``.

        Returns:
            A DataFrame indexed by (``kpi``, ``by``), KPIs in ``BREAKDOWN_KPIS`` order,
            with the columns of ``summary()`` (``INTERVAL_COLUMNS``): ``mean``, ``std``,
            ``ci_low``, ``ci_high`` (t interval at ``confidence``) and ``n``
            (replications where the KPI is defined). Units are those of ``kpis``
            (counts, shares, days, currency); ``revenue_share`` is the value's share of
            the replication's revenue.

        Raises:
            ValueError: If ``by`` is not one of ``BREAKDOWN_BY``.
        """
        per_replication = self.breakdown_kpis(by)
        values = list(dict.fromkeys(per_replication.index.get_level_values(by)))
        of_value = {v: per_replication.xs(v, level=by) for v in values}
        rows = {(kpi, v): _interval_row(of_value[v][kpi], self.confidence)
                for kpi in BREAKDOWN_KPIS for v in values}
        out = pd.DataFrame(list(rows.values()), columns=list(INTERVAL_COLUMNS),
                           index=pd.MultiIndex.from_tuples(list(rows), names=["kpi", by]))
        out["n"] = out["n"].astype(int)
        return out

    def breakdown_kpis(self, by: str) -> pd.DataFrame:
        """The lead KPIs of each replication per value of a lead attribute.

        What ``breakdown(by)`` averages: one row per replication and value (index
        ``replication``, ``by``), one column per KPI of ``BREAKDOWN_KPIS``; see
        ``breakdown`` for the values, the team rule and the units.

        Raises:
            ValueError: If ``by`` is not one of ``BREAKDOWN_BY``.
        """
        sc = self.scenario
        values = _breakdown_values(sc, self.raw, check_breakdown_by(by))
        rows = []
        for r in self.raw:
            codes = _value_codes(r, by, values)
            cohort = r.leads["cohort"]
            for k, value in enumerate(values):
                rows.append({"replication": r.replication, by: value,
                             **_lead_kpis(sc, r, cohort & (codes == k))})
        df = pd.DataFrame(rows, columns=["replication", by, *LEAD_KPIS])
        total = df.groupby("replication")["revenue"].transform("sum")
        df["revenue_share"] = (df["revenue"] / total).where(total > 0)
        return df.set_index(["replication", by])

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
                "made_by": _names(MADE_BY, L["made_by"]),
                "customer": L["customer"],
            }))
        return pd.concat(frames, ignore_index=True)

    def after_sale(self, table: str) -> pd.DataFrame:
        """One after-sale table, all replications, with names instead of codes.

        Args:
            table: ``customers`` (one row per customer: ``since`` its first win,
                ``active_from`` its first delivery, ``churned``, ``purchases``,
                ``revenue``, ``satisfaction`` at the horizon, ``complaints``,
                ``referrals``), ``orders`` (per won deal: ``signed``, ``due``,
                ``delivered``, ``late_days``, ``failed`` attempts, ``promise_lost``,
                ``caught``, ``complaints``, ``bad_debt``), ``invoices`` (per milestone:
                ``amount``, ``issued``, ``due``, ``paid``, ``written_off``, ``chases``),
                ``work`` (per piece of after-sale work: ``activity``, ``role``,
                ``resource``, ``enable_time``, ``start_time``, ``end_time``),
                ``complaints`` or ``decisions`` (buying decisions: ``came_back``,
                ``satisfaction``). Times are days from the start; money in currency.

        Raises:
            ValueError: For a scenario without an after-sale part, or another table.
        """
        sc = self.scenario
        if sc.after_sale is None:
            raise ValueError(f"scenario {sc.name!r} has no after_sale part: it has no "
                             "orders, invoices or customers after the signature")
        if table not in AFTER_SALE_TABLES:
            raise ValueError(unknown("after-sale table", table, AFTER_SALE_TABLES,
                                     "tables are"))
        frames = []
        for r in self.raw:
            assert r.after_sale is not None
            df = pd.DataFrame(r.after_sale[table])
            df.insert(0, "replication", r.replication)
            frames.append(df)
        out = pd.concat(frames, ignore_index=True)
        if table == "orders":
            out["late_days"] = (out["delivered"] - out["due"]).clip(lower=0)
        if table == "invoices":
            out["milestone"] = _names([m.at for m in sc.after_sale.invoicing.milestones],
                                      out["milestone"].to_numpy())
        if table == "work":
            activity = out["activity"].to_numpy()
            out["activity"] = _names(sc.after_sale.activities(), activity)
            out.insert(4, "role", _names(self._work_roles(), activity))
        return out

    def _work_roles(self) -> list[str]:
        """The role of each after-sale activity code (collection and service optional)."""
        after = self.scenario.after_sale
        assert after is not None
        steps = [s.role for s in after.delivery.steps]
        optional = [part.role if part is not None else "" for part in
                    (after.collection, after.service, after.account_care)]
        return [*steps, after.invoicing.role, *optional]

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
                "touch": E["touch"],
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
        ``wait_mean_days`` and ``wait_p90_days`` (each wait for the lead's own rep: the
        first work and every follow-up), ``effort_mean_hours`` (rep time per attempt
        incl. travel and follow-ups, summed over every rep working it together),
        ``customer_delay_mean_days`` (per attempt, the days with the customer: the gaps
        before follow-ups and the answer after the last rep's work),
        ``handoff_mean_days`` and ``sla_miss_rate`` (share of waits past the stage's
        SLA; NaN without an SLA).
        """
        sc = self.scenario
        names = [s.name for s in sc.stages]
        ev = self.events[self.events["cohort"]]
        per_rep = [self._stage_row(replication, str(stage), every)
                   for (replication, stage), every in ev.groupby(["replication", "activity"],
                                                                 sort=False)]
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

    def _stage_row(self, replication: Any, stage: str, every: pd.DataFrame
                   ) -> dict[str, Any]:
        """``stages()`` of one stage in one replication, from its event rows."""
        st = self.scenario.stages[self.scenario.stage_index(stage)]
        touch_end = every.groupby(["case_id", "attempt", "touch"])["end_time"].transform("max")
        main = every["part"] == 0
        g = every[main]
        wait = (g["start_time"] - g["enable_time"]).to_numpy(dtype=float)
        served = np.isfinite(wait)
        first = (g["touch"] == 0).to_numpy()
        attempts = g[g["outcome"] != "follow-up"]
        out = attempts["outcome"]
        worked = int((served & first).sum())
        customer = (g["decision_time"] - touch_end[main]).groupby(
            [g["case_id"], g["attempt"]]).sum(min_count=1)
        return {
            "replication": replication, "stage": stage, "role": st.role,
            "entered": len(attempts),
            "advanced": int((out == "advanced").sum()),
            "lost": int(out.isin(["lost", "cold"]).sum()),
            "cold": int((out == "cold").sum()),
            "reworked": int((out == "rework").sum()),
            "nurtured": int((out == "nurture").sum()),
            "wait_mean_days": float(wait[served].mean()) if served.any() else np.nan,
            "wait_p90_days": float(np.percentile(wait[served], 90)) if served.any()
            else np.nan,
            "effort_mean_hours": float((every["end_time"] - every["start_time"]).sum()
                                       / worked * self.scenario.calendar.hours_per_day)
            if worked else np.nan,
            "customer_delay_mean_days": float(customer.mean()),
            "handoff_mean_days": float(g["handoff_days"][first].mean()),
            "sla_miss_rate": float((wait[served] > st.sla_days).mean())
            if st.sla_days is not None and served.any() else np.nan,
        }

    def reps(self) -> pd.DataFrame:
        """Per rep, averaged over replications.

        Columns: ``team``, ``role``, ``tasks`` (activities worked, after-sale work
        and pipeline reviews included), ``busy_days``, ``employed_days`` and
        ``utilisation`` (busy over employed) in the measurement window, ``deals_won``
        (counted won leads the rep worked on) and ``revenue`` of those deals (currency),
        ``skill_logit`` (the rep's own conversion effect drawn from its group's skill
        spread, with any coaching; the group's ``skill_logit`` adds to it)
        and ``effort_factor`` (its own factor on effort), and for roles that own their leads
        ``open_deals_mean`` and ``open_deals_p90`` (open leads the rep owned, time-weighted
        over the window). Reps hired or gone during a run are rows of their own.
        """
        rows = []
        for r in self.raw:
            start, stop = _window(self.scenario, r)
            busy = _busy_days(r, start, stop)
            employed = _employed_days(r, start, stop)
            n = len(r.rep_team)
            tasks = _tasks(r)
            _, _, deals, revenue = _touched(r, np.arange(n), n)
            for i, label in enumerate(_rep_labels(r)):
                book_mean, book_p90 = _book_stats(r.rep_book[i])
                rows.append({"rep": label, "team": r.rep_team[i], "role": r.rep_role[i],
                             "tasks": tasks[i], "busy_days": busy[i],
                             "employed_days": employed[i],
                             "utilisation": busy[i] / employed[i] if employed[i] else np.nan,
                             "deals_won": deals[i], "revenue": revenue[i],
                             "skill_logit": r.rep_skill[i], "effort_factor": r.rep_effort[i],
                             "open_deals_mean": book_mean, "open_deals_p90": book_p90})
        df = pd.DataFrame(rows)
        return df.groupby(["rep", "team", "role"], sort=False).mean().reset_index(["team", "role"])

    def teams(self) -> pd.DataFrame:
        """Per team and role, averaged over replications: the load of each territory.

        Columns: ``headcount`` (reps employed on average over the measurement window),
        ``tasks`` (after-sale work included), ``utilisation`` (busy over employed time of
        the team's reps), ``wait_mean_days`` (leads' wait for a rep of the team), ``leads``
        (distinct counted leads the team worked on), ``potential`` (their deal value, won or
        not: what the territory could sell; currency), ``deals_won`` (of those leads, the
        won ones; a lead reworked by two reps of the team counts once), ``revenue`` of those
        deals (currency), ``potential_per_rep`` and ``revenue_per_rep`` (currency),
        ``load_index`` (utilisation over the mean utilisation of the role's teams: above 1
        carries more than its share), and for roles that own their leads ``open_deals_mean``
        and ``open_deals_p90`` (open leads per rep, time-weighted over the window and the
        group's reps).
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
            tasks = np.bincount(group_of, weights=_tasks(r), minlength=n).astype(np.int64)
            counted = worked & r.leads["cohort"][E["case"]]
            waits = np.bincount(group_of[E["resource"][counted]], minlength=n,
                                weights=(E["start_time"] - E["enable_time"])[counted])
            employed = np.bincount(group_of, weights=_employed_days(r, start, stop),
                                   minlength=n)
            leads, potential, deals, revenue = _touched(r, group_of, n)
            for k, (team, role) in enumerate(groups):
                heads = employed[k] / (stop - start) if stop > start else np.nan
                book_mean, book_p90 = _book_stats(_pooled_books(
                    [b for b, g in zip(r.rep_book, group_of, strict=True) if g == k]))
                served = np.count_nonzero(group_of[E["resource"][counted]] == k)
                rows.append({"team": team, "role": role, "headcount": heads,
                             "tasks": tasks[k],
                             "utilisation": busy[k] / employed[k] if employed[k] else np.nan,
                             "wait_mean_days": waits[k] / served if served else np.nan,
                             "leads": leads[k], "potential": potential[k],
                             "deals_won": deals[k], "revenue": revenue[k],
                             "potential_per_rep": potential[k] / heads if heads else np.nan,
                             "revenue_per_rep": revenue[k] / heads if heads else np.nan,
                             "open_deals_mean": book_mean, "open_deals_p90": book_p90})
        table = pd.DataFrame(rows).groupby(["team", "role"], sort=False).mean()
        role_mean = table.groupby(level="role")["utilisation"].transform("mean")
        table["load_index"] = table["utilisation"] / role_mean
        return table


def _tasks(raw: RawReplication) -> np.ndarray:
    """Activities each rep worked, after-sale work and pipeline reviews included."""
    n = len(raw.rep_team)
    res = raw.events["resource"]
    tasks: np.ndarray = np.bincount(res[res >= 0], minlength=n)
    if raw.after_sale is not None:
        tasks = tasks + np.bincount(raw.after_sale["work"]["resource"], minlength=n)
    meet = (raw.management or {}).get("reviews")
    if meet is not None:
        tasks = tasks + np.bincount(meet["manager"], minlength=n)
    return tasks


def _pooled_books(books: Sequence[np.ndarray]) -> np.ndarray:
    """Days at each book size, added up over reps."""
    out = np.zeros(max((len(b) for b in books), default=0))
    for b in books:
        out[:len(b)] += b
    return out


def _book_stats(book: np.ndarray) -> tuple[float, float]:
    """Time-weighted mean and 90th percentile of a book size, from days at each size."""
    total = float(book.sum())
    if total <= 0:
        return np.nan, np.nan
    sizes = np.arange(len(book))
    share = np.cumsum(book) / total
    return float(sizes @ book) / total, float(sizes[np.searchsorted(share, 0.9 - 1e-12)])


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


def kpi_html(kpis: pd.DataFrame, currency: str, caption: str,
             confidence: float = DEFAULT_CONFIDENCE) -> str:
    """The headline KPIs of one KPI row per replication: mean and t interval, as HTML.

    Args:
        kpis: One row per replication, one column per KPI (``Results.kpis``).
        currency: The currency of money KPIs.
        caption: A line above the table.
        confidence: Confidence level of the intervals.
    """
    rows = []
    for kpi in (k for k in HEADLINE_KPIS if k in kpis.columns):
        ci = mean_ci(kpis[kpi].to_numpy(dtype=float), confidence)
        rows.append((kpi_label(kpi, currency), fmt_number(kpi, ci.mean),
                     fmt_interval(kpi, ci.low, ci.high)))
    return html_table(("KPI", "mean", f"{confidence:.0%} interval"), rows, caption)


def _interval_row(values: pd.Series, confidence: float) -> dict[str, float]:
    """A row of ``INTERVAL_COLUMNS``: mean and t interval of one value per replication."""
    ci = mean_ci(values.to_numpy(dtype=float), confidence)
    return {"mean": ci.mean, "std": ci.std, "ci_low": ci.low, "ci_high": ci.high, "n": ci.n}


def _breakdown_values(sc: Scenario, raws: Sequence[RawReplication], by: str) -> list[str]:
    """The values of a lead attribute, in the scenario's order (see ``breakdown``)."""
    if by == "channel":
        return [c.name for c in sc.channels]
    if by == "team":
        teams = dict.fromkeys(t.name for t in sc.teams)
        for r in raws:
            teams.update(dict.fromkeys(r.rep_team))
        return [*teams, NEVER_WORKED]
    return list(sc.values_of(by))


def _value_codes(raw: RawReplication, by: str, values: Sequence[str]) -> np.ndarray:
    """Each lead's position in ``values`` (``_breakdown_values``) for attribute ``by``."""
    if by != "team":
        codes: np.ndarray = raw.leads[by]
        return codes
    return _first_team(raw, values)


def _first_team(raw: RawReplication, teams: Sequence[str]) -> np.ndarray:
    """Each lead's first team: of its own rep (part 0) at its earliest started activity.

    Returns positions in ``teams``, whose last entry stands for leads no rep worked.
    """
    E = raw.events
    worked = (E["resource"] >= 0) & (E["part"] == 0) & np.isfinite(E["start_time"])
    case, rep = E["case"][worked], E["resource"][worked]
    order = np.lexsort((E["start_time"][worked], case))
    case, rep = case[order], rep[order]
    first = np.ones(len(case), dtype=bool)
    first[1:] = case[1:] != case[:-1]
    team_of_rep = np.array([teams.index(t) for t in raw.rep_team], dtype=np.int64)
    codes = np.full(len(raw.leads["case"]), len(teams) - 1, dtype=np.int64)
    codes[case[first]] = team_of_rep[rep[first]]
    return codes


def _names(names: Sequence[str], codes: np.ndarray) -> np.ndarray:
    """Map integer codes to names (code -1 maps to the last name when one is given)."""
    table: np.ndarray = np.asarray(list(names), dtype=object)
    named: np.ndarray = table[codes]
    return named
