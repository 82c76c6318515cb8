"""Deal-dependent parameters, rep books, non-selling time and rep spread against theory.

Each mechanism of ``salessim.scenario.adjustments``, ``Role.max_open_deals``,
``Role.non_selling_share`` and the skill and effort spreads acts alone on a minimal
scenario (``support.base_scenario``):

* **Adjusted funnel.** With reps so many that no lead waits, no going cold and no
  handoff, a lead of segment ``g`` runs through an absorbing Markov chain on the stages
  whose pass probabilities are ``p_g = logistic(logit(p0) + d_g)`` (``d_g`` the
  segment's ``conversion_logit``) and whose rework and nurture shares are the segment's
  replacements. With ``N = (I - Q)^-1`` and ``h = N r`` (``r``: the probability of
  being won from each stage in one step), ``P(won) = h_0``, the expected attempts at
  stage ``j`` are ``N_0j``, and, with fixed efforts and delays (stage time ``t_j`` =
  scaled effort + scaled customer delay, nurture delay ``D``), the mean cycle time of
  the won leads is ``E[T | won] = sum_j N_0j h_j (t_j + q_j D) / h_0`` where ``q_j``
  is the probability that an attempt at ``j`` goes to nurture (strong Markov property:
  a lead at ``j`` is won with ``h_j`` whatever came before). Leads are independent, so
  per replication the segment's won share and mean cycle time are unbiased: t
  intervals.
* **Scales act on the draws.** A scale multiplies the lead's own draw (the same
  uniform): with the same seed and reps that never queue, every attempt of an adjusted
  lead takes exactly ``k`` times the effort (customer delay, handoff delay) of the
  unadjusted run, a replacing probability keeps the uniform (information lost at 0.2
  is lost at 0.5 too), and the other segment's attempts are identical.
* **Payment.** A replaced bad-debt probability is each segment's unpaid share of won
  deals (t intervals); under common random numbers an unpaid deal stays unpaid when the
  probability rises, and a paid one's delay is ``invoice_scale * invoice +
  payment_scale * terms`` of the unadjusted draws.
* **Books as queues.** With one stage, no customer delay and ``max_open_deals: 1`` a
  lead holds its rep's book exactly while it is served, so the reps form an M/M/c FIFO
  queue: the waits are those of the Kiefer-Wolfowitz recursion (``support.fifo_waits``),
  a lead waits iff it found every book full, ``full_book_share`` is the Erlang C
  probability ``C(c, a)``, and a rep's open deals are its busy time. With no effort, a
  customer delay of any law and a cold limit of almost nothing, a lead holds one of
  ``c K`` book places for its customer delay and is lost when none is free: an Erlang
  loss system, ``full_book_share = B(cK, a)`` (insensitive to the delay's law) and the
  mean book ``a (1 - B) / c`` (Little). The blocked leads of a loss system with more
  places are a subset of those with fewer (the larger system always holds the smaller's
  leads plus at most one), so raising the cap can only shrink the set of leads that
  waited for a book, replication by replication.
* **Non-selling share** ``s``: every task's effort takes ``1 / (1 - s)`` times as long,
  travel does not, so utilisation of a role without visits scales by exactly
  ``1 / (1 - s)`` (same seed, same leads, same tasks), of a role with visits by
  ``(e / (1 - s) + t) / (e + t)``.
* **Skill and effort spread.** Each rep draws skill ``sd Z`` and effort factor
  ``exp(sigma Z' - sigma^2 / 2)``; an attempt by a rep of skill ``x`` passes with
  ``logistic(logit(p0) + x)`` (exact Bernoulli-sum check given the drawn skills), the
  conversion over fresh reps in each replication has mean
  ``E[logistic(logit(p0) + sd Z)]`` (Gauss-Hermite quadrature; t interval), the skills
  and log effort factors are normal with sd ``sd`` and ``sigma`` (chi-square
  intervals), the factors have mean 1 (t interval), and a task lasts its effort times
  the rep's factor over ``1 - s``. Adding a rep leaves the others' draws as they were.
* **Deal-size bands.** A lead is in the band with the highest lower bound not above its
  (multiplied) deal value, and gets that band's adjustments: exact, per lead.

Every statistical check holds its test function's false-failure probability at
``ALPHA`` (Bonferroni within the function); the exact checks compare floating-point
numbers to 1e-9 relative.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from numpy.typing import ArrayLike
from scipy import stats

import salessim as ss
from salessim.model.records import ADVANCED

from .support import (
    ALPHA,
    absorbing_chain,
    assert_covers,
    base_scenario,
    erlang_c,
    fifo_waits,
    seed,
)
from .test_mechanisms import assert_bernoulli_sum, logistic, logit

HPD = 8.0
"""Hours per day of ``base_scenario``."""
RTOL, ATOL = 1e-9, 1e-12
"""Tolerance of the exact checks (floating-point rounding only)."""


def close(actual: ArrayLike, expected: ArrayLike) -> bool:
    """Whether two arrays agree up to floating-point rounding."""
    return bool(np.allclose(np.asarray(actual, dtype=float), np.asarray(expected, dtype=float),
                            rtol=RTOL, atol=ATOL))


def fixed(value: float) -> dict[str, Any]:
    return {"dist": "fixed", "value": value}


def two_segments(doc: dict[str, Any], enterprise: float) -> None:
    doc["segments"] = ["smb", "enterprise"]
    doc["channels"][0]["mix"]["segment"] = {"smb": 1.0 - enterprise, "enterprise": enterprise}


def effort(ev: pd.DataFrame) -> np.ndarray:
    return (ev["end_time"] - ev["start_time"]).to_numpy(dtype=float)


def assert_no_waits(res: ss.Results) -> None:
    ev = res.events
    assert (ev["start_time"] == ev["enable_time"]).all(), "a lead waited for a rep"


def per_replication(res: ss.Results) -> list[ss.Results]:
    """One ``Results`` per replication, to take a table's value in each."""
    return [ss.Results(res.scenario, res.seed, [raw]) for raw in res.raw]


