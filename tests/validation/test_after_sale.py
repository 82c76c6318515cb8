"""The after-sale part (``salessim.scenario.after_sale``) against theory and exact accounting.

On minimal scenarios (``support.base_scenario`` plus ``tests/data/after_sale/minimal.yaml``:
delivery and finance roles in a team of their own, one delivery step, the whole value
invoiced at the signature):

* **No disturbance of sales.** An after-sale part without repeat business, referrals,
  service or account care, worked by roles of its own, leaves every sales-side lead
  column and event bit-for-bit as without it (common random numbers: the after-sale
  draws have streams of their own). The same part worked by the sales role does change
  them, so the check can see a disturbance.
* **Geometric repurchase.** With a constant chance ``p`` of coming back and repeat
  leads that are always won, a customer's purchases are geometric: ``1 / (1 - p)`` on
  average; ``customer_lifetime_value`` is then ``margin x mean deal value / (1 - p)``.
  Customers are all made in the first days of a long horizon, so right-censoring is
  negligible (and checked: every customer has churned at the end).
* **Service queue is M/M/c.** A fixed set of customers (leads only in the first days,
  no repurchase, so nobody churns) with Poisson requests and exponential effort, served
  by ``c`` pooled FIFO reps: once every customer is active the waits are those of an
  M/M/c queue at ``lambda = customers x requests_per_year / 250``. The waits of every
  request also follow the FIFO multi-server recursion exactly on the engine's own times.
* **Satisfaction, chasing, lost promises** are checked exactly (floating-point rounding
  only) against their rules: lateness alone moves satisfaction, a chase at the due date
  with certain success gets the invoice paid as soon as the chase is done, a step that
  confirms needs removes a lost promise's delay entirely.
* **Conservation** on the example scenario (the regional baseline with every after-sale
  mechanism): customers, orders, invoices and work rows account for each other.

Statistical checks follow ``support``: a t interval over replications at confidence
``1 - ALPHA / checks`` per test function, never numbers pinned to a seed.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from numpy.typing import NDArray

import salessim as ss
from salessim.model.leads import REPEAT, WON
from salessim.model.process import Replication
from salessim.model.records import RawReplication
from salessim.results import kpi_row

from .support import assert_covers, base_scenario, erlang_c, fifo_waits, mmc_mean_wait, seed
from .test_deal_mechanisms import HPD, close, fixed

DATA = Path(__file__).resolve().parents[1] / "data" / "after_sale"
PART: dict[str, Any] = yaml.safe_load((DATA / "minimal.yaml").read_text(encoding="utf-8"))
"""The minimal after-sale part: its roles, its team and the ``after_sale`` section."""
EXAMPLE = DATA / "example.yaml"

Table = dict[str, NDArray[Any]]


def with_after_sale(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` with the minimal after-sale part added (roles, team, section); a copy."""
    doc = copy.deepcopy(doc)
    part = copy.deepcopy(PART)
    doc["roles"] += part["roles"]
    doc["teams"] += part["teams"]
    doc["after_sale"] = part["after_sale"]
    return doc


def early_customers(doc: dict[str, Any], until_day: float, per_day: float = 1.0) -> None:
    """Leads arrive at ``per_day`` only before ``until_day``; then the channel is silent."""
    horizon = doc["calendar"]["horizon_days"]
    doc["channels"][0]["leads_per_day"] = per_day
    doc["channels"][0]["schedule"] = {
        "periods": [{"from_day": until_day, "to_day": horizon, "multiplier": 0.0}]}


def after(raw: RawReplication, table: str) -> Table:
    """One after-sale table of a replication."""
    assert raw.after_sale is not None, "the scenario has no after-sale part"
    return raw.after_sale[table]


def activity(sc: ss.Scenario, name: str) -> int:
    """Code of an after-sale activity in the ``work`` table."""
    assert sc.after_sale is not None
    return sc.after_sale.activities().index(name)


def by_case(table: Table, cases: NDArray[np.int64]) -> NDArray[np.int64]:
    """Rows of ``table`` (by its ``case`` column, unique there) of each of ``cases``."""
    order = np.argsort(table["case"])
    at = np.searchsorted(table["case"], cases, sorter=order)
    rows = order[np.minimum(at, len(order) - 1)]
    assert np.array_equal(table["case"][rows], cases), "a case has no row"
    return rows


# ---- the after-sale part does not disturb sales ----------------------------------------

SALES_COLUMNS = ("status", "close_time", "first_start_time", "arrival_time", "deal_value",
                 "lost_stage", "lost_reason")


