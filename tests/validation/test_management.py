"""The management plan against exact computation and theory: pay, discounts, push, holds.

- With a plan that sets nothing (no targets, pay or discounts) a run equals one without a
  plan, bit for bit.
- Commission equals the rate times the amount credited, exactly, per replication; with
  an accelerator and a cap, per rep and quarter as the plan's formula says; clawback
  takes back exactly the commission on the deals never paid.
- A discount moves the stage's conversion by ``logit_per_discount`` times the discount
  on the logit scale, and the price by the discount, exactly.
- Closing is uniform in time without a push, so the share of deals closed in a quarter's
  last two weeks is 10 / 62.5; a push raises it; sandbagging closes held deals exactly at
  the start of the next period.
- An approval stage works exactly the deals it covers.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from scipy import stats

import salessim as ss
from salessim.model.leads import WON
from salessim.model.process import simulate
from salessim.pay import LAST_WEEKS_DAYS
from tests.validation.support import (
    assert_covers,
    base_scenario,
    interval,
    mmc_mean_wait,
    seed,
)

pytestmark = pytest.mark.slow

REPLICATIONS = 12
QUARTER = 62.5


def _funnel(**management: Any) -> dict[str, Any]:
    """Three reps, 2 leads a day, deals of 1,000 that pass with 50 %, a counted year."""
    doc = base_scenario()
    doc["calendar"] = {"horizon_days": 270.0, "warmup_days": 20.0,
                       "drain_limit_days": 400.0, "hours_per_day": 8.0}
    doc["channels"][0]["leads_per_day"] = 2.0
    doc["teams"][0]["reps"]["rep"]["headcount"] = 3
    doc["stages"][0].update({"conversion": {"A": 0.5},
                             "customer_delay_days": {"dist": "exponential", "mean": 8.0}})
    doc["management"] = {"period": "quarter", **management}
    return doc


def _run(doc: dict[str, Any], offset: int = 0) -> ss.Results:
    return ss.run(ss.Scenario.from_document(doc), replications=REPLICATIONS,
                  seed=seed(offset), executor="serial", progress=False)


def _closed_in_window(res: ss.Results, raw: Any) -> np.ndarray:
    cal = res.scenario.calendar
    L = raw.leads
    return ((L["status"] == WON) & (L["close_time"] >= cal.warmup_days)
            & (L["close_time"] < cal.horizon_days))


def test_a_plan_that_sets_nothing_changes_nothing() -> None:
    sc = ss.load_scenario("scenarios/regional.yaml").with_changes(
        {"calendar.horizon_days": 90.0, "calendar.warmup_days": 20.0})
    planned = sc.with_changes({"management": {"period": "quarter"}})
    before, after = simulate(sc, seed(), 0), simulate(planned, seed(), 0)
    for part in ("leads", "events"):
        for name, column in getattr(before, part).items():
            np.testing.assert_array_equal(column, getattr(after, part)[name], err_msg=name)
    plain = ss.run(sc, replications=2, seed=seed(), progress=False).kpis
    kept = ss.run(planned, replications=2, seed=seed(), progress=False).kpis
    for kpi in plain.columns:
        np.testing.assert_array_equal(plain[kpi], kept[kpi], err_msg=kpi)
    assert (kept["variable_pay"] == 0).all()


def test_commission_is_the_rate_times_the_amount_exactly() -> None:
    rate = 0.07
    res = _run(_funnel(commission=[{"role": "rep", "on": "bookings", "rate": rate}]))
    for raw, pay in zip(res.raw, res.kpis["variable_pay"], strict=True):
        booked = raw.leads["deal_value"][_closed_in_window(res, raw)].sum()
        assert booked > 0
        assert pay == pytest.approx(rate * booked, rel=1e-12)


def _by_rep_and_quarter(res: ss.Results, raw: Any) -> dict[tuple[int, int], float]:
    """Bookings per (last rep who worked the deal, quarter it closed in), from the log."""
    ev = raw.events
    last_rep = {int(c): int(r) for c, r in zip(ev["case"], ev["resource"], strict=True)
                if r >= 0}
    L = raw.leads
    out: dict[tuple[int, int], float] = {}
    for i in np.flatnonzero(_closed_in_window(res, raw)):
        key = (last_rep[int(i)], math.floor((L["close_time"][i] - 20.0) / QUARTER))
        out[key] = out.get(key, 0.0) + float(L["deal_value"][i])
    return out


def test_accelerator_and_cap_per_rep_and_quarter() -> None:
    target, low, high, cap = 20_000.0, 0.05, 0.12, 2_000.0
    res = _run(_funnel(
        targets=[{"role": "rep", "measure": "bookings", "per_period": target}],
        commission=[{"role": "rep", "on": "bookings", "rate": low, "cap_per_period": cap,
                     "accelerator": {"from_attainment": 0.8, "rate": high}}]), offset=1)
    capped = 0
    for raw, pay in zip(res.raw, res.kpis["variable_pay"], strict=True):
        expected = 0.0
        for amount in _by_rep_and_quarter(res, raw).values():
            step = 0.8 * target
            paid = low * min(amount, step) + high * max(amount - step, 0.0)
            capped += paid > cap
            expected += min(paid, cap)
        assert pay == pytest.approx(expected, rel=1e-12)
    assert capped > 0, "no rep reached the cap: the test would not see it"


def test_clawback_takes_back_the_commission_on_deals_never_paid() -> None:
    rate = 0.1
    doc = _funnel(commission=[{"role": "rep", "on": "bookings", "rate": rate,
                               "clawback": True}])
    doc["payment"]["bad_debt_prob"] = 0.3
    res = _run(doc, offset=2)
    for raw, pay in zip(res.raw, res.kpis["variable_pay"], strict=True):
        closed = _closed_in_window(res, raw)
        paid = closed & ~np.isnan(raw.leads["payment_days"])
        assert paid.sum() < closed.sum()
        assert pay == pytest.approx(rate * raw.leads["deal_value"][paid].sum(), rel=1e-12)


def test_a_discount_moves_conversion_on_the_logit_scale_and_the_price() -> None:
    depth, per_unit = 0.2, 2.0
    res = _run(_funnel(discounts={"stage": "work", "depth": depth,
                                  "logit_per_discount": per_unit}), offset=3)
    expected = 1.0 / (1.0 + math.exp(-(0.0 + per_unit * depth)))  # base 50 %: logit 0
    assert_covers(res.kpis["conversion_rate"], expected, "conversion with a discount")
    assert np.allclose(res.kpis["price_realisation"], 1 - depth, rtol=1e-12)
    assert np.allclose(res.kpis["revenue"], res.kpis["won"] * 1000.0 * (1 - depth),
                       rtol=1e-12)


def _pushing(delay_scale: float) -> dict[str, Any]:
    push = {"last_days": LAST_WEEKS_DAYS, "stages": ["work"], "delay_scale": delay_scale}
    # A target no rep reaches: every deal's rep is behind target in every quarter.
    return _funnel(targets=[{"role": "rep", "per_period": 1e9}],
                   behaviour={"period_end_push": push})


def test_closing_is_uniform_without_a_push_and_a_push_bunches_it() -> None:
    uniform = LAST_WEEKS_DAYS / QUARTER
    off = _run(_pushing(1.0), offset=4).kpis["period_end_close_share"]
    on = _run(_pushing(0.1), offset=4).kpis["period_end_close_share"]
    assert_covers(off, uniform, "share closed in the last two weeks without a push",
                  checks=2)
    rise = interval(on.to_numpy() - off.to_numpy(), checks=2)
    assert rise.low > 0, f"the push did not raise the share: {rise}"


def test_sandbagging_holds_deals_to_the_next_period_start() -> None:
    cap = 1_000.0  # ten deals' commission at 10 %: reached a month into a quarter
    doc = _funnel(targets=[{"role": "rep", "per_period": 1e5}],
                  commission=[{"role": "rep", "on": "bookings", "rate": 0.1,
                               "cap_per_period": cap}],
                  behaviour={"sandbagging": True})
    res = _run(doc, offset=5)
    held_any = 0
    for raw in res.raw:
        deals = raw.management["deals"]
        held = deals["case"][deals["held_days"] > 0]
        held_any += len(held)
        into = (raw.leads["close_time"][held] - 20.0) / QUARTER
        np.testing.assert_allclose(into, np.round(into), atol=1e-9)
    assert held_any > 0
    loose = _run(_funnel(targets=[{"role": "rep", "per_period": 1e5}],
                         commission=[{"role": "rep", "on": "bookings", "rate": 0.1,
                                      "cap_per_period": cap}]), offset=5)
    drop = interval(loose.kpis["period_end_close_share"].to_numpy()
                    - res.kpis["period_end_close_share"].to_numpy())
    assert drop.low > 0, f"holding deals did not empty the period's end: {drop}"


def test_an_approval_stage_works_exactly_the_deals_it_covers() -> None:
    """The deals above the threshold, and no other, wait for the manager as in M/M/1.

    Deals leave the work stage (M/M/3) as a Poisson stream (Burke), pass with 50 %, wait
    an exponential customer delay and are above the threshold independently: the
    approvals arrive as a Poisson stream, and the manager is an M/M/1 queue.
    """
    doc = _funnel()
    mean, sd, above = 1000.0, 600.0, 1500.0
    doc["deal_value"] = {"distribution": {"dist": "lognormal", "mean": mean, "sd": sd}}
    doc["roles"].append({"name": "manager", "salary_per_day": 0.0, "assignment": "pooled",
                         "dispatch": "fifo"})
    doc["teams"].append({"name": "managers", "reps": {"manager": {"headcount": 1}}})
    doc["stages"].append({"name": "approve", "role": "manager",
                          "effort_hours": {"dist": "exponential", "mean": 12.0},
                          "customer_delay_days": {"dist": "fixed", "value": 0.0},
                          "conversion": {"A": 1.0},
                          "approval": {"on": "deal_value", "above": above}})
    res = _run(doc, offset=6)
    for raw in res.raw:
        L, ev = raw.leads, raw.events
        passed_work = np.unique(ev["case"][(ev["stage"] == 0) & (ev["outcome"] == 0)])
        approved = np.unique(ev["case"][ev["stage"] == 1])
        covered = passed_work[L["deal_value"][passed_work] > above]
        np.testing.assert_array_equal(approved, covered)
    sigma = math.sqrt(math.log(1 + (sd / mean) ** 2))
    share_above = 1 - stats.norm.cdf((math.log(above) - (math.log(mean) - sigma**2 / 2))
                                     / sigma)
    rate = 2.0 * 0.5 * share_above  # leads a day, times the work stage's conversion
    assert_covers(res.kpis["approval_wait_mean_days"],
                  mmc_mean_wait(1, rate, 8.0 / 12.0), "wait for an approval (M/M/1)")


def test_value_first_is_value_dispatch_for_the_roles_paid_on_bookings() -> None:
    sc = ss.load_scenario("scenarios/regional.yaml").with_changes(
        {"calendar.horizon_days": 90.0, "calendar.warmup_days": 20.0,
         "management": {"commission": [{"role": "ae", "on": "bookings", "rate": 0.05}]}})
    skewed = sc.with_changes({"management.behaviour.value_first": True})
    by_rule = sc.with_changes({"roles.ae.dispatch": "value"})
    a, b, c = (simulate(x, seed(), 0) for x in (skewed, by_rule, sc))
    for name, column in a.events.items():
        np.testing.assert_array_equal(column, b.events[name], err_msg=name)
    assert not np.array_equal(a.events["start_time"], c.events["start_time"])