def erlang_b(servers: int, offered_load: float) -> float:
    """Blocking probability of the Erlang loss system M/G/c/c (the stable recursion)."""
    b = 1.0
    for k in range(1, servers + 1):
        b = offered_load * b / (k + offered_load * b)
    return b


# ---- an adjusted funnel against its Markov chain -------------------------------------

ENTERPRISE_SHARE = 0.4
NURTURE_DAYS = 4.0
# name, effort (hours), customer delay (days), p0, failure, enterprise adjustment
FUNNEL: list[tuple[str, float, float, float, dict[str, Any], dict[str, Any]]] = [
    ("qualify", 1.0, 0.5, 0.7,
     {"nurture_share": 0.3, "nurture_days": fixed(NURTURE_DAYS)},
     {"conversion_logit": -0.5, "nurture_share": 0.6, "customer_delay_scale": 2.0}),
    ("propose", 3.0, 2.0, 0.6,
     {"rework_share": 0.25, "rework_to": "qualify"},
     {"conversion_logit": -0.6, "rework_share": 0.7, "effort_scale": 2.5,
      "customer_delay_scale": 3.0}),
    ("close", 2.0, 1.0, 0.8,
     {"rework_share": 0.5, "rework_to": "propose"},
     {"conversion_logit": -1.0}),
]
STAGE_NAMES = [f[0] for f in FUNNEL]


def funnel_theory(segment: str) -> tuple[float, np.ndarray, float]:
    """P(won), expected attempts per stage and E[cycle time | won] of a segment's lead."""
    adjusted = segment == "enterprise"
    p, rework, to, nurture, times = [], [], [], [], []
    for name, hours, delay, p0, failure, adj in FUNNEL:
        a = adj if adjusted else {}
        p.append(float(logistic(logit(p0) + a.get("conversion_logit", 0.0))))
        rework.append(a.get("rework_share", failure.get("rework_share", 0.0)))
        to.append(STAGE_NAMES.index(failure.get("rework_to", name)))
        nurture.append(a.get("nurture_share", failure.get("nurture_share", 0.0)))
        times.append(hours * a.get("effort_scale", 1.0) / HPD
                     + delay * a.get("customer_delay_scale", 1.0))
    visits_from, won, _ = absorbing_chain(p, rework, to, nurture)
    last = len(FUNNEL) - 1
    h = visits_from[:, last] * p[last]  # P(won) from each stage
    assert h[0] == pytest.approx(won)
    q_nurture = (1 - np.array(p)) * np.array(nurture)
    per_visit = np.array(times) + q_nurture * NURTURE_DAYS
    cycle = float(visits_from[0] @ (h * per_visit)) / won
    return won, visits_from[0], cycle