def sales_doc() -> dict[str, Any]:
    """Two stages, one that loses half its leads, two reps with a queue: sales draws of
    every kind (arrivals, efforts, customer delays, conversion) are used."""
    doc = base_scenario()
    doc["calendar"].update(horizon_days=150.0, drain_limit_days=300.0)
    doc["channels"][0]["leads_per_day"] = 1.5
    doc["teams"][0]["reps"]["rep"]["headcount"] = 2
    work = doc["stages"][0]
    doc["stages"] = [
        {**work, "name": "qualify"},
        {**work, "name": "close", "conversion": {"A": 0.5},
         "customer_delay_days": {"dist": "exponential", "mean": 3.0}},
    ]
    return doc


def busy_after_sale(doc: dict[str, Any]) -> dict[str, Any]:
    """The minimal part with a failing acceptance, lost promises and chasing (draws of
    every after-sale kind but the customers' own), and nothing after delivery."""
    doc = with_after_sale(doc)
    part = doc["after_sale"]
    part["delivery"].update(promise_lost_prob=0.5, promise_lost_days=fixed(5.0))
    part["delivery"]["steps"].append(
        {"name": "acceptance", "role": "delivery", "effort_hours": fixed(2.0),
         "lead_time_days": {"dist": "exponential", "mean": 2.0}, "pass_prob": 0.7,
         "fix_hours": {"dist": "exponential", "mean": 3.0}})
    part["invoicing"]["milestones"] = [{"at": "signature", "share": 0.4},
                                       {"at": "acceptance", "share": 0.6}]
    part["collection"] = {"role": "finance", "effort_hours": fixed(0.5), "every_days": 5.0,
                          "pay_prob": 0.5, "paid_after_days": fixed(2.0)}
    doc["payment"]["payment_days"] = {"dist": "exponential", "mean": 40.0}
    return doc


def sales_side(res: ss.Results) -> list[dict[str, NDArray[Any]]]:
    """Per replication, the sales-side lead columns and every event column."""
    return [{**{f"leads.{c}": raw.leads[c] for c in SALES_COLUMNS},
             **{f"events.{c}": v for c, v in raw.events.items()}} for raw in res.raw]


def test_an_after_sale_part_of_its_own_leaves_sales_untouched() -> None:
    """Same seed, with and without the after-sale part: every sales column and event is
    bit-for-bit equal. Worked by the sales role instead, the same part shifts the sales
    reps' queue, which shows the comparison would see a disturbance."""
    doc = sales_doc()
    runs = {name: sales_side(ss.run(ss.load_scenario(d), replications=3, seed=seed(1)))
            for name, d in (("without", doc), ("with", busy_after_sale(doc)))}
    for r, (without, with_part) in enumerate(zip(runs["without"], runs["with"], strict=True)):
        assert without.keys() == with_part.keys()
        for column, values in without.items():
            assert np.array_equal(values, with_part[column], equal_nan=True), (
                f"replication {r}: {column} differs with an after-sale part")
    shared = busy_after_sale(doc)
    for step in shared["after_sale"]["delivery"]["steps"]:
        step["role"] = "rep"
    disturbed = sales_side(ss.run(ss.load_scenario(shared), replications=1, seed=seed(1)))
    assert not np.array_equal(disturbed[0]["leads.close_time"],
                              runs["without"][0]["leads.close_time"], equal_nan=True)


# ---- geometric repurchase ---------------------------------------------------------------

COME_BACK = 0.6
MARGIN = 0.4
MEAN_VALUE = 1000.0


def repurchase_scenario() -> ss.Scenario:
    """About 100 customers made in the first 20 days; each buying decision 20 days after
    delivery comes back with chance 0.6, as a lead entering the second stage, which every
    lead passes. A cycle (decision, sale, delivery) takes about 26 days, so the 1,000-day
    horizon holds over 35 decisions: a customer still buying then has chance
    0.6^35 ~ 2e-8."""
    doc = base_scenario()
    doc["calendar"].update(horizon_days=1000.0, drain_limit_days=300.0)
    early_customers(doc, until_day=20.0, per_day=5.0)
    doc["teams"][0]["reps"]["rep"]["headcount"] = 3
    work = {**doc["stages"][0], "effort_hours": {"dist": "exponential", "mean": 2.0}}
    doc["stages"] = [{**work, "name": "qualify"}, {**work, "name": "close"}]
    doc["deal_value"] = {"distribution": {"dist": "gamma", "mean": MEAN_VALUE, "sd": 200.0}}
    doc["money"] = {"gross_margin": MARGIN}
    doc = with_after_sale(doc)
    doc["after_sale"]["repurchase"] = {
        "after_days": fixed(20.0), "probability": COME_BACK, "logit_per_point": 0.0,
        "channel": "inbound", "grade": "A", "enter_at": "close", "value_scale": 1.0}
    return ss.load_scenario(doc)


