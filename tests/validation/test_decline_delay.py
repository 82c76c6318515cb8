"""A "no" taking the customer its own time (``Stage.decline_delay_days``).

Each failed attempt waits the decline delay instead of the customer's delay, drawn from
the same uniform: exact identities lead by lead, and nothing else moves.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import salessim as ss

BASE = {
    "schema_version": 1, "name": "decline",
    "calendar": {"horizon_days": 200, "warmup_days": 0, "drain_limit_days": 300},
    "grades": ["A", "B"], "regions": ["all"], "products": ["p"], "segments": ["smb", "ent"],
    "channels": [{"name": "web", "leads_per_day": 4,
                  "mix": {"grade": {"A": 0.5, "B": 0.5}, "region": {"all": 1.0},
                          "product": {"p": 1.0}, "segment": {"smb": 0.7, "ent": 0.3}}}],
    "deal_value": {"distribution": {"dist": "fixed", "value": 1000}},
    # Ample reps: nobody waits, so timing cannot move any outcome.
    "roles": [{"name": "ae", "salary_per_day": 100}],
    "teams": [{"name": "t", "reps": {"ae": {"headcount": 40}}}],
    "stages": [
        {"name": "meet", "role": "ae", "effort_hours": {"dist": "fixed", "value": 1},
         "customer_delay_days": {"dist": "lognormal", "mean": 5, "sd": 3},
         "conversion": {"A": 0.7, "B": 0.5},
         "adjust": {"segment": {"ent": {"customer_delay_scale": 2.0}}}},
        {"name": "close", "role": "ae", "effort_hours": {"dist": "fixed", "value": 1},
         "customer_delay_days": {"dist": "gamma", "mean": 8, "sd": 4},
         "conversion": {"A": 0.8, "B": 0.6}},
    ],
    "handoff": {"delay_days": {"dist": "fixed", "value": 0}},
    "payment": {"invoice_delay_days": {"dist": "fixed", "value": 0},
                "payment_days": {"dist": "fixed", "value": 0}},
}


def _events(changes: dict[str, object]) -> pd.DataFrame:
    sc = ss.load_scenario(BASE).with_changes(changes) if changes else ss.load_scenario(BASE)
    ev = ss.run(sc, replications=2, seed=5, executor="serial", progress=False).events
    ev = ev.assign(answer=ev["decision_time"] - ev["end_time"])
    return ev.set_index(["replication", "case_id", "activity", "attempt"]).sort_index()


@pytest.fixture(scope="module")
def plain() -> pd.DataFrame:
    return _events({})


def test_a_no_waits_the_decline_delay_and_a_yes_the_customer_delay(plain: pd.DataFrame
                                                                   ) -> None:
    """Twice the mean with the same spread in log terms: each "no" is exactly 2x its draw."""
    twice = _events({"stages.meet.decline_delay_days": {"dist": "lognormal", "mean": 10,
                                                        "sd": 6},
                     "stages.close.decline_delay_days": {"dist": "gamma", "mean": 16,
                                                         "sd": 8}})
    assert list(twice.index) == list(plain.index)
    assert (twice["outcome"] == plain["outcome"]).all()  # the same leads say no
    no = plain["outcome"] == "lost"
    assert no.sum() > 100 and (~no).sum() > 100
    np.testing.assert_allclose(twice.loc[no, "answer"], 2 * plain.loc[no, "answer"],
                               rtol=1e-9)
    np.testing.assert_allclose(twice.loc[~no, "answer"], plain.loc[~no, "answer"], rtol=1e-12)


def test_the_segment_scale_acts_on_the_decline_delay() -> None:
    ev = _events({"stages.meet.decline_delay_days": {"dist": "fixed", "value": 3.0},
                  "stages.close.decline_delay_days": {"dist": "fixed", "value": 7.0}})
    lost_meet = ev[(ev["outcome"] == "lost") & (ev.index.get_level_values("activity") == "meet")]
    expected = np.where(lost_meet["segment"] == "ent", 6.0, 3.0)
    np.testing.assert_allclose(lost_meet["answer"], expected, rtol=1e-12)
    lost_close = ev[(ev["outcome"] == "lost") & (ev.index.get_level_values("activity") == "close")]
    np.testing.assert_allclose(lost_close["answer"], 7.0, rtol=1e-12)


def test_a_decline_delay_equal_to_the_customer_delay_changes_nothing(plain: pd.DataFrame
                                                                     ) -> None:
    same = _events({"stages.meet.decline_delay_days": BASE["stages"][0]["customer_delay_days"],
                    "stages.close.decline_delay_days": BASE["stages"][1]["customer_delay_days"]})
    pd.testing.assert_frame_equal(same, plain)
