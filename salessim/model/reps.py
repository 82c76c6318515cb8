"""Reps and the pools that hand waiting tasks to them.

A pool holds the reps of one role in one team. In pooled assignment any free rep takes
the next task; in owner assignment a lead waits for the rep that owns it for that role
(chosen, on the lead's first task of the role, as the rep owning the fewest open
leads). The dispatch policy orders the waiting tasks: longest waiting first (``fifo``),
best grade first (``grade``) or highest deal value first (``value``).

A lead whose wait passes the scenario's cold limit is dropped from the queue when a
rep next looks at it; the lead process records it as lost at the moment the limit
passed.

Waiting costs no event of its own: a queued task holds the lead's process (a
``Waiter``), which the pool resumes, at the current time, with the rep that takes the
task or with None if the lead went cold.
"""

from __future__ import annotations

import heapq
from collections import deque
from typing import Any, Protocol

import simpy


class Waiter(Protocol):
    """What a queued task holds: the waiting lead's process."""

    def resume(self, value: Rep | None) -> None:
        """Continue the lead now, with the rep that takes its task (None: it went cold)."""


class Rep:
    """One rep: works one task at a time.

    Attributes:
        index: Position in the replication's list of reps.
        team: Team name.
        role: Role name.
        busy: Whether the rep is working (or has been handed a task).
        owned: Open leads this rep owns (owner assignment only).
        queue: Tasks waiting for this rep (owner assignment only).
    """

    __slots__ = ("busy", "index", "owned", "queue", "role", "team")

    def __init__(self, index: int, team: str, role: str) -> None:
        self.index = index
        self.team = team
        self.role = role
        self.busy = False
        self.owned = 0
        self.queue: list[tuple[Any, ...]] = []


FIFO, GRADE, VALUE = 0, 1, 2
DISPATCH_CODES = {"fifo": FIFO, "grade": GRADE, "value": VALUE}


class RepPool:
    """The reps of one role in one team, with their waiting tasks.

    Attributes:
        team: Team name.
        role: Role name.
        reps: The reps.
        owner: Whether leads keep their rep (owner assignment) rather than take any
            free one (pooled).
        local: Whether visits by this team are local (short travel).
        effect: Conversion effect (logit) of this team's reps by lead attribute key.
        owners: In owner assignment, the rep owning each open lead (by lead id) that
            has had a task in this pool.
    """

    def __init__(
        self, env: simpy.Environment, team: str, role: str, reps: list[Rep], *,
        owner: bool, dispatch: str, max_wait_days: float | None, local: bool,
        effect: dict[tuple[int, int, int, int], float],
    ) -> None:
        self.env = env
        self.team = team
        self.role = role
        self.reps = reps
        self.owner = owner
        self.local = local
        self.effect = effect
        self.owners: dict[int, Rep] = {}
        self._dispatch = DISPATCH_CODES[dispatch]
        self._max_wait = max_wait_days
        self._free: deque[Rep] = deque(reps)
        self._queue: list[tuple[Any, ...]] = []
        self._seq = 0

    def request(self, lead: int, grade: int, deal_value: float, waiter: Waiter) -> Rep | None:
        """Ask for a rep for the next task of lead ``lead`` (its id, grade and deal value).

        Returns:
            The rep at once if one is free; otherwise None, and the task is queued:
            ``waiter`` is resumed later with the rep that takes it, or with None if the
            lead went cold waiting.
        """
        if self.owner:
            rep = self.owners.get(lead)
            if rep is None:
                rep = min(self.reps, key=_owner_load)
                rep.owned += 1
                self.owners[lead] = rep
            if not rep.busy:
                rep.busy = True
                return rep
            queue = rep.queue
        else:
            if self._free:
                rep = self._free.popleft()
                rep.busy = True
                return rep
            queue = self._queue
        now = self.env.now
        if self._dispatch == FIFO:
            key: float = now
        elif self._dispatch == GRADE:
            key = grade
        else:
            key = -deal_value
        self._seq += 1
        heapq.heappush(queue, (key, now, self._seq, waiter))
        return None

    def release(self, rep: Rep) -> None:
        """``rep`` finished a task: hand it the next waiting one, or set it free."""
        queue = rep.queue if self.owner else self._queue
        now = self.env.now
        limit = self._max_wait
        while queue:
            _, enabled, _, waiter = heapq.heappop(queue)
            if limit is not None and now - enabled > limit:
                waiter.resume(None)
                continue
            waiter.resume(rep)
            return
        rep.busy = False
        if not self.owner:
            self._free.append(rep)

    def forget(self, lead: int) -> None:
        """Lead ``lead`` closed: its owner (if it has one here) owns one lead fewer."""
        rep = self.owners.pop(lead, None)
        if rep is not None:
            rep.owned -= 1

    def queue_length(self) -> int:
        """Tasks waiting for a rep of this pool."""
        if self.owner:
            return sum(len(r.queue) for r in self.reps)
        return len(self._queue)


def _owner_load(rep: Rep) -> tuple[int, int]:
    return rep.owned, rep.index