@pytest.fixture(scope="module")
def repurchases() -> ss.Results:
    return ss.run(repurchase_scenario(), replications=40, seed=seed(2))


def test_repeat_leads_enter_at_their_stage_for_their_customer(repurchases: ss.Results
                                                              ) -> None:
    """Repeat leads start at ``enter_at`` and belong to a customer; first leads do not.
    Every customer has churned by the end (no right-censoring of its purchases), after
    exactly as many decisions as it has purchases."""
    close_stage = repurchases.scenario.stage_index("close")
    for raw in repurchases.raw:
        leads, customers = raw.leads, after(raw, "customers")
        repeat = leads["made_by"] == REPEAT
        assert repeat.any()
        assert (leads["entry_stage"][repeat] == close_stage).all()
        assert (leads["entry_stage"][~repeat] == 0).all()
        assert (leads["customer"][repeat] >= 0).all() and (leads["customer"][~repeat] < 0).all()
        assert (leads["status"] == WON).all()
        assert np.isfinite(customers["churned"]).all(), "a customer was still buying"
        decisions = np.bincount(after(raw, "decisions")["customer"],
                                minlength=len(customers["customer"]))
        assert np.array_equal(decisions, customers["purchases"])


def test_purchases_per_customer_are_geometric(repurchases: ss.Results) -> None:
    """Mean purchases per customer = 1 / (1 - p) (a first purchase, then a geometric
    number of returns). Typical relative half-width 5 %."""
    per_rep = [after(raw, "customers")["purchases"].mean() for raw in repurchases.raw]
    assert_covers(per_rep, 1.0 / (1.0 - COME_BACK), "purchases per customer")


def test_customer_lifetime_value_is_margin_times_value_over_churn(repurchases: ss.Results
                                                                  ) -> None:
    """``customer_lifetime_value`` = margin x mean deal value / (1 - p) when repeat deals
    are always won and worth a first deal (value_scale 1). The KPI's ``1 / (1 - p)`` of
    an estimated ``p`` (about 250 decisions a replication) is biased by under 1 %
    (Jensen), far inside the interval's 5 % relative half-width."""
    assert_covers(repurchases.kpis["customer_lifetime_value"],
                  MARGIN * MEAN_VALUE / (1.0 - COME_BACK), "customer lifetime value")


# ---- the service queue is M/M/c ---------------------------------------------------------

SERVICE_REPS = 3
SERVICE_HOURS = 4.0  # mean, exponential: mu = 2 requests per rep and day
SERVICE_MU = HPD / SERVICE_HOURS
REQUESTS_PER_YEAR = 5.0  # with about 200 customers: lambda = 4 a day, load 0.67
SERVICE_HORIZON = 500.0
SETTLED_DAYS = 40.0
"""Days after the last customer became active before waits are measured: eight
relaxation times ``1 / (c mu (1 - sqrt(rho))^2)`` of the queue at load 0.67, and still
three at load 0.8 (a replication with 240 customers)."""
TAIL_DAYS = 10.0
"""Requests raised this close to the end are left out: one still in progress when the
run ends is not recorded."""


def service_scenario() -> ss.Scenario:
    """About 200 customers (40 leads a day for 5 days, all won within a day or two),
    delivered at once (no delivery or invoicing work), then only service requests."""
    doc = base_scenario()
    doc["calendar"].update(horizon_days=SERVICE_HORIZON, drain_limit_days=100.0)
    early_customers(doc, until_day=5.0, per_day=40.0)
    doc["teams"][0]["reps"]["rep"]["headcount"] = 20
    doc["stages"][0]["effort_hours"] = {"dist": "exponential", "mean": 2.0}
    doc = with_after_sale(doc)
    part = doc["after_sale"]
    part["delivery"]["steps"][0].update(effort_hours=fixed(0.0), lead_time_days=fixed(1.0))
    part["invoicing"]["effort_hours"] = fixed(0.0)
    doc["roles"].append({"name": "support", "salary_per_day": 0.0, "assignment": "pooled",
                         "dispatch": "fifo", "non_selling_share": 0.0})
    doc["teams"][-1]["reps"]["support"] = {"headcount": SERVICE_REPS}
    part["service"] = {"role": "support", "requests_per_year": REQUESTS_PER_YEAR,
                       "effort_hours": {"dist": "exponential", "mean": SERVICE_HOURS}}
    return ss.load_scenario(doc)