def funnel_scenario() -> dict[str, Any]:
    doc = base_scenario()
    doc["calendar"].update(horizon_days=100.0, drain_limit_days=500.0)
    two_segments(doc, ENTERPRISE_SHARE)
    doc["channels"][0]["leads_per_day"] = 10.0
    doc["teams"][0]["reps"]["rep"]["headcount"] = 60  # about 12 busy on average
    doc["stages"] = [
        {"name": name, "role": "rep", "effort_hours": fixed(hours),
         "customer_delay_days": fixed(delay), "conversion": {"A": p0}, "failure": failure,
         "adjust": {"segment": {"enterprise": adj}}}
        for name, hours, delay, p0, failure, adj in FUNNEL]
    return doc


@pytest.mark.slow
def test_adjusted_funnel_matches_each_segments_markov_chain() -> None:
    res = ss.run(funnel_scenario(), replications=20, seed=seed(501))
    assert_no_waits(res)
    assert (res.kpis["open"] == 0).all()
    by_segment = res.breakdown_kpis("segment")
    ev = res.events[res.events["cohort"]]
    checks = 2 * (2 + len(FUNNEL))
    theory = {s: funnel_theory(s) for s in ("smb", "enterprise")}
    assert abs(theory["smb"][0] - theory["enterprise"][0]) > 0.05  # segments differ
    for segment, (won, visits, cycle) in theory.items():
        kpis = by_segment.xs(segment, level="segment")
        assert_covers(kpis["conversion_rate"], won, f"{segment}: won share", checks)
        assert_covers(kpis["cycle_time_mean_days"], cycle,
                      f"{segment}: mean cycle time of won leads (days)", checks)
        mine = ev[ev["segment"] == segment]
        counts = mine.groupby(["replication", "activity"]).size().unstack(fill_value=0)
        for j, stage in enumerate(STAGE_NAMES):
            assert_covers(counts[stage] / kpis["leads"], visits[j],
                          f"{segment}: attempts per lead at {stage}", checks)
    # Fixed efforts and delays: each attempt takes exactly its scaled time.
    for name, hours, delay, _, _, adj in FUNNEL:
        at = ev[ev["activity"] == name]
        scale = np.where(at["segment"] == "enterprise", adj.get("effort_scale", 1.0), 1.0)
        assert close(effort(at), hours / HPD * scale)
        scale = np.where(at["segment"] == "enterprise",
                         adj.get("customer_delay_scale", 1.0), 1.0)
        assert close(at["decision_time"] - at["end_time"], delay * scale)


# ---- scales and replacements act on the lead's own draws -------------------------------

SALES_ADJUST = {"effort_scale": 1.7, "customer_delay_scale": 0.6}
CLOSE_ADJUST = {"effort_scale": 3.0}
HANDOFF_ADJUST = {"delay_scale": 2.0, "info_loss_prob": 0.5}
KEYS = ["replication", "case_id", "activity", "attempt", "part"]


