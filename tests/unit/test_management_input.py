"""A broken management plan gets one clear message: the key path and what is allowed.

Each case adds a valid plan (a bookings target, commission with an accelerator and a
cap, a period-end push, sandbagging and a discount policy) and two approval tiers to the
smallest valid scenario, breaks one thing and loads it: ``ScenarioError`` must name
``<dict>``, the exact key path and, in plain words, what is wrong and what would do.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import salessim as ss
from salessim.scenario.errors import ScenarioError

from ..validation.support import base_scenario
from .test_after_sale_input import error_text, problem_at

Change = Callable[[dict[str, Any]], object]


def valid_doc() -> dict[str, Any]:
    """Stages ``work`` (role ``rep``) and approvals ``approve`` and ``sign_off``
    (roles ``manager`` and ``finance``: discounts in (0.1, 0.2] and above 0.2)."""
    doc = base_scenario()
    for role in ("manager", "finance"):
        doc["roles"].append({"name": role, "salary_per_day": 0.0, "assignment": "pooled",
                             "dispatch": "fifo"})
        doc["teams"].append({"name": f"{role}s", "reps": {role: {"headcount": 1}}})
    for name, role, tier in (("approve", "manager", {"above": 0.1, "up_to": 0.2}),
                             ("sign_off", "finance", {"above": 0.2})):
        doc["stages"].append({"name": name, "role": role,
                              "effort_hours": {"dist": "fixed", "value": 1.0},
                              "customer_delay_days": {"dist": "fixed", "value": 0.0},
                              "conversion": {"A": 1.0}, "approval": {"on": "discount", **tier}})
    doc["management"] = {
        "period": "quarter",
        "targets": [{"role": "rep", "measure": "bookings", "per_period": 50_000}],
        "commission": [{"role": "rep", "on": "bookings", "rate": 0.05,
                        "accelerator": {"rate": 0.08}, "cap_per_period": 5_000}],
        "behaviour": {"period_end_push": {"stages": ["work"], "discount": 0.05},
                      "sandbagging": True},
        "discounts": {"stage": "work", "depth": 0.1, "logit_per_discount": 2.0},
    }
    return doc


def broken(change: Change) -> str:
    doc = valid_doc()
    change(doc)
    return error_text(doc)


def plan(change: Callable[[dict[str, Any]], object]) -> Change:
    return lambda d: change(d["management"])


def test_the_valid_document_loads() -> None:
    sc = ss.Scenario.from_document(valid_doc())
    assert sc.management is not None and sc.management.period_days == 62.5
    assert [st.approval is not None for st in sc.stages] == [False, True, True]


@pytest.mark.parametrize(
    ("change", "path", "words"),
    [
        (plan(lambda m: m["commission"][0]["accelerator"].update(rate=0.01)),
         "management.commission[0].accelerator.rate",
         "its rate must be at least the base rate 0.05; got 0.01"),
        (plan(lambda m: m["targets"][0].update(role="ae")), "management.targets[0].role",
         "unknown role 'ae'; roles are: rep, manager, finance"),
        (plan(lambda m: m["targets"][0].update(team="north")), "management.targets[0].team",
         "unknown team 'north'; teams with rep reps are: everyone"),
        (lambda d: d["stages"][2]["approval"].update(above=0.15),
         "stages[2].approval", "covers deals that 'approve' (stages[1], manager) also "
                               "approves"),
        (plan(lambda m: m["discounts"].update(depth=1.0)), "management.discounts.depth",
         "1.0"),
        (plan(lambda m: m["discounts"].update(depth=-0.1)), "management.discounts.depth",
         "-0.1"),
        (plan(lambda m: m["commission"][0].update(rate=1.5)), "management.commission[0].rate",
         "1.5"),
        (plan(lambda m: m["targets"].clear()), "management.commission[0].accelerator",
         "rep reps have no target on bookings"),
        (plan(lambda m: m["targets"].clear()), "management.behaviour.period_end_push",
         "it needs management.targets"),
        (plan(lambda m: m["commission"][0].pop("cap_per_period")),
         "management.behaviour.sandbagging", "cap_per_period"),
        (plan(lambda m: m.pop("discounts")), "management.behaviour.period_end_push.discount",
         "needs management.discounts"),
        (plan(lambda m: m.pop("discounts")), "stages[1].approval.on",
         "approving by discount needs management.discounts"),
        (plan(lambda m: m["discounts"].update(stage="sign_off")), "stages[1].approval.on",
         "an approval of the discount must follow it"),
        (plan(lambda m: m["discounts"].update(stage="wrk")), "management.discounts.stage",
         "unknown stage 'wrk' (did you mean 'work'?)"),
        (plan(lambda m: m["behaviour"]["period_end_push"].update(stages=["wrk"])),
         "management.behaviour.period_end_push.stages[0]", "unknown stage 'wrk'"),
        (plan(lambda m: m["commission"][0].update(on="collected", clawback=True)),
         "management.commission[0].clawback", "only applies to commission on bookings"),
        (plan(lambda m: m["commission"][0].update(on="satisfaction")),
         "management.commission[0].on", "it needs the after-sale part"),
        (plan(lambda m: m["targets"][0].update(measure="satisfaction")),
         "management.targets[0].measure", "it needs the after-sale part"),
        (plan(lambda m: m["targets"].append(dict(m["targets"][0]))),
         "management.targets[1]", "repeats the target of targets[0]"),
        (plan(lambda m: m.update(period="week")), "management.period", "week"),
        (lambda d: d["stages"][1]["approval"].update(up_to=0.05), "stages[1].approval.up_to",
         "must be above 'above' (0.1)"),
        (plan(lambda m: m["discounts"].update(depth_by={"segment": {"s": 0.96}})),
         "management.behaviour.period_end_push.discount", "must stay below 1"),
    ],
    ids=["accelerator_below_base", "target_role", "target_team", "overlapping_tiers",
         "discount_one", "discount_negative", "rate", "accelerator_needs_target",
         "push_needs_targets", "sandbagging_needs_cap", "push_discount_needs_policy",
         "approval_needs_policy", "approval_before_discount", "discount_stage",
         "push_stage", "clawback_on_cash", "satisfaction_pay_needs_after_sale",
         "satisfaction_target_needs_after_sale", "repeated_target", "period", "tier_order",
         "push_past_the_price"],
)
def test_bad_plan(change: Change, path: str, words: str) -> None:
    line = problem_at(broken(change), path)
    assert words in line, line


def test_approvals_by_deal_value_need_no_plan() -> None:
    doc = valid_doc()
    del doc["management"]
    for st in doc["stages"][1:]:
        st["approval"]["on"] = "deal_value"
    sc = ss.Scenario.from_document(doc)
    assert sc.management is None


def test_a_new_stage_goes_where_before_puts_it(tmp_path: Any) -> None:
    sc = ss.load_scenario("scenarios/changes/plan/stricter-approvals.yaml")
    names = [st.name for st in sc.stages]
    assert names[-3:] == ["manager_approval", "finance_approval", "contract"]
    assert names[:5] == [st.name for st in ss.load_scenario("scenarios/regional.yaml"
                                                             ).stages][:5]


@pytest.mark.parametrize(
    ("stage", "words"),
    [({"name": "extra", "before": "contrat"},
      "stages[0].before: unknown item 'contrat' (did you mean 'contract'?)"),
     ({"name": "contract", "before": "qualify"},
      "stages[0].before: 'contract' is already in the parent scenario and keeps its place")],
    ids=["unknown", "existing"],
)
def test_before_must_name_a_parent_item(tmp_path: Any, stage: dict[str, str],
                                        words: str) -> None:
    child = tmp_path / "child.yaml"
    parent = Path("scenarios/regional.yaml").resolve()
    child.write_text(f"extends: {parent}\nstages:\n  - {{name: {stage['name']}, "
                     f"before: {stage['before']}}}\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        ss.load_scenario(child)
    assert words in str(info.value)
    assert str(child) in str(info.value)


def _reviews(change: Callable[[dict[str, Any]], object]) -> Change:
    """A change to a valid review plan (weekly, by the managers, of the reps)."""
    def apply(doc: dict[str, Any]) -> None:
        doc["management"]["reviews"] = {
            "role": "manager", "reviewed_role": "rep", "every_days": 5, "hours_per_rep": 0.5,
            "stale_after_days": 30, "coaching": {"logit_per_review": 0.01, "up_to": 0.2},
            "forecast": {"method": "stage_weighted", "stage_probability": {
                "work": 0.3, "approve": 0.8, "sign_off": 0.9}}}
        change(doc["management"]["reviews"])
    return apply


def test_a_valid_review_plan_loads() -> None:
    doc = valid_doc()
    _reviews(lambda r: None)(doc)
    reviews = ss.Scenario.from_document(doc).management.reviews  # type: ignore[union-attr]
    assert reviews is not None and reviews.forecast is not None
    assert reviews.forecast.stage_probability["work"] == 0.3


def _second_manager_team(doc: dict[str, Any]) -> None:
    doc["teams"].append({"name": "more_managers", "reps": {"manager": {"headcount": 1}}})


@pytest.mark.parametrize(
    ("change", "path", "words"),
    [
        (_reviews(lambda r: r.update(role="boss")), "management.reviews.role",
         "unknown role 'boss'"),
        (_reviews(lambda r: r.update(reviewed_role="manager")),
         "management.reviews.reviewed_role", "a role does not review itself"),
        (lambda d: (_reviews(lambda r: None)(d), d["roles"][1].update(assignment="owner")),
         "management.reviews.role", "the role's assignment must be pooled"),
        (_reviews(lambda r: r["forecast"]["stage_probability"].pop("sign_off")),
         "management.reviews.forecast.stage_probability",
         "give the chance of winning at 'sign_off' too"),
        (_reviews(lambda r: r["forecast"]["stage_probability"].update(wrk=0.1)),
         "management.reviews.forecast.stage_probability.wrk", "unknown stage 'wrk'"),
        (_reviews(lambda r: r["forecast"].update(stage_probability={})),
         "management.reviews.forecast.stage_probability", "needs the chance of winning"),
        (_reviews(lambda r: r["forecast"].update(method="commit")),
         "management.reviews.forecast.commit_from", "needs the first stage"),
        (_reviews(lambda r: r["forecast"].update(method="commit", commit_from="signoff")),
         "management.reviews.forecast.commit_from", "unknown stage 'signoff'"),
        (_reviews(lambda r: r["forecast"]["stage_probability"].update(work=1.2)),
         "management.reviews.forecast.stage_probability.work", "1.2"),
        (_reviews(lambda r: r.update(every_days=0.5)), "management.reviews.every_days",
         "0.5"),
        (_reviews(lambda r: r["coaching"].update(up_to=0)),
         "management.reviews.coaching.up_to", "0"),
    ],
    ids=["role", "self_review", "owner_manager", "missing_stage", "unknown_stage",
         "no_probabilities", "commit_needs_stage", "commit_stage", "probability",
         "every_days", "coaching_cap"],
)
def test_bad_reviews(change: Change, path: str, words: str) -> None:
    line = problem_at(broken(change), path)
    assert words in line, line


def test_reviewed_reps_need_a_manager_to_review_them() -> None:
    def two_manager_teams_and_none_of_the_reps(doc: dict[str, Any]) -> None:
        _reviews(lambda r: None)(doc)
        _second_manager_team(doc)

    line = problem_at(broken(two_manager_teams_and_none_of_the_reps),
                      "management.reviews.role")
    assert "team 'everyone' has rep reps but no manager, and 2 teams have one" in line, line


def test_chasing_payments_needs_pay_on_collection_and_a_collection_part() -> None:
    text = broken(plan(lambda m: m["behaviour"].update(
        chase_payments={"first_chase_days": 2, "every_days": 5})))
    lines = [line for line in text.splitlines()
             if line.split(": ", 2)[1:2] == ["management.behaviour.chase_payments"]]
    assert len(lines) == 2, text
    assert "it needs a commission on collected cash" in lines[0]
    assert "needs after_sale.collection" in lines[1]
