"""Follow-ups (``Stage.follow_ups``) against theory and exact accounting.

An attempt with ``k`` follow-ups is the first work, then ``k`` times a gap (no rep) and
a follow-up for the lead's rep, then the customer's delay. On minimal scenarios
(``support.base_scenario``):

* **A network of queues with product form.** With a pooled FIFO role, exponential work
  of the same mean for the first touch and every follow-up and gaps of any law, the
  reps and the gaps form an open multiclass network of a FIFO ``./M/c`` station (the
  class, the touch number, decides only the route) and an infinite-server station: a
  Kelly network, whose stationary law is a product form in which the rep station is an
  M/M/c queue at the total touch rate ``L = lambda (1 + k)``, and arrivals see it in
  its stationary state. So a touch waits ``Wq = C(c, L / mu) / (c mu - L)`` on
  average and the reps are ``L / (c mu)`` busy (t intervals).
* **Owned leads.** Every touch of an owned lead is its owner's; each follow-up falls
  due a gap after the previous touch ends, the customer answers a fixed delay after the
  last, and the phases of a lead add up to its cycle (exact); the gaps have their law's
  mean, the reps' busy share is ``lambda (e0 + k e1) / c`` (work is conserved) and the
  mean book per rep is ``lambda W / c`` (Little; t intervals); ``stages()`` counts
  attempts, not touches.
* **By attribute, on the lead's own draws.** With reps so many that no touch waits, a
  segment's ``follow_ups`` count changes only that segment's touches; a lead's first
  follow-ups are the same draws whatever its count, and ``customer_delay_scale`` and
  ``effort_scale`` scale its gaps and follow-up work exactly.
* **Going cold at a follow-up.** A lead waiting past the cold limit for a follow-up is
  lost then, at that stage, with its wait exactly the limit; with ``logit_per_day = b``
  an attempt passes with ``logistic(logit(p0) + b W)``, ``W`` the waits of all its
  touches summed (a sum-of-Bernoullis check given the waits).

Every statistical check holds its test function's false-failure probability at
``ALPHA`` (Bonferroni within the function); the exact checks compare floating-point
numbers to 1e-9 relative.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import salessim as ss
from salessim.intervals import phases

from .support import assert_covers, base_scenario, erlang_c, seed
from .test_deal_mechanisms import close, fixed, per_replication, two_segments
from .test_mechanisms import (
    COLD_LOGIT,
    COLD_P0,
    assert_bernoulli_sum,
    logistic,
    logit,
    waiting_scenario,
)

HPD = 8.0
"""Hours per day of ``base_scenario``."""


def with_follow_ups(doc: dict[str, Any], count: int, gap: dict[str, Any],
                    effort_hours: dict[str, Any]) -> dict[str, Any]:
    doc["stages"][0]["follow_ups"] = {"count": count, "gap_days": gap,
                                      "effort_hours": effort_hours}
    return doc


def by_touch(ev: pd.DataFrame) -> pd.DataFrame:
    return ev.sort_values(["replication", "case_id", "attempt", "touch", "part"],
                          kind="stable")


# ---- a Kelly network ------------------------------------------------------------------

KELLY_REPS, KELLY_ARRIVAL, KELLY_FOLLOW_UPS = 2, 0.5, 2
KELLY_WARMUP, KELLY_HORIZON = 60.0, 460.0


@pytest.mark.slow
def test_follow_ups_feed_the_rep_queue_as_a_product_form_network() -> None:
    doc = with_follow_ups(base_scenario(), KELLY_FOLLOW_UPS,
                          {"dist": "uniform", "low": 1.0, "high": 5.0},
                          {"dist": "exponential", "mean": 8.0})
    doc["calendar"].update(horizon_days=KELLY_HORIZON, warmup_days=KELLY_WARMUP)
    doc["channels"][0]["leads_per_day"] = KELLY_ARRIVAL
    doc["teams"][0]["reps"]["rep"]["headcount"] = KELLY_REPS
    res = ss.run(doc, replications=30, seed=seed(601))
    touches = KELLY_ARRIVAL * (1 + KELLY_FOLLOW_UPS)  # per day; service rate 1 per day
    expected = erlang_c(KELLY_REPS, touches) / (KELLY_REPS - touches)
    assert 0.5 < expected < 3.0
    waits = []
    for table in per_replication(res):
        ev = table.events
        inside = (ev["enable_time"] >= KELLY_WARMUP) & (ev["enable_time"] < KELLY_HORIZON)
        waits.append(float((ev["start_time"] - ev["enable_time"])[inside].mean()))
    assert_covers(waits, expected, "mean wait of a touch (M/M/2 at the touch rate)", 2)
    assert_covers(res.kpis["utilisation_rep"], touches / KELLY_REPS, "utilisation", 2)


# ---- room to spare --------------------------------------------------------------------

ROOM_REPS, ROOM_ARRIVAL, ROOM_FOLLOW_UPS = 30, 2.0, 3
FIRST_HOURS, FOLLOW_UP_HOURS, GAP_MEAN, ANSWER_DAYS = 4.0, 1.0, 4.0, 1.0


def room_scenario() -> dict[str, Any]:
    doc = with_follow_ups(base_scenario(), ROOM_FOLLOW_UPS,
                          {"dist": "exponential", "mean": GAP_MEAN}, fixed(FOLLOW_UP_HOURS))
    doc["calendar"].update(horizon_days=130.0, warmup_days=30.0)
    doc["channels"][0]["leads_per_day"] = ROOM_ARRIVAL
    doc["roles"][0]["assignment"] = "owner"
    doc["teams"][0]["reps"]["rep"]["headcount"] = ROOM_REPS
    doc["stages"][0].update(effort_hours=fixed(FIRST_HOURS),
                            customer_delay_days=fixed(ANSWER_DAYS))
    return doc


def test_a_lead_lives_its_touches_with_its_owner_and_fills_the_owners_book() -> None:
    res = ss.run(room_scenario(), replications=12, seed=seed(602))
    ev = by_touch(res.events)
    attempt = ev.groupby(["replication", "case_id"])
    assert (attempt["touch"].agg(list).map(tuple) == tuple(range(ROOM_FOLLOW_UPS + 1))).all()
    assert (attempt["resource"].nunique() == 1).all(), "a follow-up went to another rep"
    outcomes = attempt["outcome"].agg(list).map(tuple)
    assert (outcomes == ("follow-up",) * ROOM_FOLLOW_UPS + ("advanced",)).all()
    # Each touch is due when the previous one's gap ends, and its work is its effort ...
    first, last = ev["touch"] == 0, ev["touch"] == ROOM_FOLLOW_UPS
    assert close(ev["decision_time"][~last], ev["enable_time"][~first])
    assert close((ev["end_time"] - ev["start_time"])[first], FIRST_HOURS / HPD)
    assert close((ev["end_time"] - ev["start_time"])[~first], FOLLOW_UP_HOURS / HPD)
    # ... the customer answers a fixed delay after the last, and that closes the lead.
    assert close((ev["decision_time"] - ev["end_time"])[last], ANSWER_DAYS)
    leads = res.leads.set_index(["replication", "case_id"]).sort_index()
    assert close(leads["close_time"], ev[last].set_index(["replication", "case_id"])
                 ["decision_time"].sort_index())
    for raw in res.raw:
        split = phases(raw)
        total = sum(np.bincount(split.case, split.days(p), len(raw.leads["case"]))
                    for p in ("handoff", "nurture", "wait", "work", "customer"))
        assert close(total, raw.leads["close_time"] - raw.leads["arrival_time"])
    stage = res.stages().iloc[0]
    assert stage["entered"] == pytest.approx(res.kpis["leads"].mean())
    assert stage["effort_mean_hours"] == pytest.approx(
        FIRST_HOURS + ROOM_FOLLOW_UPS * FOLLOW_UP_HOURS, rel=1e-9)
    tables = per_replication(res)
    gaps = [float((t.events["decision_time"] - t.events["end_time"])
                  [t.events["touch"] < ROOM_FOLLOW_UPS].mean()) for t in tables]
    busy = ROOM_ARRIVAL * (FIRST_HOURS + ROOM_FOLLOW_UPS * FOLLOW_UP_HOURS) / HPD / ROOM_REPS
    # Little's law for the books: open deals per rep = arrival rate x time open / reps.
    little = [t.teams()["open_deals_mean"].iloc[0] - ROOM_ARRIVAL
              * t.kpis["cycle_time_mean_days"].iloc[0] / ROOM_REPS for t in tables]
    assert_covers(gaps, GAP_MEAN, "mean gap before a follow-up", 3)
    assert_covers(res.kpis["utilisation_rep"], busy, "busy share of a rep", 3)
    assert_covers(little, 0.0, "open deals per rep less arrivals x cycle / reps", 3)


# ---- by attribute -----------------------------------------------------------------------

def segment_run(adjust: dict[str, Any] | None) -> ss.Results:
    doc = room_scenario()
    doc["roles"][0]["assignment"] = "pooled"  # with 30 reps a touch never waits
    two_segments(doc, enterprise=0.4)
    if adjust is not None:
        doc["stages"][0]["adjust"] = {"segment": {"enterprise": adjust}}
    return ss.run(doc, replications=2, seed=seed(603))


def touches_of(res: ss.Results, segment: str) -> pd.DataFrame:
    ev = by_touch(res.events)
    return ev[ev["segment"] == segment].reset_index(drop=True)


def test_a_segments_follow_ups_are_its_own_and_on_its_own_draws() -> None:
    base = segment_run(None)
    more = segment_run({"follow_ups": 5})
    slower = segment_run({"follow_ups": 5, "customer_delay_scale": 2.0, "effort_scale": 3.0})
    columns = ["case_id", "touch", "enable_time", "start_time", "end_time", "decision_time"]
    # The other segment is untouched.
    pd.testing.assert_frame_equal(touches_of(base, "smb")[columns],
                                  touches_of(more, "smb")[columns])
    b, m, s = (touches_of(r, "enterprise") for r in (base, more, slower))
    assert set(m.groupby(["replication", "case_id"])["touch"].max()) == {5}
    # The first three touches are the same draws: the same gaps, the same work.
    early = m[m["touch"] <= ROOM_FOLLOW_UPS].reset_index(drop=True)
    finals = b["touch"] == ROOM_FOLLOW_UPS
    pd.testing.assert_frame_equal(b.loc[~finals, columns], early.loc[~finals, columns])
    assert close(b.loc[finals, "end_time"], early.loc[finals, "end_time"])

    def gap(t: pd.DataFrame) -> pd.Series:
        prev_end = t.groupby(["replication", "case_id"])["end_time"].shift()
        return (t["enable_time"] - prev_end)[t["touch"] > 0]

    def work(t: pd.DataFrame) -> pd.Series:
        return (t["end_time"] - t["start_time"])[t["touch"] > 0]

    assert close(gap(s), 2.0 * gap(m))
    assert close(work(s), 3.0 * work(m))
    assert close(work(m), FOLLOW_UP_HOURS / HPD)


# ---- going cold -----------------------------------------------------------------------

COLD_LIMIT = 0.5


def test_a_lead_waiting_for_a_follow_up_goes_cold_at_the_limit() -> None:
    doc = with_follow_ups(base_scenario(), 2, {"dist": "exponential", "mean": 2.0},
                          {"dist": "exponential", "mean": 4.0})
    doc["channels"][0]["leads_per_day"] = 0.6
    doc["going_cold"] = {"logit_per_day": 0.0, "max_wait_days": COLD_LIMIT}
    res = ss.run(doc, replications=4, seed=seed(604))
    ev = res.events
    cold = ev[ev["outcome"] == "cold"]
    later = cold[cold["touch"] > 0]
    assert len(later) > 20, "too few leads went cold at a follow-up to check anything"
    assert close(cold["decision_time"] - cold["enable_time"], COLD_LIMIT)
    assert ((ev["start_time"] - ev["enable_time"]).dropna() <= COLD_LIMIT + 1e-12).all()
    leads = res.leads.set_index(["replication", "case_id"])
    lost = leads.loc[pd.MultiIndex.from_frame(later[["replication", "case_id"]])]
    assert (lost["status"] == "lost").all() and (lost["lost_reason"] == "cold").all()
    assert close(lost["close_time"], later["decision_time"])


def test_every_touchs_wait_lowers_the_attempts_conversion() -> None:
    doc = with_follow_ups(base_scenario(), 2, {"dist": "exponential", "mean": 1.0},
                          {"dist": "exponential", "mean": 4.0})
    res = ss.run(waiting_scenario(doc, 0.9), replications=20, seed=seed(605))
    ev = res.events
    waited = (ev["start_time"] - ev["enable_time"]).groupby(
        [ev["replication"], ev["case_id"]]).sum()
    final = ev[ev["outcome"] != "follow-up"].set_index(["replication", "case_id"])
    wait = waited.loc[final.index].to_numpy()
    first = ev[ev["touch"] == 0].set_index(["replication", "case_id"]).loc[final.index]
    later = wait - (first["start_time"] - first["enable_time"]).to_numpy()
    assert later.max() > 2.0  # the follow-ups' waits alone move conversion a lot
    p = logistic(logit(COLD_P0) + COLD_LOGIT * wait)
    assert_bernoulli_sum((final["outcome"] == "advanced").to_numpy(), p,
                         "attempts passing after the waits of all their touches")
