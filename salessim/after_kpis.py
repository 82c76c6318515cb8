"""The after-sale KPIs of one replication: delivery, satisfaction, repeat business, cash.

Counted orders are the won deals of counted leads (arrived in [warm-up, horizon)); the
window is [warm-up, horizon) as for every KPI. Times are working days, money is in the
scenario's currency, rates are shares (0.25 is 25 %) unless the name says per year.

- ``on_time_delivery_rate``: counted orders delivered by the day sales promised, over
  the counted orders delivered.
- ``complaint_rate``: counted orders whose customer complained while it was the
  customer's latest order.
- ``satisfaction_mean``: mean satisfaction (0 to 10) at the horizon of the customers
  who were customers then.
- ``repurchase_rate``: of the buying decisions in the window, the share that brought a
  new opportunity.
- ``churn_rate_per_year``: customers lost in the window per customer-year (250 days)
  of customers in the window.
- ``net_revenue_retention``: the customers won in the first counted year (250 days):
  their deal value signed in the next year over that signed in the first (NaN with a
  window shorter than two years).
- ``customer_lifetime_value``: gross margin a new customer brings over its life,
  from the window's rates: the first order's mean value plus, per buying decision,
  the chance of coming back (``p``) times the repeat win rate (``c``) times a repeat
  order's mean value, over the expected ``p / (1 - p)`` returns before churning.
- ``referral_leads``: leads referred by customers, arrived in the window.
- ``repeat_revenue``: deal value of counted repeat opportunities won.
- ``service_wait_mean_days``: mean wait for a rep of service requests raised in the
  window.
- ``days_sales_outstanding``: receivables (invoiced, not yet paid or written off)
  averaged over the window, over the amount invoiced per day in the window.
- ``collected_within_terms_rate``: of the amount of counted orders' invoices due
  before the run ended, the share paid by the due date.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from salessim.model.leads import REFERRED, REPEAT, WON
from salessim.model.records import RawReplication
from salessim.model.staffing import DAYS_PER_YEAR
from salessim.scenario.schema import Scenario

AFTER_SALE_KPIS: tuple[str, ...] = (
    "on_time_delivery_rate", "complaint_rate", "satisfaction_mean", "repurchase_rate",
    "churn_rate_per_year", "net_revenue_retention", "customer_lifetime_value",
    "referral_leads", "repeat_revenue", "service_wait_mean_days", "days_sales_outstanding",
    "collected_within_terms_rate",
)
"""The KPIs of a scenario with an after-sale part, in table order."""

FloatArray = NDArray[np.float64]


def _mean(mask: NDArray[np.bool_]) -> float:
    return float(mask.mean()) if len(mask) else np.nan


def _ratio(top: float, bottom: float) -> float:
    return top / bottom if bottom > 0 else np.nan


def collected_by_lead(sc: Scenario, raw: RawReplication) -> FloatArray:
    """Per lead, the amount paid within ``payment.window_days`` of its signature."""
    assert raw.after_sale is not None
    inv = raw.after_sale["invoices"]
    signed = raw.leads["close_time"][inv["case"]]
    inside = (inv["paid"] - signed) <= sc.payment.window_days
    paid: FloatArray = np.bincount(inv["case"], weights=np.where(inside, inv["amount"], 0.0),
                                   minlength=len(raw.leads["case"])).astype(np.float64)
    return paid


def after_sale_kpis(sc: Scenario, raw: RawReplication, start: float, stop: float
                    ) -> dict[str, float]:
    """``AFTER_SALE_KPIS`` of one replication, over the window [start, stop) (days)."""
    assert raw.after_sale is not None
    return {**_delivery(raw), **_customers(sc, raw, start, stop), **_cash(raw, start, stop),
            "referral_leads": float(((raw.leads["made_by"] == REFERRED)
                                     & raw.leads["cohort"]).sum()),
            "service_wait_mean_days": _service_wait(sc, raw, start, stop)}


def _delivery(raw: RawReplication) -> dict[str, float]:
    assert raw.after_sale is not None
    orders = raw.after_sale["orders"]
    counted = raw.leads["cohort"][orders["case"]]
    delivered = counted & np.isfinite(orders["delivered"])
    return {"on_time_delivery_rate": _mean((orders["delivered"] <= orders["due"])[delivered]),
            "complaint_rate": _mean(orders["complaints"][counted] > 0)}


def _customers(sc: Scenario, raw: RawReplication, start: float, stop: float
               ) -> dict[str, float]:
    assert raw.after_sale is not None
    tables = raw.after_sale
    c, d, L = tables["customers"], tables["decisions"], raw.leads
    churned = np.where(np.isnan(c["churned"]), np.inf, c["churned"])
    at_horizon = (c["since"] < stop) & (churned >= stop)
    years = np.clip(np.minimum(churned, stop) - np.maximum(c["since"], start), 0, None).sum()
    in_window = (d["day"] >= start) & (d["day"] < stop)
    p = _mean(d["came_back"][in_window])
    repeat = (L["made_by"] == REPEAT) & L["cohort"]
    won = L["status"] == WON
    closed = repeat & (L["status"] != 0)
    c_win = _ratio(float((repeat & won).sum()), float(closed.sum()))
    first = L["cohort"] & won & (L["made_by"] != REPEAT)
    first_value = float(L["deal_value"][first].mean()) if first.any() else np.nan
    repeat_value = float(L["deal_value"][repeat & won].mean()) if (repeat & won).any() \
        else 0.0
    returns = p / (1 - p) if p < 1 else np.nan
    lifetime = sc.money.gross_margin * (first_value + returns * (c_win if c_win == c_win
                                                                 else 0.0) * repeat_value)
    return {
        "satisfaction_mean": float(c["satisfaction"][at_horizon].mean()) if at_horizon.any()
        else np.nan,
        "repurchase_rate": p,
        "churn_rate_per_year": _ratio(float(((churned >= start) & (churned < stop)).sum()),
                                      years / DAYS_PER_YEAR),
        "net_revenue_retention": _retention(raw, start, stop),
        "customer_lifetime_value": lifetime,
        "repeat_revenue": float(L["deal_value"][repeat & won].sum()),
    }


def _retention(raw: RawReplication, start: float, stop: float) -> float:
    """Year-two over year-one deal value of the customers won in the first counted year."""
    if stop - start < 2 * DAYS_PER_YEAR:
        return np.nan
    assert raw.after_sale is not None
    orders, c = raw.after_sale["orders"], raw.after_sale["customers"]
    new = (c["since"] >= start) & (c["since"] < start + DAYS_PER_YEAR)
    mine = new[orders["customer"]]
    value = raw.leads["deal_value"][orders["case"]]
    year = (orders["signed"] - start) // DAYS_PER_YEAR
    first = float(value[mine & (year == 0)].sum())
    return _ratio(float(value[mine & (year == 1)].sum()), first)


def _cash(raw: RawReplication, start: float, stop: float) -> dict[str, float]:
    assert raw.after_sale is not None
    if stop <= start:  # a run paused where the window starts has no receivables yet
        return {"days_sales_outstanding": np.nan, "collected_within_terms_rate": np.nan}
    inv = raw.after_sale["invoices"]
    issued = inv["issued"]
    settled = np.fmin(inv["paid"], inv["written_off"])
    settled = np.where(np.isnan(settled), raw.end_day, settled)
    ok = np.isfinite(issued)
    lo = np.clip(issued[ok], start, stop)
    hi = np.clip(settled[ok], start, stop)
    receivable = float((inv["amount"][ok] * (hi - lo)).sum()) / (stop - start)
    billed = ok & (issued >= start) & (issued < stop)
    per_day = float(inv["amount"][billed].sum()) / (stop - start)
    counted = raw.leads["cohort"][inv["case"]] & (inv["due"] < raw.end_day)
    on_time = counted & (inv["paid"] <= inv["due"])
    return {"days_sales_outstanding": _ratio(receivable, per_day),
            "collected_within_terms_rate": _ratio(float(inv["amount"][on_time].sum()),
                                                  float(inv["amount"][counted].sum()))}


def _service_wait(sc: Scenario, raw: RawReplication, start: float, stop: float) -> float:
    assert raw.after_sale is not None and sc.after_sale is not None
    w = raw.after_sale["work"]
    service = sc.after_sale.activities().index("service")
    mine = (w["activity"] == service) & (w["enable_time"] >= start) & (w["enable_time"] < stop)
    return float((w["start_time"] - w["enable_time"])[mine].mean()) if mine.any() else np.nan


def after_sale_busy(raw: RawReplication, start: float, stop: float) -> FloatArray:
    """Busy time of each rep on after-sale work inside [start, stop) (days)."""
    n = len(raw.rep_team)
    if raw.after_sale is None:
        return np.zeros(n)
    w = raw.after_sale["work"]
    lo = np.clip(w["start_time"], start, stop)
    hi = np.clip(w["end_time"], start, stop)
    busy: FloatArray = np.bincount(w["resource"], weights=hi - lo,
                                   minlength=n).astype(np.float64)
    return busy
