"""Conversion per grade from ``Results.breakdown`` matches the product of its stage rates.

Three stages worked by one role, three lead grades with their own pass probability at
each stage, no rework and no nurture. Nothing moves a conversion probability (going
cold, handoff information loss and team effects are all zero) and there are many reps,
so a lead of grade ``g`` is won with probability ``prod_i p_i[g]``, independently of
every other lead. The breakdown by grade must report it: each grade's mean conversion,
with the breakdown's own t interval (at the validation confidence, Bonferroni over the
grades), holds its product, and, since the grades are far apart, excludes the other
grades' products (a breakdown that mixed the grades up, or gave the overall rate for
each, would fail). Typical relative half-width of the 99.97 % intervals: 4-7 %.
"""

from __future__ import annotations

import dataclasses
import math

import pytest

import salessim as ss

from .support import ALPHA, assert_covers, base_scenario, seed

GRADE_SHARE = {"A": 0.25, "B": 0.35, "C": 0.40}
STAGES = {
    "qualify": {"A": 0.90, "B": 0.70, "C": 0.50},
    "proposal": {"A": 0.70, "B": 0.55, "C": 0.45},
    "contract": {"A": 0.85, "B": 0.75, "C": 0.60},
}
REPLICATIONS = 20


def theory(grade: str) -> float:
    """P(won) of a lead of ``grade``: it must pass every stage."""
    return math.prod(p[grade] for p in STAGES.values())


@pytest.fixture(scope="module")
def res() -> ss.Results:
    doc = base_scenario()
    doc["name"] = "conversion by grade"
    doc["calendar"].update(horizon_days=110.0, warmup_days=10.0, drain_limit_days=300.0)
    doc["grades"] = list(GRADE_SHARE)
    doc["channels"][0]["leads_per_day"] = 20.0
    doc["channels"][0]["mix"]["grade"] = dict(GRADE_SHARE)
    doc["teams"][0]["reps"]["rep"]["headcount"] = 40  # no queue worth the name
    doc["stages"] = [
        {"name": name, "role": "rep",
         "effort_hours": {"dist": "triangular", "low": 0.5, "mode": 1.0, "high": 2.0},
         "customer_delay_days": {"dist": "exponential", "mean": 1.0},
         "conversion": dict(p)}
        for name, p in STAGES.items()
    ]
    return ss.run(ss.load_scenario(doc), replications=REPLICATIONS, seed=seed(303),
                  progress=False)


def test_conversion_per_grade_is_the_product_of_its_stage_rates(res: ss.Results) -> None:
    strict = dataclasses.replace(res, confidence=1.0 - ALPHA / len(GRADE_SHARE))
    table = strict.breakdown("grade").loc["conversion_rate"]
    assert (strict.kpis["open"] == 0).all()
    for grade in GRADE_SHARE:
        row = table.loc[grade]
        expected = theory(grade)
        assert row["n"] == REPLICATIONS
        assert row["ci_low"] <= expected <= row["ci_high"], (
            f"grade {grade}: theory {expected:.4f} is outside the breakdown's interval "
            f"[{row['ci_low']:.4f}, {row['ci_high']:.4f}] (mean {row['mean']:.4f})")
        for other in GRADE_SHARE:
            if other != grade:
                assert not row["ci_low"] <= theory(other) <= row["ci_high"], (grade, other)


def test_grades_split_the_leads_in_their_shares(res: ss.Results) -> None:
    leads = res.breakdown_kpis("grade")["leads"]
    share = leads / leads.groupby(level="replication").transform("sum")
    for grade, expected in GRADE_SHARE.items():
        assert_covers(share.xs(grade, level="grade"), expected, f"share of grade {grade}",
                      checks=len(GRADE_SHARE))
