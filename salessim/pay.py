"""Targets and pay of one replication: attainment, commission and the plan's KPIs.

The rules are in ``salessim.scenario.management``. Pay is worked out per rep and per
period of the measurement window [warm-up, horizon): the deals credited to the rep and
closed (or paid) in the period, against the rep's target pro-rated by the share of the
period the rep was employed inside the window.

- ``target_attainment_mean``: mean over reps, periods and targets of amount over
  target.
- ``at_target_share``: share of those at or above target.
- ``variable_pay``: commission of all reps over the window (currency); it counts in
  ``cost``.
- ``cost_of_sales_share``: ``cost`` over ``revenue``.
- ``price_realisation``: price over list value of the counted deals won (1: no
  discount).
- ``period_end_close_share``: of the counted deals won in the window, the share closed
  in the last ``LAST_WEEKS_DAYS`` working days of their period (uniform closing gives
  ``LAST_WEEKS_DAYS`` over the period's length).
- ``approval_wait_mean_days``: mean wait for a rep at approval stages (stages with an
  ``approval``), over attempts started in the window (only where a stage approves).

With pipeline reviews that forecast, each review (all reps reviewed that round, in the
window) forecasts F, the sum over the deals it counted of value times weight, and books
A, what those deals were won for in the end; a review with a deal still open when the
run stopped is not scored.

- ``forecast_bias_pct``: 100 (sum of F - A) / (sum of A) over the reviews: above 0 the
  forecasts promise more than comes.
- ``forecast_mape_pct``: mean of 100 |F - A| / A over the reviews with A > 0.

With reviews that clear stale deals, ``cleared_deals`` counts the counted leads closed
as lost at a review.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from salessim.model.leads import OPEN, WON
from salessim.model.management import employed_share, period_of
from salessim.model.records import RawReplication
from salessim.scenario.management import Commission, Management
from salessim.scenario.schema import Scenario

LAST_WEEKS_DAYS = 10.0
"""Working days in the last two weeks of a period (``period_end_close_share``)."""

MANAGEMENT_KPIS: tuple[str, ...] = (
    "target_attainment_mean", "at_target_share", "variable_pay", "cost_of_sales_share",
    "price_realisation", "period_end_close_share",
)
"""The KPIs of a scenario with a management plan, in table order."""

APPROVAL_KPIS: tuple[str, ...] = ("approval_wait_mean_days",)
"""The KPIs of a scenario with approval stages."""

FORECAST_KPIS: tuple[str, ...] = ("forecast_bias_pct", "forecast_mape_pct")
"""The KPIs of a plan whose reviews forecast."""


def review_kpi_names(plan: Management) -> tuple[str, ...]:
    """The KPIs of ``plan``'s pipeline reviews, in table order (none without reviews)."""
    reviews = plan.reviews
    if reviews is None:
        return ()
    return ((FORECAST_KPIS if reviews.forecast is not None else ())
            + (("cleared_deals",) if reviews.stale_after_days is not None else ()))


FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Credited:
    """The deals credited to reps in one replication, one row per (deal, rep).

    Attributes:
        rep: The rep credited.
        role: The rep's role.
        closed: Day the deal was won (days).
        price: Its price after any discount (currency).
        never_paid: Whether it was written off (bad debt).
        payments: (credited row, day paid, amount) of each payment received.
        delivered: Day its order was delivered (NaN: not delivered, or no after-sale
            part).
        satisfaction: Its customer's satisfaction just after the delivery (0 to 10).
    """

    rep: NDArray[np.int64]
    role: NDArray[np.str_]
    closed: FloatArray
    price: FloatArray
    never_paid: NDArray[np.bool_]
    payments: tuple[NDArray[np.int64], FloatArray, FloatArray]
    delivered: FloatArray
    satisfaction: FloatArray


def credited(raw: RawReplication) -> Credited:
    """The won deals credited to reps, with their payments."""
    assert raw.management is not None
    table = raw.management["credits"]
    L = raw.leads
    won = L["status"][table["case"]] == WON
    case = table["case"][won]
    price = L["deal_value"][case]
    closed = L["close_time"][case]
    delivered = np.full(len(case), np.nan)
    score = np.full(len(case), np.nan)
    if raw.after_sale is None:
        delay = L["payment_days"][case]
        never = np.isnan(delay)
        rows = np.flatnonzero(~never)
        payments = (rows, (closed + delay)[rows], price[rows])
    else:
        orders = raw.after_sale["orders"]
        at = np.full(len(L["case"]), -1, dtype=np.int64)
        at[orders["case"]] = np.arange(len(orders["case"]))
        has = at[case] >= 0
        delivered[has] = orders["delivered"][at[case][has]]
        score[has] = orders["satisfaction"][at[case][has]]
        inv = raw.after_sale["invoices"]
        lost = np.zeros(len(L["case"]), dtype=np.bool_)
        lost[inv["case"][np.isfinite(inv["written_off"])]] = True
        never = lost[case]
        row_of = {int(c): np.flatnonzero(case == c) for c in np.unique(case)}
        paid = np.flatnonzero(np.isfinite(inv["paid"]) & np.isin(inv["case"], case))
        pairs = [(r, k) for k in paid for r in row_of[int(inv["case"][k])]]
        rows = np.array([r for r, _ in pairs], dtype=np.int64)
        k = np.array([k for _, k in pairs], dtype=np.int64)
        payments = (rows, inv["paid"][k] if len(k) else np.zeros(0),
                    inv["amount"][k] if len(k) else np.zeros(0))
    return Credited(table["rep"][won], table["role"][won], closed, price, never, payments,
                    delivered, score)