@dataclass(frozen=True)
class ServiceRun:
    """Per replication, the waits of the service requests measured (raised once every
    customer is active) and their rate (customers x requests per day)."""

    res: ss.Results
    waits: list[NDArray[np.float64]]
    arrival_rates: list[float]


@pytest.fixture(scope="module")
def service() -> ServiceRun:
    sc = service_scenario()
    res = ss.run(sc, replications=40, seed=seed(3))
    code = activity(sc, "service")
    waits, rates = [], []
    for raw in res.raw:
        customers, work = after(raw, "customers"), after(raw, "work")
        assert np.isfinite(customers["active_from"]).all() and np.isnan(
            customers["churned"]).all(), "a customer never became active, or churned"
        lo = customers["active_from"].max() + SETTLED_DAYS
        hi = raw.end_day - TAIL_DAYS
        assert lo < 70.0 and raw.end_day == SERVICE_HORIZON
        mine = (work["activity"] == code) & (work["enable_time"] >= lo) & (
            work["enable_time"] < hi)
        waits.append((work["start_time"] - work["enable_time"])[mine])
        rates.append(len(customers["customer"]) * REQUESTS_PER_YEAR / 250.0)
    return ServiceRun(res, waits, rates)


def test_service_waits_follow_the_fifo_multi_server_recursion(service: ServiceRun) -> None:
    """Given the engine's own request times and efforts, every request's wait is that of
    a FIFO queue with ``c`` servers: no rep idles while a request waits, none overtakes
    another. A request still in progress when the run ends is not recorded, so only the
    requests raised ``TAIL_DAYS`` before the end are compared: FIFO waits depend only on
    earlier requests, and one of those is missing only if waiting and work took it over
    10 days (20 mean efforts; the mean wait is about 0.2 days)."""
    code = activity(service.res.scenario, "service")
    for raw in service.res.raw:
        work = after(raw, "work")
        mine = (work["activity"] == code) & (work["enable_time"] < raw.end_day - TAIL_DAYS)
        order = np.argsort(work["enable_time"][mine], kind="stable")
        enable = work["enable_time"][mine][order]
        start = work["start_time"][mine][order]
        effort = (work["end_time"][mine] - work["start_time"][mine])[order]
        assert close(start - enable, fifo_waits(enable, effort, SERVICE_REPS)), (
            f"replication {raw.replication}: service waits are not FIFO with "
            f"{SERVICE_REPS} reps")


def test_service_work_takes_its_mean_effort(service: ServiceRun) -> None:
    """A request keeps its rep for its effort in days (hours / hours per day): the
    ``mu`` the Erlang C checks use."""
    code = activity(service.res.scenario, "service")
    per_rep = []
    for raw in service.res.raw:
        work = after(raw, "work")
        mine = work["activity"] == code
        per_rep.append(float((work["end_time"] - work["start_time"])[mine].mean()))
    assert_covers(per_rep, SERVICE_HOURS / HPD, "service effort (days)")


def test_mean_service_wait_matches_erlang_c(service: ServiceRun) -> None:
    """Each replication's mean wait minus the M/M/c ``Wq`` of its own number of customers
    (a Poisson number, so the load varies between replications): zero on average. The
    load (0.67 at the expected 200 customers) keeps the per-replication mean close to
    normal. Typical half-width 0.03 days against a ``Wq`` of about 0.2."""
    diff = [float(w.mean()) - mmc_mean_wait(SERVICE_REPS, lam, SERVICE_MU)
            for w, lam in zip(service.waits, service.arrival_rates, strict=True)]
    assert_covers(diff, 0.0, "service wait minus Erlang C Wq (days)")


def test_probability_a_service_request_waits_is_erlang_c(service: ServiceRun) -> None:
    """Each replication's share of requests that waited minus ``C(c, lambda / mu)`` of
    its own number of customers: zero on average. Typical half-width 0.02 against 0.43."""
    diff = [float((w > 0).mean()) - erlang_c(SERVICE_REPS, lam / SERVICE_MU)
            for w, lam in zip(service.waits, service.arrival_rates, strict=True)]
    assert_covers(diff, 0.0, "P(service wait > 0) minus Erlang C")


# ---- satisfaction, chasing, lost promises: exact --------------------------------------