def crn_scenario(adjusted: bool) -> dict[str, Any]:
    doc = base_scenario()
    doc["calendar"].update(horizon_days=60.0)
    two_segments(doc, 0.5)
    doc["channels"][0]["leads_per_day"] = 6.0
    doc["roles"] = [{"name": "sdr", "salary_per_day": 0.0},
                    {"name": "ae", "salary_per_day": 0.0}]
    doc["teams"][0]["reps"] = {"sdr": {"headcount": 40}, "ae": {"headcount": 40}}
    doc["stages"] = [
        {"name": "qualify", "role": "sdr",
         "effort_hours": {"dist": "exponential", "mean": 2.0},
         "customer_delay_days": {"dist": "uniform", "low": 0.5, "high": 3.0},
         "conversion": {"A": 0.7}},
        {"name": "close", "role": "ae",
         "effort_hours": {"dist": "gamma", "mean": 3.0, "sd": 2.0},
         "customer_delay_days": {"dist": "exponential", "mean": 2.0},
         "conversion": {"A": 0.5},
         "failure": {"rework_share": 0.4, "rework_to": "qualify"}},
    ]
    # Information loss with no effect on conversion: the paths of both runs stay alike.
    doc["handoff"] = {"delay_days": {"dist": "exponential", "mean": 1.0},
                      "info_loss_prob": 0.2, "info_loss_logit": 0.0}
    if adjusted:
        doc["stages"][0]["adjust"] = {"segment": {"enterprise": SALES_ADJUST}}
        doc["stages"][1]["adjust"] = {"segment": {"enterprise": CLOSE_ADJUST}}
        doc["handoff"]["adjust"] = {"segment": {"enterprise": HANDOFF_ADJUST}}
    return doc


def test_scales_multiply_the_leads_own_draws() -> None:
    base = ss.run(crn_scenario(False), replications=4, seed=seed(502))
    adj = ss.run(crn_scenario(True), replications=4, seed=seed(502))
    assert_no_waits(base)
    assert_no_waits(adj)
    pair = base.events.merge(adj.events, on=KEYS, suffixes=("_0", "_1"), validate="1:1",
                             how="outer", indicator=True)
    assert (pair["_merge"] == "both").all(), "the runs' attempts differ"
    assert (pair["outcome_0"] == pair["outcome_1"]).all()
    assert (pair["segment_0"] == pair["segment_1"]).all()
    assert pair["attempt"].max() > 0  # rework: later attempts' draws are covered too

    smb = pair[pair["segment_0"] == "smb"]
    for col in ("enable_time", "start_time", "end_time", "decision_time", "handoff_days",
                "info_lost"):
        np.testing.assert_array_equal(smb[f"{col}_0"], smb[f"{col}_1"], err_msg=col)

    ent = pair[pair["segment_0"] == "enterprise"]
    for stage, adjust in (("qualify", SALES_ADJUST), ("close", CLOSE_ADJUST)):
        at = ent[ent["activity"] == stage]
        work = [(at[f"end_time_{k}"] - at[f"start_time_{k}"]).to_numpy() for k in "01"]
        assert close(work[1], adjust["effort_scale"] * work[0]), stage
        delay = [(at[f"decision_time_{k}"] - at[f"end_time_{k}"]).to_numpy() for k in "01"]
        assert close(delay[1], adjust.get("customer_delay_scale", 1.0) * delay[0]), stage
    moved = ent[ent["handoff_days_0"] > 0]
    assert len(moved) > 200
    assert close(moved["handoff_days_1"], HANDOFF_ADJUST["delay_scale"] * moved["handoff_days_0"])
    lost_0, lost_1 = moved["info_lost_0"].astype(bool), moved["info_lost_1"].astype(bool)
    assert not (lost_0 & ~lost_1).any(), "information lost at 0.2 but kept at 0.5"
    assert (lost_1 & ~lost_0).sum() > 20  # the higher probability loses more


# ---- payment ------------------------------------------------------------------------

INVOICE_DAYS = 5.0
PAYMENT_ADJUST = {"bad_debt_prob": 0.35, "payment_days_scale": 1.5, "invoice_delay_scale": 2.0}


def payment_scenario(adjusted: bool) -> dict[str, Any]:
    doc = base_scenario()
    doc["calendar"].update(horizon_days=100.0)
    two_segments(doc, 0.4)
    doc["channels"][0]["leads_per_day"] = 5.0
    doc["teams"][0]["reps"]["rep"]["headcount"] = 20
    doc["payment"] = {"invoice_delay_days": fixed(INVOICE_DAYS),
                      "payment_days": {"dist": "uniform", "low": 10.0, "high": 40.0},
                      "bad_debt_prob": 0.1}
    if adjusted:
        doc["payment"]["adjust"] = {"segment": {"enterprise": PAYMENT_ADJUST}}
    return doc