def _amounts(deals: Credited, keep: NDArray[np.bool_], measure: str, margin: float,
             start: float, length: float) -> dict[tuple[int, int], float]:
    """(rep, period) -> the amount on ``measure`` of the credited rows in ``keep``."""
    if measure == "collected":
        rows, days, values = deals.payments
        chosen = keep[rows]
        reps, days, values = deals.rep[rows][chosen], days[chosen], values[chosen]
    elif measure == "satisfaction":
        chosen = keep & np.isfinite(deals.delivered)
        reps, days = deals.rep[chosen], deals.delivered[chosen]
        values = deals.price[chosen] * deals.satisfaction[chosen] / 10.0
    else:
        reps, days = deals.rep[keep], deals.closed[keep]
        values = {"bookings": deals.price, "margin": margin * deals.price,
                  "won_deals": np.ones(len(deals.price))}[measure][keep]
    out: dict[tuple[int, int], float] = {}
    for r, day, v in zip(reps.tolist(), days.tolist(), values.tolist(), strict=True):
        key = (r, period_of(day, start, length))
        out[key] = out.get(key, 0.0) + v
    return out


def _periods(sc: Scenario, stop: float) -> list[tuple[int, float, float]]:
    """(number, first day, end) of each period inside [warm-up, stop), the last cut short."""
    assert sc.management is not None
    start, length = sc.calendar.warmup_days, sc.management.period_days
    n = int(np.ceil((stop - start) / length - 1e-9)) if stop > start else 0
    return [(k, start + k * length, min(start + (k + 1) * length, stop)) for k in range(n)]


@dataclass(frozen=True)
class RepPeriod:
    """One rep in one period: the target it carried and the amounts it was credited."""

    rep: int
    period: int
    target: float | None
    amount: float


def rep_periods(sc: Scenario, raw: RawReplication, stop: float, measure: str,
                role: str, keep: NDArray[np.bool_] | None = None) -> list[RepPeriod]:
    """Each rep of ``role`` employed in each period of the window, with target and amount.

    Args:
        sc: The scenario run.
        raw: One replication.
        stop: End of the window (days).
        measure: What the amount counts.
        role: The reps' role.
        keep: Which credited rows count (default: all).
    """
    plan = sc.management
    assert plan is not None
    deals = credited(raw)
    start, length = sc.calendar.warmup_days, plan.period_days
    keep = np.ones(len(deals.rep), dtype=np.bool_) if keep is None else keep
    amounts = _amounts(deals, keep & (deals.role == role), measure, sc.money.gross_margin,
                       start, length)
    out = []
    for r, (team, rep_role) in enumerate(zip(raw.rep_team, raw.rep_role, strict=True)):
        if rep_role != role:
            continue
        full = plan.target_for(role, team, measure)
        for k, begin, end in _periods(sc, stop):
            share = employed_share(float(raw.rep_hired[r]), float(raw.rep_left[r]), begin,
                                   end, length)
            if share > 0:
                out.append(RepPeriod(r, k, None if full is None else full * share,
                                     amounts.get((r, k), 0.0)))
    return out


def commission(sc: Scenario, raw: RawReplication, pay: Commission, stop: float) -> float:
    """Commission of ``pay``'s role over the window (currency), clawback applied."""
    keep = None
    if pay.clawback:
        keep = ~credited(raw).never_paid
    return sum(pay.pay(row.amount, row.target)
               for row in rep_periods(sc, raw, stop, pay.on, pay.role, keep))


def variable_pay(sc: Scenario, raw: RawReplication, stop: float) -> float:
    """All commission over the window ending ``stop`` (currency)."""
    assert sc.management is not None
    return sum(commission(sc, raw, pay, stop) for pay in sc.management.commission)