SHORT_HORIZON = 250.0
LEVEL, LATE_PER_DAY, COMPLAINT_BELOW = 7.0, 0.5, 5.0
CHASE_HOURS = 0.5


def never_forgets(doc: dict[str, Any], **satisfaction: float) -> None:
    """Satisfaction that does not return to its level (by 1e-6 of an event's effect over
    these horizons): the score at the horizon is the level plus every event's points,
    kept in [0, 10]. Only the ``satisfaction`` points given move it."""
    doc["after_sale"]["satisfaction"] = {"level": LEVEL, "memory_days": 1e9,
                                         "complaint_below": COMPLAINT_BELOW, **satisfaction}


def short_orders_doc() -> dict[str, Any]:
    """About 100 leads in the first 100 days of a 250-day horizon, every one won quickly
    (two reps, 4 hours each), with the minimal after-sale part."""
    doc = base_scenario()
    doc["calendar"].update(horizon_days=SHORT_HORIZON, drain_limit_days=400.0)
    early_customers(doc, until_day=100.0)
    doc["teams"][0]["reps"]["rep"]["headcount"] = 2
    doc["stages"][0]["effort_hours"] = {"dist": "exponential", "mean": 4.0}
    return with_after_sale(doc)



def test_satisfaction_is_level_minus_lateness_and_complaints_follow() -> None:
    """With an effectively infinite memory and lateness the only event, a customer's
    score at the horizon is ``clip(level - late_per_day x days late, 0, 10)``; it
    complained iff it was late and that score is below ``complaint_below``. The KPIs
    on-time rate, complaint rate and mean satisfaction are those shares and that mean.
    Promised 10 days, delivered after 1 day of work and an exponential 8-day lead time:
    some orders are on time, some late, some past the floor of 0."""
    doc = short_orders_doc()
    never_forgets(doc, late_per_day=LATE_PER_DAY)
    doc["after_sale"]["delivery"].update(promised_days=fixed(10.0))
    doc["after_sale"]["delivery"]["steps"][0].update(
        effort_hours={"dist": "exponential", "mean": 8.0},
        lead_time_days={"dist": "exponential", "mean": 8.0})
    res = ss.run(ss.load_scenario(doc), replications=3, seed=seed(4))
    for raw, kpis in zip(res.raw, res.kpis.to_dict("records"), strict=True):
        orders, customers = after(raw, "orders"), after(raw, "customers")
        assert len(orders["case"]) == len(customers["customer"]), "a customer bought twice"
        assert (orders["delivered"] < raw.end_day).all()
        assert (orders["delivered"] < SHORT_HORIZON).all(), "delivered after the horizon"
        rows = by_case(orders, customers["origin"])
        late = np.maximum(0.0, orders["delivered"][rows] - orders["due"][rows])
        assert (late > 0).any() and (late == 0).any() and (late > LEVEL / LATE_PER_DAY).any()
        expected = np.clip(LEVEL - LATE_PER_DAY * late, 0.0, 10.0)
        assert np.allclose(customers["satisfaction"], expected, rtol=0, atol=1e-5)
        complained = (late > 0) & (expected < COMPLAINT_BELOW)
        assert np.array_equal(customers["complaints"], complained.astype(np.int64))
        assert np.array_equal(orders["complaints"][rows], complained.astype(np.int64))
        assert kpis["satisfaction_mean"] == pytest.approx(expected.mean(), abs=1e-5)
        assert kpis["complaint_rate"] == pytest.approx(complained.mean())
        assert kpis["on_time_delivery_rate"] == pytest.approx((late == 0).mean())



def test_commission_on_satisfaction_is_the_rate_times_delivered_bookings_times_the_score(
        ) -> None:
    """Lateness the only event, never forgotten: each order's score just after delivery is
    ``clip(level - late_per_day x days late, 0, 10)``, and commission on satisfaction is
    the rate times the price of every deal delivered in the window times that over 10."""
    rate = 0.04
    doc = short_orders_doc()
    never_forgets(doc, late_per_day=LATE_PER_DAY)
    doc["after_sale"]["delivery"].update(promised_days=fixed(10.0))
    doc["after_sale"]["delivery"]["steps"][0].update(
        lead_time_days={"dist": "exponential", "mean": 8.0})
    doc["management"] = {"commission": [{"role": "rep", "on": "satisfaction", "rate": rate}]}
    res = ss.run(ss.load_scenario(doc), replications=3, seed=seed(7), progress=False)
    cal = res.scenario.calendar
    for raw, pay in zip(res.raw, res.kpis["variable_pay"], strict=True):
        orders = after(raw, "orders")
        late = np.maximum(0.0, orders["delivered"] - orders["due"])
        assert (late > 0).any() and (late == 0).any()
        score = np.clip(LEVEL - LATE_PER_DAY * late, 0.0, 10.0)
        assert np.allclose(orders["satisfaction"], score, rtol=0, atol=1e-5)
        inside = (orders["delivered"] >= cal.warmup_days) & (
            orders["delivered"] < cal.horizon_days)
        price = raw.leads["deal_value"][orders["case"]]
        expected = rate * float((price * orders["satisfaction"] / 10.0)[inside].sum())
        assert expected > 0 and pay == pytest.approx(expected, rel=1e-12)


