"""Headcount over a run: hiring plans, attrition and replacement, changes between rounds.

Every rep group (a pool: one role in one team) has a number of positions. A position is
filled by a rep or, after a leaver, waits ``replacement_days`` for the replacement.
Hires ramp up (``Role.ramp_up``): their conversion effect and extra effort fade
linearly over the ramp-up. Reps there from the start are up to speed.

Attrition: each position's occupants leave at exponentially distributed times with the
role's rate (``attrition_per_year`` per 250 working days). Each occupant draws, on
joining, how much "leaving hazard" it can take (a unit exponential) from the position's
own random stream (team, role, position), and leaves when the hazard accumulated at the
role's rate reaches it. A change of rate between rounds rescales the time left instead
of drawing again, so a position's history depends only on its own draws and the rates.

Reps differ (``Role.skill_spread_logit``, ``Role.effort_spread``, or their group's own):
each occupant of a position draws two standard normals from the position's own stream
of people, and its skill (logit) and effort factor are those draws scaled by the
group's spreads, so a rep's draws do not depend on how many others there are. A change
of spread between rounds rescales the same draws. Non-selling time
(``Role.non_selling_share``) slows every task of the role's reps alike.

A rep chosen to leave (a plan or a round lowering the headcount) is the most recently
hired one that is free, else the most recently hired one, which leaves when its task
ends.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import simpy

from salessim.model.events import Wakeup
from salessim.model.reps import Rep, RepPool
from salessim.rng import Purpose, name_key, stream
from salessim.scenario.schema import RepGroup, Role, Scenario

DAYS_PER_YEAR = 250.0
"""Working days in a year, the unit of ``attrition_per_year``."""


@dataclass
class _Position:
    """A place for one rep in a pool, with its own attrition stream.

    Attributes:
        slot: The position's number in its pool.
        rng: Its attrition stream.
        people: Its stream of the occupants' skill and pace.
        draws: The occupant's two standard normals (skill, pace).
        rep: The rep in it, or None while a replacement is awaited.
        hazard_left: Leaving hazard the rep can still take (unit exponential units).
        rate: Attrition rate now applied (per day).
        since: Day from which ``rate`` has applied.
        leaving_at: The scheduled departure.
        replacing: The scheduled arrival of a replacement.
    """

    slot: int
    rng: np.random.Generator
    people: np.random.Generator
    draws: tuple[float, float] = (0.0, 0.0)
    rep: Rep | None = None
    hazard_left: float = 0.0
    rate: float = 0.0
    since: float = 0.0
    leaving_at: Wakeup | None = None
    replacing: Wakeup | None = None


@dataclass
class _Group:
    """Staffing state of one pool."""

    pool: RepPool
    role: Role
    spec: RepGroup
    positions: list[_Position] = field(default_factory=list)
    pending: list[Wakeup] = field(default_factory=list)
    """Plan changes still to come."""


class Staff:
    """Hires, leavers and headcount changes of every pool of one replication.

    Args:
        env: The replication's environment.
        reps: The replication's list of all reps ever employed (appended to).
        seed: Root seed.
        replication: Replication index.
    """

    def __init__(self, env: simpy.Environment, reps: list[Rep], seed: int,
                 replication: int) -> None:
        self.env = env
        self.reps = reps
        self.seed = seed
        self.replication = replication
        self.groups: dict[tuple[str, str], _Group] = {}

    def add_pool(self, pool: RepPool, role: Role, spec: RepGroup) -> None:
        """Take charge of a pool whose initial reps are already in it."""
        group = _Group(pool, role, spec)
        self.groups[pool.team, pool.role] = group
        for rep in pool.reps:
            position = self._new_position(group)
            position.rep = rep

    def start(self, sc: Scenario) -> None:
        """Schedule the scenario's plans and the first leavers."""
        for group in self.groups.values():
            self._schedule(group, sc)
            for position in group.positions:
                self._occupant_joins(group, position)

    def apply(self, before: Scenario, after: Scenario) -> None:
        """Take ``after``'s staffing from now on, where it differs from ``before``'s.

        A group whose headcount the change sets gets that headcount now; the others keep
        their staff as the run has made it (plan steps done, leavers not yet replaced).
        Plan steps still to come are ``after``'s; the attrition rate is ``after``'s
        (a change of rate rescales the time each rep has left).
        """
        for (team, role_name), group in self.groups.items():
            group.role = after.role(role_name)
            was, now = (next(t for t in sc.teams if t.name == team).reps[role_name]
                        for sc in (before, after))
            group.spec = now
            for position in group.positions:
                self._person(group, position)
            for pending in group.pending:
                pending.cancel()
            group.pending = []
            for position in group.positions:
                self._reschedule_departure(group, position)
            if now.headcount != was.headcount:
                self.set_headcount(group, now.headcount)
            self._schedule(group, after)

    def stop(self) -> None:
        """Cancel everything still booked (the run is over)."""
        for group in self.groups.values():
            for wake in group.pending:
                wake.cancel()
            for position in group.positions:
                for booked in (position.leaving_at, position.replacing):
                    if booked is not None:
                        booked.cancel()

    def headcount(self, team: str, role: str) -> int:
        """Positions of a pool (filled, or waiting for a replacement)."""
        return len(self.groups[team, role].positions)

    # ---- changes --------------------------------------------------------------------

    def set_headcount(self, group: _Group, target: int) -> None:
        """Hire or let go until the pool has ``target`` positions."""
        while len(group.positions) < target:
            position = self._new_position(group)
            self._fill(group, position)
        while len(group.positions) > target:
            self._drop_position(group)

    def _schedule(self, group: _Group, sc: Scenario) -> None:
        now = self.env.now
        team = next(t for t in sc.teams if t.name == group.pool.team)
        for change in team.reps[group.pool.role].plan:
            if change.day < now:
                continue

            def act(_: object, target: int = change.headcount) -> None:
                self.set_headcount(group, target)

            wake = Wakeup(self.env, act)
            wake.after(change.day - now)
            group.pending.append(wake)

    def _new_position(self, group: _Group) -> _Position:
        slot = max((p.slot for p in group.positions), default=-1) + 1
        pool = group.pool
        keys = (name_key(pool.team), name_key(pool.role), slot)
        position = _Position(slot, stream(self.seed, self.replication, Purpose.STAFF, *keys),
                             stream(self.seed, self.replication, Purpose.PEOPLE, *keys))
        group.positions.append(position)
        return position

    def _fill(self, group: _Group, position: _Position) -> None:
        """A new rep takes the position now, ramping up as the role says."""
        now = self.env.now
        pool = group.pool
        rep = Rep(len(self.reps), pool.team, pool.role, hired=now)
        ramp = group.role.ramp_up
        if ramp is not None:
            rep.ramp_until = now + ramp.days
            rep.ramp_days = ramp.days
            rep.ramp_logit = ramp.logit
            rep.ramp_effort = ramp.extra_effort
        self.reps.append(rep)
        position.rep = rep
        pool.hire(rep)
        self._occupant_joins(group, position)

    def _drop_position(self, group: _Group) -> None:
        """The newest position goes: a free rep first, else a busy one when it is done."""
        def order(p: _Position) -> tuple[int, float, int]:
            rep = p.rep
            if rep is None:
                return (0, 0.0, -p.slot)  # a replacement not yet hired: simply not hired
            return (1 if not rep.busy else 2, -rep.hired, -p.slot)

        position = min(group.positions, key=order)
        group.positions.remove(position)
        for wake in (position.leaving_at, position.replacing):
            if wake is not None:
                wake.cancel()
        if position.rep is not None:
            group.pool.dismiss(position.rep)

    def _occupant_joins(self, group: _Group, position: _Position) -> None:
        """A rep takes the position: it draws its leaving hazard, skill and pace."""
        skill, pace = position.people.standard_normal(2).tolist()
        position.draws = (skill, pace)
        self._person(group, position)
        position.hazard_left = float(position.rng.standard_exponential())
        position.rate = 0.0
        position.since = self.env.now
        self._reschedule_departure(group, position)

    def _person(self, group: _Group, position: _Position) -> None:
        """Set the occupant's skill, effort factor and pace from its draws and the group."""
        rep = position.rep
        if rep is None:
            return
        spec, role = group.spec, group.role
        skill_sd = (role.skill_spread_logit if spec.skill_spread_logit is None
                    else spec.skill_spread_logit)
        effort_sd = role.effort_spread if spec.effort_spread is None else spec.effort_spread
        rep.skill = skill_sd * position.draws[0]
        # Lognormal with mean 1: the spread moves reps apart, not the group's mean pace.
        rep.effort_factor = math.exp(effort_sd * position.draws[1] - effort_sd ** 2 / 2)
        rep.pace = rep.effort_factor / (1.0 - role.non_selling_share)

    def _reschedule_departure(self, group: _Group, position: _Position) -> None:
        """(Re)book the rep's departure under the role's current attrition rate."""
        now = self.env.now
        position.hazard_left -= (now - position.since) * position.rate
        position.since = now
        position.rate = group.role.attrition_per_year / DAYS_PER_YEAR
        if position.leaving_at is not None:
            position.leaving_at.cancel()
            position.leaving_at = None
        if position.rep is None or position.rate <= 0:
            return

        def leave(_: object) -> None:
            self._leave(group, position)

        position.leaving_at = Wakeup(self.env, leave)
        position.leaving_at.after(max(0.0, position.hazard_left / position.rate))

    def _leave(self, group: _Group, position: _Position) -> None:
        """The position's rep leaves; a replacement follows if the role replaces."""
        rep = position.rep
        position.leaving_at = None
        if rep is None:
            return
        position.rep = None
        group.pool.dismiss(rep)
        delay = group.role.replacement_days
        if delay is None:
            group.positions.remove(position)
            return

        def replace(_: object) -> None:
            position.replacing = None
            self._fill(group, position)

        position.replacing = Wakeup(self.env, replace)
        position.replacing.after(delay)