def management_kpis(sc: Scenario, raw: RawReplication, start: float, stop: float,
                    commission: float, revenue: float, cost: float) -> dict[str, float]:
    """``MANAGEMENT_KPIS`` of one replication over [start, stop).

    Args:
        sc: The scenario run (with a management plan).
        raw: One replication.
        start: Start of the window (days).
        stop: End of the window (days).
        commission: ``variable_pay`` of the window (currency).
        revenue: Revenue of the counted leads (currency).
        cost: The window's cost, commission included (currency).
    """
    plan = sc.management
    assert plan is not None
    attainment = _attainment(sc, raw, plan, stop)
    L = raw.leads
    won = (L["status"] == WON) & L["cohort"]
    deals = raw.management["deals"] if raw.management is not None else {}
    listed = L["deal_value"][won].copy()
    if len(deals.get("case", ())):
        at = np.full(len(L["case"]), np.nan)
        at[deals["case"]] = deals["list_value"]
        listed = np.where(np.isnan(at[won]), listed, at[won])
    closed = L["close_time"][won]
    into = (closed - start) % plan.period_days
    return {
        "target_attainment_mean": float(attainment.mean()) if len(attainment) else np.nan,
        "at_target_share": float((attainment >= 1.0).mean()) if len(attainment) else np.nan,
        "variable_pay": commission,
        "cost_of_sales_share": cost / revenue if revenue else np.nan,
        "price_realisation": (float(L["deal_value"][won].sum() / listed.sum())
                              if listed.sum() > 0 else np.nan),
        "period_end_close_share": (float((into >= plan.period_days - LAST_WEEKS_DAYS).mean())
                                   if won.any() else np.nan),
    }


def _attainment(sc: Scenario, raw: RawReplication, plan: Management, stop: float
                ) -> FloatArray:
    """Amount over target of every rep, period and target of the window."""
    values = []
    for role in dict.fromkeys(t.role for t in plan.targets):
        for measure in dict.fromkeys(t.measure for t in plan.targets if t.role == role):
            values += [row.amount / row.target
                       for row in rep_periods(sc, raw, stop, measure, role)
                       if row.target is not None and row.target > 0]
    return np.array(values, dtype=np.float64)


def approval_wait(sc: Scenario, raw: RawReplication, start: float, stop: float) -> float:
    """Mean wait for a rep at approval stages over attempts enabled in [start, stop) (days)."""
    stages = [i for i, st in enumerate(sc.stages) if st.approval is not None]
    ev = raw.events
    mine = (np.isin(ev["stage"], stages) & (ev["part"] == 0) & (ev["touch"] == 0)
            & (ev["enable_time"] >= start) & (ev["enable_time"] < stop)
            & np.isfinite(ev["start_time"]))
    return float((ev["start_time"] - ev["enable_time"])[mine].mean()) if mine.any() else np.nan


def review_busy(raw: RawReplication, start: float, stop: float) -> FloatArray:
    """Busy time of each rep in pipeline reviews inside [start, stop) (days)."""
    n = len(raw.rep_team)
    meet = (raw.management or {}).get("reviews")
    if meet is None:
        return np.zeros(n)
    lo = np.clip(meet["start_time"], start, stop)
    hi = np.clip(meet["end_time"], start, stop)
    busy: FloatArray = np.bincount(meet["manager"], weights=hi - lo,
                                   minlength=n).astype(np.float64)
    return busy


def review_kpis(sc: Scenario, raw: RawReplication) -> dict[str, float]:
    """``review_kpi_names`` of one replication."""
    assert sc.management is not None and raw.management is not None
    reviews = sc.management.reviews
    assert reviews is not None
    out: dict[str, float] = {}
    L = raw.leads
    if reviews.forecast is not None:
        forecast, booked = review_forecasts(raw)
        out["forecast_bias_pct"] = (100.0 * float((forecast - booked).sum() / booked.sum())
                                    if booked.sum() > 0 else np.nan)
        hit = booked > 0
        out["forecast_mape_pct"] = (100.0 * float(
            (np.abs(forecast[hit] - booked[hit]) / booked[hit]).mean()) if hit.any()
            else np.nan)
    if reviews.stale_after_days is not None:
        out["cleared_deals"] = float(L["cohort"][raw.management["cleared"]["case"]].sum())
    return out


def review_forecasts(raw: RawReplication) -> tuple[FloatArray, FloatArray]:
    """Forecast and booked amount of each scored review (currency), in review order.

    A review is scored when every deal it counted is closed; booked is the final price of
    those that were won.
    """
    assert raw.management is not None
    fc = raw.management["forecasts"]
    L = raw.leads
    status = L["status"][fc["case"]]
    won_value = np.where(status == WON, L["deal_value"][fc["case"]], 0.0)
    reviews, row_review = np.unique(fc["review"], return_inverse=True)
    n = len(reviews)
    forecast = np.bincount(row_review, weights=fc["value"] * fc["weight"],
                           minlength=n).astype(np.float64)
    booked = np.bincount(row_review, weights=won_value, minlength=n).astype(np.float64)
    unresolved = np.bincount(row_review, weights=status == OPEN, minlength=n) > 0
    return forecast[~unresolved], booked[~unresolved]