def test_account_care_by_a_capped_owner_role_waits_for_no_book() -> None:
    """Account executives with a book of one, who work no sales stage and visit every
    customer every 5 days (an hour each): many visits fall due together, but a visit is
    work for a customer, not an open deal, so no lead ever waits for room in a book."""
    doc = short_orders_doc()
    doc["roles"].append({"name": "ae", "salary_per_day": 0.0, "assignment": "owner",
                         "max_open_deals": 1})
    doc["teams"].append({"name": "accounts", "reps": {"ae": {"headcount": 2}}})
    doc["after_sale"]["account_care"] = {"role": "ae", "every_days": 5.0,
                                         "effort_hours": fixed(1.0)}
    sc = ss.load_scenario(doc)
    raw = Replication(sc, seed(8), 0).run()
    visits = after(raw, "work")["activity"] == activity(sc, "account_care")
    assert visits.sum() > 100
    assert not raw.leads["waited_for_book"].any()
    assert kpi_row(sc, raw)["full_book_share"] == 0.0


def test_a_certain_chase_at_the_due_date_gets_the_invoice_paid_when_done() -> None:
    """Customers would pay 200 days after the invoice; a chase on the due date that
    always succeeds, paid at once, gets each invoice paid when the chase's work ends:
    one chase each, paid at least the chase's own work after the due date and within a
    day (three finance reps, a handful of invoices a day), never within terms."""
    doc = short_orders_doc()
    doc["payment"].update(payment_days=fixed(200.0), bad_debt_prob=0.0)
    doc["teams"][-1]["reps"]["finance"]["headcount"] = 3
    doc["after_sale"]["collection"] = {
        "role": "finance", "effort_hours": fixed(CHASE_HOURS), "first_chase_days": 0.0,
        "every_days": 5.0, "pay_prob": 1.0, "paid_after_days": fixed(0.0)}
    sc = ss.load_scenario(doc)
    res = ss.run(sc, replications=3, seed=seed(5))
    chase = activity(sc, "collection")
    for raw, kpis in zip(res.raw, res.kpis.to_dict("records"), strict=True):
        inv, work = after(raw, "invoices"), after(raw, "work")
        assert len(inv["case"]) == (raw.leads["status"] == WON).sum()
        assert (inv["chases"] == 1).all()
        assert np.isnan(inv["written_off"]).all()
        late = inv["paid"] - inv["due"]
        assert (late >= CHASE_HOURS / HPD - 1e-9).all() and (late < 1.0).all()
        chases = {k: work[k][work["activity"] == chase] for k in work}
        rows = by_case(chases, inv["case"])
        assert close(chases["enable_time"][rows], inv["due"])
        assert close(chases["end_time"][rows], inv["paid"])
        assert kpis["collected_within_terms_rate"] == 0.0


@pytest.mark.parametrize("chase", [True, False], ids=["reps_chase", "finance_chases"])
def test_reps_paid_on_collection_chase_overdue_invoices_on_their_own_schedule(
        chase: bool) -> None:
    """With ``chase_payments`` every reminder is a rep's, at the due date plus 2 days and
    every 3 days after; without it finance chases, at the due date and every 5 days."""
    doc = busy_after_sale(sales_doc())
    doc["management"] = {"commission": [{"role": "rep", "on": "collected", "rate": 0.05}]}
    if chase:
        doc["management"]["behaviour"] = {"chase_payments": {"first_chase_days": 2.0,
                                                             "every_days": 3.0}}
    first, every, role = (2.0, 3.0, "rep") if chase else (0.0, 5.0, "finance")
    sc = ss.load_scenario(doc)
    raw = Replication(sc, seed(6), 0).run()
    inv, work = after(raw, "invoices"), after(raw, "work")
    chases = work["activity"] == activity(sc, "collection")
    assert chases.sum() > 20
    assert {raw.rep_role[r] for r in work["resource"][chases]} == {role}
    for case, n, enable in zip(work["case"][chases], work["attempt"][chases],
                               work["enable_time"][chases], strict=True):
        # The n-th reminder of one of the case's invoices (the table does not say which).
        due = inv["due"][inv["case"] == case]
        assert np.isclose(due + first + (n - 1) * every, enable, rtol=0, atol=1e-9).any(), (
            case, n, enable, due)


