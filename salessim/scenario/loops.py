"""Rework and nurture loops that would not end, or end only after a flood of attempts.

A failed attempt may send a lead back to an earlier stage (rework) or retry the stage
later (nurture). Read as an absorbing Markov chain over the stages, with the base
conversion of each grade, three things can go wrong, and each is refused when the
scenario is loaded, before anything runs (where stages are adjusted by the deal, the
chain takes each stage's least favourable adjustment: the lowest conversion and the
highest failure shares any lead can get):

* a lead can reach a stage from which it can never be won or lost (every failure goes
  back and the way forward has probability 0): it would loop for ever;
* a lead makes more than ``MAX_EXPECTED_ATTEMPTS`` attempts on average (the expected
  number of visits, from the chain's fundamental matrix): the run would be flooded;
* a loop takes no time at all (every effort, customer delay, handoff and nurture on it
  has mean 0): the simulation clock would stand still while the lead goes round.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from salessim.scenario.limits import MAX_EXPECTED_ATTEMPTS

if TYPE_CHECKING:  # the schema runs these checks: no import of it at run time
    from salessim.scenario.schema import Scenario, Stage

Problems = list[tuple[str, str]]

_TOLERANCE = 1e-12


def loop_problems(sc: Scenario) -> Problems:
    """Loops that never end, flood the run, or take no time; (key path, message) pairs."""
    problems = _zero_time_problems(sc)
    by_path: dict[str, list[str]] = {}
    messages: dict[str, str] = {}
    for g, grade in enumerate(sc.grades):
        found = _chain_problem(sc, g)
        if found is not None:
            path, message = found
            by_path.setdefault(path, []).append(grade)
            messages.setdefault(path, message)
    for path, grades in by_path.items():
        who = f"leads of grade{'s' if len(grades) > 1 else ''} {', '.join(grades)}"
        problems.append((path, f"{who} {messages[path]}"))
    return problems


def _edges(sc: Scenario, g: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Transition probabilities between stages for grade ``g``, and out of the chain.

    Returns:
        ``Q`` (stage to stage), ``won`` (per stage, the chance of being won from it)
        and ``lost`` (the chance of being lost from it).
    """
    n = len(sc.stages)
    q = np.zeros((n, n))
    won, lost = np.zeros(n), np.zeros(n)
    grade = sc.grades[g]
    for i, st in enumerate(sc.stages):
        p, rework_share, nurture_share = _least_favourable(st, st.conversion[grade])
        fail = 1.0 - p
        if i + 1 < n:
            q[i, i + 1] += p
        else:
            won[i] = p
        rework = fail * rework_share
        nurture = fail * nurture_share
        if rework > 0 and st.failure.rework_to is not None:
            q[i, sc.stage_index(st.failure.rework_to)] += rework
        q[i, i] += nurture
        lost[i] = max(0.0, fail - rework - nurture)
    return q, won, lost


def _least_favourable(st: Stage, p: float) -> tuple[float, float, float]:
    """The lowest conversion and highest failure shares a stage's adjustments give."""
    rework, nurture = st.failure.rework_share, st.failure.nurture_share
    shift = 0.0
    for values in st.adjust.values():
        shift += min(0.0, *(a.conversion_logit for a in values.values()))
        rework = max(rework, *(a.rework_share or 0.0 for a in values.values()))
        nurture = max(nurture, *(a.nurture_share or 0.0 for a in values.values()))
    if shift and 0.0 < p < 1.0:
        p = 1.0 / (1.0 + math.exp(-(math.log(p / (1.0 - p)) + shift)))
    return p, rework, min(nurture, 1.0 - rework)


def _reachable(q: np.ndarray, start: int) -> list[int]:
    seen, todo = {start}, [start]
    while todo:
        i = todo.pop()
        for j in np.flatnonzero(q[i] > _TOLERANCE):
            if int(j) not in seen:
                seen.add(int(j))
                todo.append(int(j))
    return sorted(seen)