def test_payment_adjustments_replace_bad_debt_and_scale_the_delays() -> None:
    base = ss.run(payment_scenario(False), replications=20, seed=seed(503))
    adj = ss.run(payment_scenario(True), replications=20, seed=seed(503))
    won = adj.leads[adj.leads["cohort"] & (adj.leads["status"] == "won")]
    unpaid = won["payment_days"].isna()
    for segment, prob in (("smb", 0.1), ("enterprise", PAYMENT_ADJUST["bad_debt_prob"])):
        mine = won["segment"] == segment
        assert_covers(unpaid[mine].groupby(won["replication"][mine]).mean(), prob,
                      f"{segment}: share of won deals never paid", checks=2)

    pair = base.leads.merge(adj.leads, on=["replication", "case_id"], validate="1:1",
                            suffixes=("_0", "_1"))
    assert (pair["status_0"] == pair["status_1"]).all()
    pair = pair[pair["status_0"] == "won"]
    smb, ent = pair[pair["segment_0"] == "smb"], pair[pair["segment_0"] == "enterprise"]
    np.testing.assert_array_equal(smb["payment_days_0"], smb["payment_days_1"])
    unpaid_0, unpaid_1 = ent["payment_days_0"].isna(), ent["payment_days_1"].isna()
    assert not (unpaid_0 & ~unpaid_1).any(), "a bad debt at 0.1 was paid at 0.35"
    paid = ent[~unpaid_1]
    expected = (PAYMENT_ADJUST["invoice_delay_scale"] * INVOICE_DAYS
                + PAYMENT_ADJUST["payment_days_scale"] * (paid["payment_days_0"] - INVOICE_DAYS))
    assert len(paid) > 1000
    assert close(paid["payment_days_1"], expected)


# ---- rep books -------------------------------------------------------------------------


def book_scenario(reps: int, arrival: float) -> dict[str, Any]:
    doc = base_scenario()
    doc["calendar"].update(horizon_days=330.0, warmup_days=30.0)
    doc["channels"][0]["leads_per_day"] = arrival
    doc["roles"][0].update(assignment="owner", max_open_deals=1)
    doc["teams"][0]["reps"]["rep"]["headcount"] = reps
    return doc


@pytest.mark.slow
def test_books_of_one_deal_are_an_mmc_fifo_queue() -> None:
    servers, arrival = 3, 2.4  # exponential effort of one day: a = 2.4 Erlangs
    res = ss.run(book_scenario(servers, arrival), replications=30, seed=seed(504))
    expected = erlang_c(servers, arrival)
    assert 0.3 < expected < 0.9
    assert_covers(res.kpis["full_book_share"], expected, "M/M/3 share waiting for a book",
                  checks=3)
    assert_covers([t.teams()["open_deals_mean"].iloc[0] for t in per_replication(res)],
                  arrival / servers, "mean open deals per rep (= rho)", checks=3)
    assert_covers(res.kpis["utilisation_rep"], arrival / servers, "utilisation", checks=3)
    for raw, table in zip(res.raw, per_replication(res), strict=True):
        ev = table.events.sort_values("case_id")
        assert (ev["case_id"].to_numpy() == raw.leads["case"]).all()  # one attempt each
        wait = (ev["start_time"] - ev["enable_time"]).to_numpy()
        # The waits are those of the FIFO multi-server recursion, exactly ...
        theory = fifo_waits(ev["enable_time"], effort(ev), servers)
        np.testing.assert_allclose(wait, theory, rtol=1e-9, atol=1e-9)
        # ... a lead waited iff it found every book full ...
        np.testing.assert_array_equal(wait > 0, raw.leads["waited_for_book"])
        # ... and a rep's book holds its lead exactly while it works on it.
        assert table.teams()["open_deals_mean"].iloc[0] == pytest.approx(
            table.kpis["utilisation_rep"].iloc[0], rel=1e-9)