def test_a_step_confirming_needs_removes_a_lost_promise_delay() -> None:
    """Every promise is lost in the handoff (probability 1). With a first step that
    confirms needs, each loss is caught: delivery days and satisfaction are exactly as
    with no loss at all. Without it, none is caught: every order is delivered exactly
    ``promise_lost_days`` later (the extra days hold no rep, so the delivery queue is the
    same) and its customer loses the ``promise_lost`` points. Same seed throughout."""
    base = short_orders_doc()
    never_forgets(base, promise_lost=2.0)
    delivery = base["after_sale"]["delivery"]
    delivery["steps"].insert(0, {"name": "kickoff", "role": "delivery",
                                 "effort_hours": fixed(1.0), "lead_time_days": fixed(0.0),
                                 "confirms_needs": True})

    def variant(lost: float, confirms: bool) -> ss.Results:
        doc = copy.deepcopy(base)
        doc["after_sale"]["delivery"].update(promise_lost_prob=lost,
                                             promise_lost_days=fixed(10.0))
        doc["after_sale"]["delivery"]["steps"][0]["confirms_needs"] = confirms
        return ss.run(ss.load_scenario(doc), replications=2, seed=seed(6))

    runs = {"none lost": variant(0.0, True), "caught": variant(1.0, True),
            "not caught": variant(1.0, False)}
    for r in range(2):
        orders = {k: after(v.raw[r], "orders") for k, v in runs.items()}
        scores = {k: after(v.raw[r], "customers")["satisfaction"] for k, v in runs.items()}
        reference = orders["none lost"]
        assert not reference["promise_lost"].any()
        assert (reference["delivered"] < SHORT_HORIZON - 10.0).all()
        for name, shift, points, caught in (("caught", 0.0, 0.0, True),
                                            ("not caught", 10.0, 2.0, False)):
            o = orders[name]
            assert np.array_equal(o["case"], reference["case"])
            assert o["promise_lost"].all(), name
            assert (o["caught"] == caught).all(), name
            assert close(o["delivered"], reference["delivered"] + shift), name
            assert np.allclose(scores[name], LEVEL - points, rtol=0, atol=1e-5), name
        assert np.allclose(scores["none lost"], LEVEL, rtol=0, atol=1e-5)


# ---- conservation on the example scenario -----------------------------------------------


@pytest.mark.slow
def test_customers_orders_invoices_and_work_account_for_each_other() -> None:
    """On the example (the regional baseline with every after-sale mechanism), two
    replications: customers churn only once active and once per "no" decision; each
    won lead has one order; a delivered order's invoices add up to its deal value; an
    invoice is paid, written off or open, never two of these, and open only if the
    run stopped at the drain limit; nothing is paid before it is invoiced, a bad debt is
    never paid; work starts after it is enabled and ends after it starts."""
    sc = ss.load_scenario(EXAMPLE)
    assert sc.after_sale is not None
    cal = sc.calendar
    terms, write_off = sc.after_sale.invoicing.terms_days, sc.after_sale.invoicing.write_off_days
    milestones = len(sc.after_sale.invoicing.milestones)
    res = ss.run(sc, replications=2, seed=seed(7))
    for raw in res.raw:
        c, o, inv, w = (after(raw, t) for t in ("customers", "orders", "invoices", "work"))
        leads, d = raw.leads, after(raw, "decisions")

        first = o["delivered"][by_case(o, c["origin"])]
        active = first < cal.horizon_days
        assert close(c["active_from"][active], first[active])
        assert np.isnan(c["active_from"][~active]).all()
        assert (c["since"] == leads["close_time"][c["origin"]]).all()
        churned = np.isfinite(c["churned"])
        assert churned.any() and (~churned).any()
        assert (c["active_from"][churned] <= c["churned"][churned]).all()
        refusals = np.bincount(d["customer"][~d["came_back"]], minlength=len(c["customer"]))
        assert np.array_equal(refusals, churned.astype(np.int64))

        won = np.flatnonzero(leads["status"] == WON)
        assert np.array_equal(np.sort(o["case"]), won)
        assert np.array_equal(c["purchases"], np.bincount(o["customer"],
                                                          minlength=len(c["customer"])))
        assert np.array_equal(leads["customer"][won] >= 0, leads["made_by"][won] == REPEAT)

        billed = np.bincount(inv["case"], weights=inv["amount"], minlength=len(leads["case"]))
        count = np.bincount(inv["case"], minlength=len(leads["case"]))
        delivered = o["case"][np.isfinite(o["delivered"])]
        assert np.isclose(billed[delivered], leads["deal_value"][delivered]).all()
        assert (count[delivered] == milestones).all()
        assert (billed[o["case"]] <= leads["deal_value"][o["case"]] * (1 + 1e-12)).all()

        paid, off = np.isfinite(inv["paid"]), np.isfinite(inv["written_off"])
        assert not (paid & off).any()
        if (~paid & ~off & leads["cohort"][inv["case"]]).any():  # the run waits for these
            assert raw.end_day == pytest.approx(cal.horizon_days + cal.drain_limit_days)
        issued = np.isfinite(inv["issued"])
        assert issued[paid | off].all()
        assert (inv["paid"][paid] >= inv["issued"][paid]).all()
        assert (inv["issued"][issued] >= leads["close_time"][inv["case"][issued]]).all()
        assert close(inv["due"][issued], inv["issued"][issued] + terms)
        assert (inv["written_off"][off] >= inv["due"][off] + write_off - 1e-9).all()
        bad = o["bad_debt"][by_case(o, inv["case"])]
        assert not (bad & paid).any()

        assert (w["start_time"] >= w["enable_time"]).all()
        assert (w["end_time"] >= w["start_time"]).all()