def _chain_problem(sc: Scenario, g: int) -> tuple[str, str] | None:
    """The loop problem of grade ``g``'s leads, if any: (key path, message)."""
    q, won, lost = _edges(sc, g)
    reach = _reachable(q, 0)
    exits = won + lost
    ends = {i for i in reach if exits[i] > _TOLERANCE}
    changed = True
    while changed:  # stages from which some way leads out of the chain
        changed = False
        for i in reach:
            if i not in ends and any(q[i, j] > _TOLERANCE for j in ends):
                ends.add(i)
                changed = True
    stuck = [i for i in reach if i not in ends]
    if stuck:
        i = stuck[-1]
        st = sc.stages[i]
        return (f"stages[{i}].failure",
                f"can never leave stage {st.name!r}: every way on from it leads back "
                f"(conversion {st.conversion[sc.grades[g]]:g}, rework_share "
                f"{st.failure.rework_share:g}, nurture_share {st.failure.nurture_share:g}), so "
                "they would go round for ever; let some failures be lost or raise the "
                "conversion")
    sub = q[np.ix_(reach, reach)]
    e0 = np.zeros(len(reach))
    e0[0] = 1.0
    visits = np.linalg.solve((np.eye(len(reach)) - sub).T, e0)
    total = float(visits.sum())
    if total <= MAX_EXPECTED_ATTEMPTS:
        return None
    # Blame the stage that sends leads round most often, not the one they pass most.
    back = np.array([sum(q[i, j] for j in range(i + 1)) for i in reach])
    at = int(np.argmax(visits * back))
    k = reach[at]
    st = sc.stages[k]
    return (f"stages[{k}].failure",
            f"would make about {total:,.0f} stage attempts each on average (about "
            f"{float(visits[at]):,.0f} at {st.name!r}); at most {MAX_EXPECTED_ATTEMPTS} are "
            "allowed: the stage sends nearly every lead round again (conversion "
            f"{st.conversion[sc.grades[g]]:g}, rework_share {st.failure.rework_share:g}, "
            f"nurture_share {st.failure.nurture_share:g})")


def _stage_days(sc: Scenario, st: Stage) -> float:
    """Mean elapsed days of one attempt at a stage, before any wait for a rep."""
    hpd = sc.calendar.hours_per_day
    work = st.effort_hours.mean() / hpd
    joint = max((jw.effort_hours.mean() / hpd for jw in st.joint), default=0.0)
    travel = 0.0
    if st.visit:
        zones = [*(z.hours for z in (sc.travel.zones if sc.travel is not None else ())),
                 *(t.travel.hours for t in sc.teams if t.travel is not None)]
        untravelled = sc.travel is None and any(t.travel is None for t in sc.teams)
        travel = 0.0 if untravelled or not zones else min(z.mean() for z in zones) / hpd
    return max(work, joint) + travel + st.customer_delay_days.mean()


def _handoff_days(sc: Scenario, stages: list[Stage]) -> float:
    """Mean handoff days going once round ``stages`` (the last hands back to the first)."""
    days = 0.0
    for a, b in zip(stages, [*stages[1:], stages[0]], strict=True):
        if a.role != b.role:
            days += (b.handoff or sc.handoff).delay_days.mean()
    return days


def _zero_time_problems(sc: Scenario) -> Problems:
    """Rework and nurture loops along which no time passes on average."""
    problems: Problems = []
    for i, st in enumerate(sc.stages):
        if all(p >= 1.0 for p in st.conversion.values()):
            continue  # no lead fails here: the loop is never taken
        loops: list[tuple[str, int, float]] = []
        if st.failure.rework_share > 0 and st.failure.rework_to is not None:
            loops.append(("sent back", sc.stage_index(st.failure.rework_to), 0.0))
        if st.failure.nurture_share > 0 and st.failure.nurture_days is not None:
            loops.append(("nurtured", i, st.failure.nurture_days.mean()))
        for kind, start, extra in loops:
            stages = list(sc.stages[start:i + 1])
            days = (extra + sum(_stage_days(sc, s) for s in stages)
                    + _handoff_days(sc, stages))
            if days <= 0:
                problems.append((f"stages[{i}].failure", (
                    f"a lead {kind} from {st.name!r} to {sc.stages[start].name!r} goes round "
                    "with no time passing: the effort, customer delay, handoff and nurture on "
                    "that loop all have a mean of 0; give one of them some time")))
                break
    return problems