LOSS_REPS, LOSS_ARRIVAL, LOSS_HOLD = 2, 1.5, 4.0
LOSS_CAPS = (1, 2, 3, 4)


def loss_scenario(cap: int) -> dict[str, Any]:
    doc = book_scenario(LOSS_REPS, LOSS_ARRIVAL)
    doc["calendar"].update(horizon_days=230.0, warmup_days=30.0)
    doc["roles"][0]["max_open_deals"] = cap
    doc["stages"][0]["effort_hours"] = fixed(0.0)
    # Mean 4 days, far from exponential: Erlang B does not depend on the law.
    doc["stages"][0]["customer_delay_days"] = {"dist": "uniform", "low": 2.0, "high": 6.0}
    doc["going_cold"] = {"logit_per_day": 0.0, "max_wait_days": 1e-9}
    return doc


@pytest.mark.slow
def test_capped_books_without_waiting_are_an_erlang_loss_system() -> None:
    a = LOSS_ARRIVAL * LOSS_HOLD
    runs = {cap: ss.run(loss_scenario(cap), replications=20, seed=seed(505))
            for cap in LOSS_CAPS}
    checks = 2 * len(LOSS_CAPS)
    for cap, res in runs.items():
        places = LOSS_REPS * cap
        blocked = erlang_b(places, a)
        assert_covers(res.kpis["full_book_share"], blocked,
                      f"cap {cap}: Erlang B({places}, {a:g})", checks)
        assert_covers([t.teams()["open_deals_mean"].iloc[0] for t in per_replication(res)],
                      a * (1 - blocked) / LOSS_REPS, f"cap {cap}: mean open deals per rep",
                      checks)
    # A higher cap never makes a lead wait for a book that the lower cap let in.
    for low, high in itertools.pairwise(LOSS_CAPS):
        for r_low, r_high in zip(runs[low].raw, runs[high].raw, strict=True):
            waited_low, waited_high = (r.leads["waited_for_book"] for r in (r_low, r_high))
            assert not (waited_high & ~waited_low).any(), (low, high, r_low.replication)


# ---- non-selling time -------------------------------------------------------------------

CALL_HOURS, MEET_HOURS, TRAVEL_HOURS = 2.0, 3.0, 1.0


def selling_scenario(share: float) -> dict[str, Any]:
    doc = base_scenario()
    doc["calendar"].update(horizon_days=60.0)
    # No lead arrives in the last 10 days: every task ends inside the window.
    doc["channels"][0].update(leads_per_day=3.0, schedule={
        "periods": [{"from_day": 50.0, "to_day": 60.0, "multiplier": 0.0}]})
    doc["roles"] = [{"name": role, "salary_per_day": 0.0, "non_selling_share": share}
                    for role in ("caller", "visitor")]
    doc["teams"][0]["reps"] = {"caller": {"headcount": 20}, "visitor": {"headcount": 20}}
    doc["travel"] = {"zones": [{"up_to_regions": 1, "hours": fixed(TRAVEL_HOURS)}]}
    doc["stages"] = [
        {"name": "call", "role": "caller", "effort_hours": fixed(CALL_HOURS),
         "customer_delay_days": fixed(1.0), "conversion": {"A": 0.6}},
        # The last answers come after the horizon, so the window is the whole horizon.
        {"name": "meet", "role": "visitor", "visit": True, "effort_hours": fixed(MEET_HOURS),
         "customer_delay_days": fixed(12.0), "conversion": {"A": 0.5}},
    ]
    return doc


