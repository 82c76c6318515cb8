"""Pipeline reviews against exact computation and theory.

- Reviews that only take manager time (no clearing, coaching or forecast), held by a
  manager nobody else needs, leave every sales lead's life as it was, bit for bit.
- A review takes exactly ``hours_per_rep`` of a manager's time; one manager takes the
  reps booked at once one after another, so the k-th starts k meetings after the day.
- A stage-weighted forecast with the true probabilities of winning from each stage is
  unbiased (the interval of its bias covers 0); with every weight at 0.7 times the truth
  its bias is -30 %; a commit forecast with ``commit_bias`` 0.2 of deals that always win
  is +20 % exactly.
- Clearing: each deal parked in nurture is closed exactly at the first review of its rep
  held more than ``stale_after_days`` after it was parked, if it is still parked then,
  and never otherwise.
- Coaching: each rep gains ``logit_per_review`` per review up to ``up_to``; once every
  rep is fully coached, a stage passes with the logistic of its logit plus ``up_to``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import salessim as ss
from salessim.model.leads import LOST, LOST_REASONS
from salessim.model.process import simulate
from salessim.model.records import NURTURE
from tests.validation.support import assert_covers, base_scenario, seed

pytestmark = pytest.mark.slow

REPLICATIONS = 12
PASS = (0.7, 0.6, 0.8)
"""Chance of passing each of the three stages."""
HOURS = 1.0
EVERY = 5.0


def _funnel(reviews: dict[str, Any] | None = None, nurture: bool = False) -> dict[str, Any]:
    """Three stages worked by four reps (a lead a day), a manager of its own team."""
    doc = base_scenario()
    doc["calendar"] = {"horizon_days": 270.0, "warmup_days": 20.0,
                       "drain_limit_days": 400.0, "hours_per_day": 8.0}
    doc["teams"][0]["reps"]["rep"]["headcount"] = 4
    doc["roles"].append({"name": "manager", "salary_per_day": 0.0, "assignment": "pooled",
                         "dispatch": "fifo"})
    doc["teams"].append({"name": "managers", "reps": {"manager": {"headcount": 1}}})
    stage = doc["stages"][0]
    stage["customer_delay_days"] = {"dist": "exponential", "mean": 5.0}
    doc["stages"] = [{**stage, "name": f"s{k}", "conversion": {"A": p}}
                     for k, p in enumerate(PASS)]
    if nurture:
        doc["stages"][1]["failure"] = {"nurture_share": 0.6,
                                       "nurture_days": {"dist": "uniform", "low": 5,
                                                        "high": 40}}
    if reviews is not None:
        doc["management"] = {"reviews": {"role": "manager", "reviewed_role": "rep",
                                         "every_days": EVERY, "hours_per_rep": HOURS,
                                         **reviews}}
    return doc


def _run(doc: dict[str, Any], offset: int = 0) -> ss.Results:
    return ss.run(ss.Scenario.from_document(doc), replications=REPLICATIONS,
                  seed=seed(offset), executor="serial", progress=False)


def _win_from() -> dict[str, float]:
    """The true chance of winning a deal at each stage: the product of what is ahead."""
    return {f"s{k}": math.prod(PASS[k:]) for k in range(len(PASS))}


def test_reviews_that_only_take_manager_time_change_no_lead() -> None:
    plain = ss.Scenario.from_document(_funnel())
    reviewed = ss.Scenario.from_document(_funnel({}))
    before, after = simulate(plain, seed(), 0), simulate(reviewed, seed(), 0)
    for part in ("leads", "events"):
        for name, column in getattr(before, part).items():
            np.testing.assert_array_equal(column, getattr(after, part)[name], err_msg=name)
    assert after.management is not None and len(after.management["reviews"]["rep"]) > 0


def test_a_review_takes_the_managers_hours_one_rep_after_another() -> None:
    raw = simulate(ss.Scenario.from_document(_funnel({})), seed(), 0)
    assert raw.management is not None
    meet = raw.management["reviews"]
    length = HOURS / 8.0
    np.testing.assert_allclose(meet["end_time"] - meet["start_time"], length, rtol=1e-12)
    np.testing.assert_allclose(meet["enable_time"], meet["review"] * EVERY, rtol=1e-12)
    for review in np.unique(meet["review"]):
        mine = meet["review"] == review
        order = np.argsort(meet["start_time"][mine])
        np.testing.assert_allclose(meet["start_time"][mine][order],
                                   review * EVERY + length * np.arange(mine.sum()),
                                   rtol=1e-12, atol=1e-9)
        assert sorted(meet["rep"][mine]) == [0, 1, 2, 3]
    res = ss.run(ss.Scenario.from_document(_funnel({})), replications=1, seed=seed(),
                 progress=False)
    held = len(np.unique(meet["review"][(meet["start_time"] >= 20) & (meet["end_time"] < 270)]))
    assert res.kpis["utilisation_manager"].iloc[0] == pytest.approx(
        4 * held * length / 250.0, abs=2 * length / 250.0)


def test_a_forecast_with_the_true_stage_probabilities_is_unbiased() -> None:
    truth = _win_from()
    true = _run(_funnel({"forecast": {"method": "stage_weighted",
                                      "stage_probability": truth}}))
    assert_covers(true.kpis["forecast_bias_pct"], 0.0, "bias of the true forecast", checks=2)
    low = _run(_funnel({"forecast": {"method": "stage_weighted", "stage_probability": {
        k: 0.7 * p for k, p in truth.items()}}}))
    assert_covers(low.kpis["forecast_bias_pct"], -30.0, "bias of a 0.7x forecast", checks=2)
    assert (true.kpis["forecast_mape_pct"] > 0).all()


def test_a_commit_of_deals_that_always_win_is_off_by_exactly_its_bias() -> None:
    doc = _funnel({"forecast": {"method": "commit", "commit_from": "s2",
                                "commit_bias": 0.2}})
    doc["stages"][2]["conversion"] = {"A": 1.0}
    res = _run(doc)
    np.testing.assert_allclose(res.kpis["forecast_bias_pct"], 20.0, rtol=1e-9)
    np.testing.assert_allclose(res.kpis["forecast_mape_pct"], 20.0, rtol=1e-9)


def test_stale_deals_are_cleared_at_the_first_review_after_the_limit() -> None:
    stale = 12.0
    raw = simulate(ss.Scenario.from_document(
        _funnel({"stale_after_days": stale}, nurture=True)), seed(), 0)
    assert raw.management is not None
    meet, credits = raw.management["reviews"], raw.management["credits"]
    rep_of = dict(zip(credits["case"].tolist(), credits["rep"].tolist(), strict=True))
    L, ev = raw.leads, raw.events
    cleared = L["lost_reason"] == LOST_REASONS.index("cleared")
    checked = 0
    for e in np.flatnonzero(ev["outcome"] == NURTURE):
        case, parked = int(ev["case"][e]), float(ev["decision_time"][e])
        later = (ev["case"] == case) & (ev["enable_time"] >= parked)
        back = float(ev["enable_time"][later].min()) if later.any() else math.inf
        ends = meet["end_time"][meet["rep"] == rep_of[case]]
        due = ends[(ends - parked > stale) & (ends <= back)]
        if due.size:
            assert cleared[case] and L["status"][case] == LOST, case
            assert L["close_time"][case] == pytest.approx(due.min(), abs=1e-9)
            checked += 1
        else:  # not cleared in this spell in nurture
            assert not (cleared[case] and parked <= L["close_time"][case] <= back), case
    assert checked > 20 and checked == int(cleared.sum())


def test_coaching_adds_up_to_its_cap_and_moves_conversion() -> None:
    step, cap = 0.05, 0.5
    doc = _funnel({"coaching": {"logit_per_review": step, "up_to": cap}})
    raw = simulate(ss.Scenario.from_document(doc), seed(), 0)
    assert raw.management is not None
    meet = raw.management["reviews"]
    for rep in range(4):
        n = int((meet["rep"] == rep).sum())
        assert raw.rep_skill[rep] == pytest.approx(min(cap, n * step), abs=1e-12)
    coached_by = (cap / step) * EVERY  # every rep is fully coached after this day
    res = _run(doc)
    rates = []
    for r in res.raw:
        ev = r.events
        first = (ev["stage"] == 0) & (ev["start_time"] > coached_by + 1) & (ev["touch"] == 0)
        rates.append(float((ev["outcome"][first] == 0).mean()))
    expected = 1.0 / (1.0 + math.exp(-(math.log(PASS[0] / (1 - PASS[0])) + cap)))
    assert_covers(rates, expected, "conversion after coaching")