# ---- rounds: pausing a run with leads made during it -----------------------------------

def rounds_scenario() -> ss.Scenario:
    """Leads arrive for 200 days while customers already bring repeat leads (decisions
    20 days after delivery), so a pause on day 100 has drawn leads still to come and
    leads made during the run already there."""
    doc = copy.deepcopy(repurchase_scenario().to_document())
    doc["calendar"].update(horizon_days=300.0, warmup_days=50.0)
    early_customers(doc, until_day=200.0, per_day=1.0)
    return ss.load_scenario(doc)


def test_a_run_paused_midway_numbers_its_cases_and_resumes_exactly() -> None:
    """Collecting on day 100 renumbers leads made during the run after the arrived drawn
    ones, every table pointing at its lead; a paused run ends as the run in one go; and
    the after-sale KPIs of a pause where the window starts are NaN, not an error."""
    sc = rounds_scenario()
    whole = Replication(sc, seed(5), 0).run()
    paused = Replication(sc, seed(5), 0)
    paused.start()
    paused.advance(sc.calendar.warmup_days)
    at_start = kpi_row(sc, paused.collect())
    assert np.isnan(at_start["days_sales_outstanding"])
    paused.advance(100.0)
    mid = paused.collect()
    leads = mid.leads
    n = len(leads["case"])
    made = leads["made_by"] == REPEAT
    assert made.any() and (leads["arrival_time"][~made] <= 100.0).all()
    assert n < len(whole.leads["case"])
    assert np.array_equal(leads["case"], np.arange(n))
    assert (mid.events["case"] < n).all()
    orders = after(mid, "orders")
    assert (leads["status"][orders["case"]] == WON).all()
    assert (after(mid, "customers")["origin"] < n).all()
    repeats = leads["customer"][made]
    assert (repeats < len(after(mid, "customers")["customer"])).all()
    paused.advance(math.inf)
    end = paused.collect()
    for name, column in whole.leads.items():
        assert np.array_equal(column, end.leads[name], equal_nan=True), name
    for table, columns in (whole.after_sale or {}).items():
        for name, column in columns.items():
            assert np.array_equal(column, after(end, table)[name], equal_nan=True), (table, name)


def test_reps_and_teams_count_after_sale_tasks() -> None:
    """A rep's tasks are its sales activities and its after-sale work, row for row."""
    sc = rounds_scenario()
    res = ss.run(sc, replications=1, seed=seed(6))
    raw = res.raw[0]
    work = after(raw, "work")
    sales = raw.events["resource"][raw.events["resource"] >= 0]
    expected = (np.bincount(sales, minlength=len(raw.rep_team))
                + np.bincount(work["resource"], minlength=len(raw.rep_team)))
    assert len(work["resource"]) > 0
    assert np.array_equal(res.reps()["tasks"].to_numpy(), expected)
    assert res.teams()["tasks"].sum() == expected.sum()