def test_non_selling_share_stretches_effort_but_not_travel() -> None:
    share = 0.25
    base = ss.run(selling_scenario(0.0), replications=3, seed=seed(506))
    slow = ss.run(selling_scenario(share), replications=3, seed=seed(506))
    assert_no_waits(slow)
    pair = base.events.merge(slow.events, on=KEYS, validate="1:1", how="outer",
                             indicator=True)
    assert (pair["_merge"] == "both").all(), "the runs' tasks differ"
    assert (pair["outcome_x"] == pair["outcome_y"]).all()
    assert slow.events["end_time"].max() < 60.0 < min(r.end_day for r in slow.raw)
    ev = slow.events
    call, meet = ev["activity"] == "call", ev["activity"] == "meet"
    meet_days = (MEET_HOURS / (1 - share) + TRAVEL_HOURS) / HPD
    assert close(effort(ev[call]), CALL_HOURS / (1 - share) / HPD)
    assert close(effort(ev[meet]), meet_days)
    stretch = {"caller": 1 / (1 - share),
               "visitor": meet_days / ((MEET_HOURS + TRAVEL_HOURS) / HPD)}
    for role, factor in stretch.items():
        column = f"utilisation_{role}"
        assert close(slow.kpis[column], factor * base.kpis[column]), role
    callers = slow.reps()
    callers = callers[callers["role"] == "caller"]
    assert callers["busy_days"].sum() / callers["tasks"].sum() == pytest.approx(
        CALL_HOURS / (1 - share) / HPD, rel=1e-9)


# ---- skill and effort spread --------------------------------------------------------------

P0, SKILL_SD, EFFORT_SD, SPREAD_SHARE = 0.8, 1.2, 0.5, 0.2
SPREAD_REPS, SPREAD_HOURS = 40, 1.0


def spread_scenario(headcount: int = SPREAD_REPS) -> dict[str, Any]:
    doc = base_scenario()
    doc["calendar"].update(horizon_days=50.0)
    doc["channels"][0]["leads_per_day"] = 10.0
    # The role's effort spread is overridden by the group's.
    doc["roles"][0].update(skill_spread_logit=SKILL_SD, effort_spread=0.1,
                           non_selling_share=SPREAD_SHARE)
    doc["teams"][0]["reps"]["rep"] = {"headcount": headcount, "effort_spread": EFFORT_SD}
    doc["stages"][0].update(effort_hours=fixed(SPREAD_HOURS), conversion={"A": P0})
    return doc


def mean_conversion_over_skills(p0: float, sd: float) -> float:
    """``E[logistic(logit(p0) + sd Z)]`` for standard normal ``Z`` (Gauss-Hermite)."""
    x, w = np.polynomial.hermite.hermgauss(80)
    return float(w @ logistic(logit(p0) + sd * math.sqrt(2) * x) / math.sqrt(math.pi))


def assert_normal_sd(values: np.ndarray, sd: float, what: str, checks: int) -> None:
    """The sample variance of normal values is within the chi-square interval of sd**2."""
    n = len(values)
    statistic = (n - 1) * float(np.var(values, ddof=1)) / sd**2
    low, high = stats.chi2.ppf([ALPHA / (2 * checks), 1 - ALPHA / (2 * checks)], n - 1)
    assert low <= statistic <= high, (
        f"{what}: sample sd {np.std(values, ddof=1):.4g} from {n} values, theory {sd:g} "
        f"(chi-square statistic {statistic:.1f} outside [{low:.1f}, {high:.1f}])")


@pytest.mark.slow
def test_reps_draw_skill_and_pace_from_their_spreads() -> None:
    res = ss.run(spread_scenario(), replications=40, seed=seed(507))
    checks = 5
    expected = mean_conversion_over_skills(P0, SKILL_SD)
    assert P0 - expected > 0.05  # the spread lowers conversion noticeably at p0 = 0.8
    assert_covers(res.kpis["conversion_rate"], expected,
                  "conversion over reps with spread skill", checks)
    skill = np.concatenate([r.rep_skill for r in res.raw])
    factor = np.concatenate([r.rep_effort for r in res.raw])
    assert len(skill) == SPREAD_REPS * res.replications
    assert_normal_sd(skill, SKILL_SD, "skill_logit", checks)
    assert_normal_sd(np.log(factor), EFFORT_SD, "log effort_factor", checks)
    assert_covers(factor.reshape(res.replications, -1).mean(axis=1), 1.0,
                  "mean effort factor", checks)
    # Given the drawn reps: each attempt passes with the rep's own probability and
    # lasts the rep's factor times the effort over the selling share of the day.
    passed, p = [], []
    for raw in res.raw:
        worked = raw.events["resource"]
        passed.append(raw.events["outcome"] == ADVANCED)
        p.append(logistic(logit(P0) + raw.rep_skill[worked]))
        duration = raw.events["end_time"] - raw.events["start_time"]
        assert close(duration, SPREAD_HOURS / HPD * raw.rep_effort[worked] / (1 - SPREAD_SHARE))
    assert_bernoulli_sum(np.concatenate(passed), np.concatenate(p),
                         "attempts passing with the rep's own skill")
    table = res.reps()
    assert (table["skill_logit"] != 0).all() and (table["effort_factor"] != 1).all()


