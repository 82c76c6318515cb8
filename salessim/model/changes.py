"""What may change while a run is under way, and what is fixed once it starts.

Between rounds (``Replication.apply``) a scenario may change how the work is done:
headcounts and hiring plans, skills and team effects, assignment and dispatch,
ramp-up and attrition, stage efforts, delays, conversions, failure routes and SLAs,
handoffs, going cold, travel, payment terms and money. What shapes the run itself is
fixed: the calendar, the lead attributes, the channels and deal values (the leads are
drawn when the run starts), the after-sale part (orders and customers under way follow
its rules), the management plan (targets and pay are priced over the whole run), the
stages and their roles, the roles and teams that exist
and what each team covers, which rep groups have reps, and salaries (costs price every
day a rep was employed at its role's salary).
"""

from __future__ import annotations

from typing import Any

from salessim.scenario.diff import ABSENT, document_differences
from salessim.scenario.errors import Problem
from salessim.scenario.schema import Scenario

FIXED_KEYS = ("schema_version", "calendar", "grades", "regions", "products", "segments",
              "channels", "deal_value", "after_sale", "management")
"""Top-level keys that cannot change during a run."""

CHANGEABLE = ("headcounts and hiring plans, skills and team effects, assignment "
              "and dispatch, ramp-up and attrition, stage efforts, delays, conversions, "
              "failure routes and SLAs, handoffs, going cold, travel, payment and money")


def _shape(sc: Scenario) -> dict[str, Any]:
    """The parts of a scenario that are fixed during a run, as a document."""
    doc = sc.to_document()
    return {
        **{k: doc.get(k) for k in FIXED_KEYS},
        # Costs price every employed day at the role's salary: it is fixed for the run.
        "roles": [{"name": r["name"], "salary_per_day": r["salary_per_day"]}
                  for r in doc["roles"]],
        "stages": [{"name": s["name"], "role": s["role"]} for s in doc["stages"]],
        "teams": [
            {"name": t["name"],
             **{k: t[k] for k in ("regions", "products", "segments") if k in t},
             "reps with staff": sorted(r for r, g in t["reps"].items() if g["headcount"] > 0)}
            for t in doc["teams"]
        ],
    }


def change_problems(before: Scenario, after: Scenario) -> list[Problem]:
    """Why ``after`` cannot replace ``before`` during a run (empty if it can).

    Returns:
        One problem per key path that differs where nothing may change, and one per
        rep group a change would leave without reps.
    """
    table = document_differences({"before": _shape(before), "after": _shape(after)})
    problems = []
    for path, row in table.iterrows():
        was, now = row["before"], row["after"]
        what = ("cannot be added" if was is ABSENT else "cannot be removed" if now is ABSENT
                else "cannot change")
        problems.append(Problem(str(path), f"{what} during a run (it is fixed when the run "
                                           f"starts); what can change: {CHANGEABLE}"))
    return problems + _empty_groups(before, after)


def _empty_groups(before: Scenario, after: Scenario) -> list[Problem]:
    """Rep groups with reps that a change would leave with none (leads would wait forever)."""
    problems = []
    teams = {t.name: t for t in after.teams}
    for i, team in enumerate(before.teams):
        for role, group in team.reps.items():
            if group.headcount > 0 and teams[team.name].reps.get(role, group).headcount == 0:
                problems.append(Problem(f"teams[{i}].reps.{role}.headcount",
                                        "must stay at least 1 during a run: the leads this "
                                        "group serves would wait forever"))
    return problems
