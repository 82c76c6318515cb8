"""Each conversion and money mechanism against a closed form or an exact computation.

The notebooks' conclusions rest on these mechanisms, so each is checked on a minimal
scenario (``support.base_scenario``) where it acts alone:

* **Going cold, lost leads.** With ``max_wait_days = tau`` a lead waiting longer for a
  rep is lost; reps skip it, so the queue is an M/M/c queue with deterministic patience
  (M/M/c+D). Its abandonment probability follows from level crossing of the virtual
  waiting time ``V`` when all ``c`` reps are busy: the density is
  ``f(v) = lam pi_{c-1} exp(-(c mu - lam) v)`` on ``[0, tau]`` and falls at rate
  ``c mu`` above ``tau``, so ``P(V > tau) = lam pi_{c-1} exp(-(c mu - lam) tau) / (c mu)``,
  with ``pi_k = pi_0 a^k / k!`` for ``k < c`` and ``pi_0`` from normalisation. The
  share of counted leads lost cold must match it (per-replication t interval).
* **Going cold, conversion.** With ``logit_per_day = b`` an attempt that waited ``w``
  days passes with ``logistic(logit(p0) + b w)``. Given the waits the engine recorded,
  the number of attempts that pass is a sum of independent Bernoulli draws with known
  probabilities: its mean and variance are exact, and the observed count must lie within
  ``z`` standard deviations of the mean.
* **Information loss.** A handoff loses information with probability ``q`` (share of
  handoffs, t interval), and an attempt after such a handoff passes with
  ``logistic(logit(p0) + d)`` (t interval of the share that passed).
* **Team effects and rep skill.** Work by a team with an effect ``e`` on the lead's
  region and reps of skill ``s`` passes with ``logistic(logit(p0) + e + s)``.
* **Ramp-up.** A rep hired on day ``h`` with ``ramp_up {days: D, logit: r, extra_effort:
  x}`` works ``effort * (1 + x * share)`` and converts with ``logistic(logit(p0) + r *
  share)``, where ``share = (h + D - t) / D`` fades linearly to 0: the efforts are exact
  (fixed effort), the conversions are checked like going cold.
* **Bad debt.** A won deal is never paid with probability ``b`` (t interval), and with
  every payment inside the window the collection rate is exactly the paid share of
  revenue.
* **The payment window.** With fixed terms exactly as long as the window (invoice on
  the day of the win, payment ``window_days`` later) every payment arrives within the
  window, whatever the win times: collection is 100 %, exactly. One day less of window
  and none is collected.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import salessim as ss

from .support import ALPHA, assert_covers, base_scenario, seed

Z_CHECKS = 2
"""The exact-sum checks made in this module (going cold and ramp-up conversion)."""


def logistic(x: np.ndarray | float) -> Any:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


def logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def assert_bernoulli_sum(passed: np.ndarray, p: np.ndarray, what: str) -> float:
    """The count of successes is within z sd of the sum of independent Bernoulli means."""
    mean, var = float(p.sum()), float((p * (1 - p)).sum())
    z = (float(passed.sum()) - mean) / math.sqrt(var)
    limit = float(stats.norm.ppf(1 - ALPHA / (2 * Z_CHECKS)))
    assert abs(z) < limit, (f"{what}: {passed.sum():.0f} passed where {mean:.1f} +- "
                            f"{math.sqrt(var):.1f} were expected (z = {z:.2f}, limit {limit:.2f})")
    return z


# ---- going cold ----------------------------------------------------------------------


def mmc_patience_abandonment(servers: int, arrival: float, service: float,
                             patience: float) -> float:
    """Share of arrivals that abandon in M/M/c with deterministic patience (M/M/c+D)."""
    a = arrival / service
    below = [a**k / math.factorial(k) for k in range(servers)]  # pi_k / pi_0, k < c
    decay = servers * service - arrival
    entering = arrival * below[-1]
    waiting = (entering * patience if abs(decay) < 1e-12
               else entering * (1 - math.exp(-decay * patience)) / decay)
    beyond = entering * math.exp(-decay * patience) / (servers * service)
    return beyond / (sum(below) + waiting + beyond)


@pytest.mark.parametrize(("servers", "load", "patience"), [(1, 0.9, 1.0), (3, 1.2, 0.5)],
                         ids=["c1-rho0.9", "c3-rho1.2"])
def test_leads_lost_cold_match_mmc_with_fixed_patience(servers: int, load: float,
                                                       patience: float) -> None:
    doc = base_scenario()
    arrival = servers * load  # service rate 1 per rep and day
    doc["calendar"].update(horizon_days=330.0, warmup_days=30.0)
    doc["channels"][0]["leads_per_day"] = arrival
    doc["teams"][0]["reps"]["rep"]["headcount"] = servers
    doc["going_cold"] = {"logit_per_day": 0.0, "max_wait_days": patience}
    res = ss.run(doc, replications=30, seed=seed(31 + servers))
    leads = res.leads[res.leads["cohort"]]
    cold = (leads["lost_reason"] == "cold").groupby(leads["replication"]).mean()
    expected = mmc_patience_abandonment(servers, arrival, 1.0, patience)
    assert 0.05 < expected < 0.5  # a case where patience matters
    assert_covers(cold, expected, f"M/M/{servers}+D share lost cold", checks=2)


COLD_P0, COLD_LOGIT = 0.7, -0.6
"""Base conversion and logit per day waited of ``waiting_scenario``."""


def waiting_scenario(doc: dict[str, Any], leads_per_day: float) -> dict[str, Any]:
    """``doc`` with two reps, 200 days of leads, conversion ``COLD_P0`` and each day
    waited moving it by ``COLD_LOGIT``."""
    doc["calendar"].update(horizon_days=200.0, warmup_days=0.0)
    doc["channels"][0]["leads_per_day"] = leads_per_day
    doc["teams"][0]["reps"]["rep"]["headcount"] = 2
    doc["stages"][0]["conversion"] = {"A": COLD_P0}
    doc["going_cold"] = {"logit_per_day": COLD_LOGIT}
    return doc


def test_waiting_lowers_conversion_by_the_logit_per_day() -> None:
    res = ss.run(waiting_scenario(base_scenario(), 1.8), replications=20, seed=seed(33))
    ev = res.events
    wait = (ev["start_time"] - ev["enable_time"]).to_numpy()
    assert wait.max() > 2.0  # waits long enough to move conversion a lot
    p = logistic(logit(0.7) - 0.6 * wait)
    assert_bernoulli_sum((ev["outcome"] == "advanced").to_numpy(), p,
                         "attempts passing after a wait")
    # Not the base probability: the effect is there and has the right sign.
    assert (ev["outcome"] == "advanced").mean() < 0.7 - 0.05


# ---- information loss in a handoff ----------------------------------------------------


def test_information_lost_in_handoffs_at_its_rate_and_effect() -> None:
    doc = base_scenario()
    doc["calendar"].update(horizon_days=150.0)
    doc["channels"][0]["leads_per_day"] = 4.0
    doc["roles"].append({"name": "expert", "salary_per_day": 0.0, "assignment": "pooled"})
    doc["teams"][0]["reps"] = {"rep": {"headcount": 8}, "expert": {"headcount": 8}}
    doc["stages"][0]["effort_hours"] = {"dist": "exponential", "mean": 1.0}
    doc["stages"].append({"name": "advice", "role": "expert",
                          "effort_hours": {"dist": "exponential", "mean": 1.0},
                          "customer_delay_days": {"dist": "fixed", "value": 0.0},
                          "conversion": {"A": 0.6}})
    doc["handoff"] = {"delay_days": {"dist": "exponential", "mean": 0.2},
                      "info_loss_prob": 0.3, "info_loss_logit": -1.2}
    res = ss.run(doc, replications=20, seed=seed(34))
    ev = res.events[res.events["activity"] == "advice"]
    assert (ev["handoff_days"] > 0).all()  # every attempt there came by a handoff
    by_rep = ev.groupby("replication")
    assert_covers(by_rep["info_lost"].mean(), 0.3, "share of handoffs losing information", 3)
    passed = ev["outcome"] == "advanced"
    lost = ev["info_lost"].astype(bool)
    assert_covers(passed[lost].groupby(ev["replication"][lost]).mean(),
                  float(logistic(logit(0.6) - 1.2)), "conversion after information loss", 3)
    assert_covers(passed[~lost].groupby(ev["replication"][~lost]).mean(), 0.6,
                  "conversion without information loss", 3)


# ---- team effects and rep skill -------------------------------------------------------


def test_team_effects_and_skill_add_on_the_logit_scale() -> None:
    doc = base_scenario()
    doc["calendar"].update(horizon_days=150.0)
    doc["regions"] = ["r1", "r2"]
    doc["channels"][0]["leads_per_day"] = 4.0
    doc["channels"][0]["mix"]["region"] = {"r1": 0.5, "r2": 0.5}
    doc["stages"][0]["effort_hours"] = {"dist": "exponential", "mean": 1.0}
    doc["stages"][0]["conversion"] = {"A": 0.5}
    doc["teams"] = [
        {"name": "one", "regions": ["r1"], "effects": {"region": {"r1": 0.7}},
         "reps": {"rep": {"headcount": 4}}},
        {"name": "two", "regions": ["r2"], "effects": {"region": {"r2": 0.2}},
         "reps": {"rep": {"headcount": 4, "skill_logit": -0.8}}},
    ]
    res = ss.run(doc, replications=20, seed=seed(35))
    ev = res.events
    passed = (ev["outcome"] == "advanced").groupby([ev["team"], ev["replication"]]).mean()
    assert_covers(passed["one"], float(logistic(0.7)), "team one (effect 0.7)", 2)
    assert_covers(passed["two"], float(logistic(0.2 - 0.8)), "team two (effect 0.2, skill -0.8)",
                  2)


# ---- ramp-up of hires -----------------------------------------------------------------


def test_hires_ramp_up_linearly_in_effort_and_conversion() -> None:
    hired_on, days, ramp_logit, extra = 30.0, 40.0, -1.5, 1.0
    doc = base_scenario()
    doc["calendar"].update(horizon_days=120.0)
    doc["channels"][0]["leads_per_day"] = 5.0
    doc["roles"][0]["ramp_up"] = {"days": days, "logit": ramp_logit, "extra_effort": extra}
    doc["teams"][0]["reps"]["rep"] = {"headcount": 1,
                                      "plan": [{"day": hired_on, "headcount": 4}]}
    doc["stages"][0]["effort_hours"] = {"dist": "fixed", "value": 2.0}
    doc["stages"][0]["conversion"] = {"A": 0.6}
    res = ss.run(doc, replications=20, seed=seed(36))
    ev = res.events
    hire = ev["resource"] != "everyone.rep.1"
    start = ev["start_time"].to_numpy()
    share = np.where(hire, np.clip((hired_on + days - start) / days, 0.0, 1.0), 0.0)
    effort = (ev["end_time"] - ev["start_time"]).to_numpy()
    assert np.allclose(effort, 0.25 * (1 + extra * share), rtol=0, atol=1e-9)
    assert (share > 0.5).sum() > 100  # many attempts by hires early in their ramp-up
    p = logistic(logit(0.6) + ramp_logit * share)
    assert_bernoulli_sum((ev["outcome"] == "advanced").to_numpy(), p,
                         "attempts passing during ramp-up")


# ---- bad debt --------------------------------------------------------------------------


def test_bad_debt_at_its_rate_and_collection_is_the_paid_share() -> None:
    doc = base_scenario()
    doc["calendar"].update(horizon_days=200.0)
    doc["channels"][0]["leads_per_day"] = 3.0
    doc["teams"][0]["reps"]["rep"]["headcount"] = 6
    doc["payment"] = {"invoice_delay_days": {"dist": "fixed", "value": 5.0},
                      "payment_days": {"dist": "uniform", "low": 10.0, "high": 40.0},
                      "bad_debt_prob": 0.2, "window_days": 60.0}
    res = ss.run(doc, replications=20, seed=seed(37))
    won = res.leads[res.leads["cohort"] & (res.leads["status"] == "won")]
    unpaid = won["paid_time"].isna().groupby(won["replication"]).mean()
    assert_covers(unpaid, 0.2, "share of won deals never paid")
    paid_share = 1 - unpaid  # fixed deal values: the paid share of revenue
    pd.testing.assert_series_equal(res.kpis["collection_rate"], paid_share,
                                   check_names=False, check_index_type=False)


@pytest.mark.parametrize("terms", [90.0, 30.0, 45.5])
def test_payment_on_the_window_edge_counts_as_collected(terms: float) -> None:
    doc = base_scenario()
    doc["payment"] = {"invoice_delay_days": {"dist": "fixed", "value": 0.0},
                      "payment_days": {"dist": "fixed", "value": terms},
                      "bad_debt_prob": 0.0, "window_days": terms}
    res = ss.run(doc, replications=3, seed=seed(41))
    assert (res.kpis["won"] > 0).all()
    assert (res.kpis["collection_rate"] == 1.0).all()
    late = ss.run(ss.load_scenario(doc).with_changes({"payment.window_days": terms - 1}),
                  replications=3, seed=seed(41))
    assert (late.kpis["collected"] == 0.0).all()


def test_salaries_cover_the_window_when_the_last_lead_closes_early() -> None:
    """Leads stop arriving on day 50 and all close before the horizon (day 60): salaries
    and employed days still run to the horizon, exactly."""
    doc = base_scenario()
    doc["calendar"]["horizon_days"] = 60.0
    doc["channels"][0]["leads_per_day"] = 5.0
    doc["channels"][0]["schedule"] = {"periods": [
        {"from_day": 50.0, "to_day": 60.0, "multiplier": 0.0}]}
    doc["roles"][0]["salary_per_day"] = 100.0
    doc["teams"][0]["reps"]["rep"]["headcount"] = 10
    res = ss.run(doc, replications=2, seed=seed(43))
    assert (res.kpis["open"] == 0).all()
    assert (res.reps()["employed_days"] == 60.0).all()
    assert (res.kpis["cost"] == 10 * 100.0 * 60.0).all()