def test_adding_a_rep_leaves_the_others_draws_alone() -> None:
    """Also the draws of another role's reps, whose pool is set up after this one's."""
    def with_closers(headcount: int) -> dict[str, Any]:
        doc = spread_scenario(headcount)
        doc["roles"].append({"name": "closer", "salary_per_day": 0.0,
                             "skill_spread_logit": 0.7, "effort_spread": 0.3})
        doc["teams"][0]["reps"]["closer"] = {"headcount": 5}
        doc["stages"].append({"name": "close", "role": "closer",
                              "effort_hours": fixed(1.0), "customer_delay_days": fixed(0.0),
                              "conversion": {"A": 0.5}})
        return doc

    tables = [ss.run(with_closers(n), replications=1, seed=seed(508)).reps()
              for n in (SPREAD_REPS, SPREAD_REPS + 1)]
    assert len(tables[1]) == len(tables[0]) + 1
    assert "everyone.rep.41" not in tables[0].index
    kept = tables[1].loc[tables[0].index]
    for col in ("skill_logit", "effort_factor"):
        np.testing.assert_array_equal(kept[col], tables[0][col], err_msg=col)
    assert tables[0]["skill_logit"].nunique() == len(tables[0])  # drawn, not all alike


# ---- deal-size bands ------------------------------------------------------------------

BANDS = {"large": 80_000.0, "small": 0.0, "mid": 50_000.0}  # given out of order
BAND_EFFORT = {"small": 1.0, "mid": 2.0, "large": 3.0}
BAND_TERMS = {"small": 1.0, "mid": 1.0, "large": 2.0}


def test_deal_size_bands_take_their_lower_bounds() -> None:
    doc = base_scenario()
    doc["calendar"].update(horizon_days=60.0)
    two_segments(doc, 0.3)
    doc["channels"][0]["leads_per_day"] = 6.0
    doc["teams"][0]["reps"]["rep"]["headcount"] = 20
    values = [0.0, 10_000.0, 20_000.0, 49_999.99, 50_000.0, 79_999.0, 80_000.0, 250_000.0]
    # Enterprise deals are worth four times as much: bands read the multiplied value.
    doc["deal_value"] = {"distribution": {"dist": "empirical", "values": values},
                         "multipliers": {"segment": {"enterprise": 4.0}}, "bands": BANDS}
    doc["stages"][0]["effort_hours"] = fixed(2.0)
    doc["stages"][0]["adjust"] = {"deal_size": {
        b: {"effort_scale": k} for b, k in BAND_EFFORT.items() if k != 1}}
    doc["payment"] = {"invoice_delay_days": fixed(0.0), "payment_days": fixed(30.0),
                      "adjust": {"deal_size": {"large": {"payment_days_scale": 2.0}}}}
    res = ss.run(doc, replications=3, seed=seed(509))

    def band(value: pd.Series) -> np.ndarray:
        return np.select([value >= BANDS["large"], value >= BANDS["mid"]],
                         ["large", "mid"], "small")

    ev = res.events
    in_band = band(ev["deal_value"])
    assert set(ev["deal_value"]) >= {50_000.0, 80_000.0}  # values on the bounds occur
    assert (pd.Series(in_band).value_counts() > 100).all()
    scale = np.array([BAND_EFFORT[b] for b in in_band])
    assert close(effort(ev), 2.0 / HPD * scale)
    won = res.leads[res.leads["status"] == "won"]
    terms = np.array([30.0 * BAND_TERMS[b] for b in band(won["deal_value"])])
    assert close(won["payment_days"], terms)
