"""A broken after-sale part gets one clear message: the key path and what is allowed.

Each case adds the minimal after-sale part (``tests/data/after_sale/minimal.yaml``) to
the smallest valid scenario (``tests/validation/support.base_scenario``), breaks one
thing and loads it: ``ScenarioError`` must name ``<dict>``, the exact key path under
``after_sale`` and, in plain words, what is wrong and what would do, with none of the
validation library's wording.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

import salessim as ss
from salessim.scenario.errors import ScenarioError

from ..validation.support import base_scenario

DATA = Path(__file__).resolve().parents[1] / "data" / "after_sale"
PART: dict[str, Any] = yaml.safe_load((DATA / "minimal.yaml").read_text(encoding="utf-8"))
FORBIDDEN = ("Traceback", "pydantic", "Input should", "validation error", "Value error",
             "KeyPathError", "For further information")
"""Wording of the library underneath, which must not reach the user."""

Change = Callable[[dict[str, Any]], object]


def valid_doc() -> dict[str, Any]:
    """The smallest scenario with the minimal after-sale part: stage ``work`` (role
    ``rep``), channel ``inbound``, grade ``A``; delivery step ``implementation`` by
    ``delivery``, invoiced at the signature by ``finance``."""
    doc = base_scenario()
    part = copy.deepcopy(PART)
    doc["roles"] += part["roles"]
    doc["teams"] += part["teams"]
    doc["after_sale"] = part["after_sale"]
    return doc


def repurchase(**changes: Any) -> Change:
    """A change adding a valid repurchase section, with ``changes`` applied to it."""
    section = {"after_days": {"dist": "fixed", "value": 20.0}, "probability": 0.6,
               "channel": "inbound", "grade": "A", "enter_at": "work", **changes}
    return lambda d: d["after_sale"].update(repurchase=section)


def step(**changes: Any) -> Change:
    """A change to the delivery step ``implementation``."""
    return lambda d: d["after_sale"]["delivery"]["steps"][0].update(changes)


def broken(change: Change) -> str:
    """Break the valid document by ``change`` and load it; the clean message."""
    doc = valid_doc()
    change(doc)
    return error_text(doc)


def error_text(doc: dict[str, Any]) -> str:
    """Load a broken document; the message, checked to be clean (every line naming
    ``<dict>``, none of the validation library's wording)."""
    with pytest.raises(ScenarioError) as info:
        ss.Scenario.from_document(doc)
    text = str(info.value)
    for line in text.splitlines():
        assert line.startswith("<dict>: "), text
    for bad in FORBIDDEN:
        assert bad not in text, f"{bad!r} in message:\n{text}"
    return text


def problem_at(text: str, path: str) -> str:
    """The line reporting ``path`` (exactly that path)."""
    for line in text.splitlines():
        if line.split(": ", 2)[1:2] == [path]:
            return line
    raise AssertionError(f"no problem at {path!r} in:\n{text}")


def test_the_valid_document_loads() -> None:
    """The base of every case is valid, with a repurchase section too: each failure below
    comes from the one thing broken."""
    sc = ss.Scenario.from_document(valid_doc())
    assert sc.after_sale is not None and sc.after_sale.repurchase is None
    doc = valid_doc()
    repurchase()(doc)
    assert ss.Scenario.from_document(doc).after_sale is not None


@pytest.mark.parametrize(
    ("change", "path", "words"),
    [
        (repurchase(enter_at="wrk"), "after_sale.repurchase.enter_at",
         "unknown stage 'wrk' (did you mean 'work'?); repeat opportunities can enter at: work"),
        (repurchase(channel="inbund"), "after_sale.repurchase.channel",
         "unknown channel 'inbund' (did you mean 'inbound'?); channels are: inbound"),
        (repurchase(grade="B"), "after_sale.repurchase.grade",
         "unknown grade 'B'; grades are: A"),
        (step(role="deliver"), "after_sale.delivery.steps[0].role",
         "unknown role 'deliver' (did you mean 'delivery'?); roles are: rep, delivery, finance"),
    ],
    ids=["enter_at", "channel", "grade", "step_role"],
)
def test_a_name_that_does_not_exist(change: Change, path: str, words: str) -> None:
    """A stage, channel, grade or role named in the after-sale part must exist; the
    message lists the ones that do."""
    line = problem_at(broken(change), path)
    assert words in line, line


@pytest.mark.parametrize(
    ("change", "path", "got"),
    [
        (repurchase(probability=1.5), "after_sale.repurchase.probability", "1.5"),
        (lambda d: d["after_sale"]["delivery"].update(promise_lost_prob=-0.1),
         "after_sale.delivery.promise_lost_prob", "-0.1"),
    ],
    ids=["repurchase", "promise_lost"],
)
def test_probability_outside_0_1(change: Change, path: str, got: str) -> None:
    line = problem_at(broken(change), path)
    assert f"must be between 0 and 1; got {got}" in line, line


def test_milestone_shares_not_adding_up_to_one() -> None:
    """The milestones invoice the whole deal value: 0.5 + 0.4 is refused, with the sum."""
    line = problem_at(
        broken(lambda d: d["after_sale"]["invoicing"].update(milestones=[
            {"at": "signature", "share": 0.5}, {"at": "implementation", "share": 0.4}])),
        "after_sale.invoicing.milestones")
    assert "the shares add up to 0.9" in line and "must add up to 1" in line, line


def test_milestone_at_an_unknown_point() -> None:
    """A milestone falls at the signature, a step's end or the warranty's end; the
    message lists them, the scenario's own steps included."""
    line = problem_at(
        broken(lambda d: d["after_sale"]["invoicing"].update(milestones=[
            {"at": "delivery", "share": 1.0}])),
        "after_sale.invoicing.milestones[0].at")
    assert "unknown milestone 'delivery'" in line, line
    assert "milestones are signature, implementation, warranty_end" in line, line


def test_step_that_can_fail_needs_its_fix_time() -> None:
    line = problem_at(broken(step(pass_prob=0.8)), "after_sale.delivery.steps[0].fix_hours")
    assert "missing" in line and "pass_prob 0.8" in line and "fix takes" in line, line


def test_lost_promises_need_their_extra_days() -> None:
    line = problem_at(
        broken(lambda d: d["after_sale"]["delivery"].update(promise_lost_prob=0.2)),
        "after_sale.delivery.promise_lost_days")
    assert "missing" in line and "promise_lost_prob > 0 needs" in line, line


def test_service_role_no_team_has_reps_of() -> None:
    """A role that exists but has no reps anywhere cannot serve; the message says where
    to add them."""
    def add_service(d: dict[str, Any]) -> None:
        d["roles"].append({"name": "support", "salary_per_day": 0.0})
        d["after_sale"]["service"] = {"role": "support", "requests_per_year": 4.0,
                                      "effort_hours": {"dist": "fixed", "value": 1.0}}

    line = problem_at(broken(add_service), "after_sale.service.role")
    assert "no team has reps of role 'support'" in line, line
    assert "teams[...].reps.support.headcount" in line, line


def test_duplicate_step_names() -> None:
    def duplicate(d: dict[str, Any]) -> None:
        steps = d["after_sale"]["delivery"]["steps"]
        steps.append(copy.deepcopy(steps[0]))

    line = problem_at(broken(duplicate), "after_sale.delivery.steps[1].name")
    assert "duplicate step name 'implementation', already used at steps[0]" in line, line


def test_step_named_like_a_milestone() -> None:
    """``signature`` and ``warranty_end`` name milestones; a step of that name would make
    a milestone ambiguous."""
    line = problem_at(broken(step(name="signature")), "after_sale.delivery.steps[0].name")
    assert "'signature' names a milestone" in line, line


def test_every_problem_is_reported_at_once() -> None:
    """Problems in different parts of the after-sale section come in one message, one line
    each, so a user fixes them in one go."""
    def several(d: dict[str, Any]) -> None:
        repurchase(enter_at="nowhere", grade="Z")(d)
        d["after_sale"]["delivery"]["steps"][0]["role"] = "installer"

    text = broken(several)
    for path in ("after_sale.repurchase.enter_at", "after_sale.repurchase.grade",
                 "after_sale.delivery.steps[0].role"):
        problem_at(text, path)
    assert len(text.splitlines()) == 3, text
