"""Reps and the pools that hand waiting tasks to them.

A pool holds the reps of one role in one team. In pooled assignment any free rep takes
the next task; in owner assignment a lead waits for the rep that owns it for that role
(chosen, on the lead's first task of the role, as the rep owning the fewest open
leads). The dispatch policy orders the waiting tasks: longest waiting first (``fifo``),
best grade first (``grade``) or highest deal value first (``value``).

A lead whose wait passes the scenario's cold limit is dropped from the queue when a
rep next looks at it; the lead process records it as lost at the moment the limit
passed.
"""

from __future__ import annotations

import heapq
from collections import deque
from typing import TYPE_CHECKING, Any

import simpy

if TYPE_CHECKING:
    from salessim.model.leads import Lead


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
        local: Whether visits by this team are local (short travel).
        effect: Conversion effect (logit) of this team's reps by lead attribute key.
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
        self.local = local
        self.effect = effect
        self._owner = owner
        self._dispatch = DISPATCH_CODES[dispatch]
        self._max_wait = max_wait_days
        self._free: deque[Rep] = deque(reps)
        self._queue: list[tuple[Any, ...]] = []
        self._seq = 0

    def request(self, lead: Lead, role_slot: int) -> Rep | simpy.Event:
        """Ask for a rep for ``lead``'s next task.

        Returns:
            The rep at once if one is free, otherwise an event that succeeds with the
            rep when one takes the task, or with None if the lead went cold waiting.
        """
        if self._owner:
            rep = lead.owners[role_slot]
            if rep is None:
                rep = min(self.reps, key=_owner_load)
                rep.owned += 1
                lead.owners[role_slot] = rep
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
            key = lead.grade
        else:
            key = -lead.deal_value
        event = self.env.event()
        self._seq += 1
        heapq.heappush(queue, (key, now, self._seq, event))
        return event

    def release(self, rep: Rep) -> None:
        """``rep`` finished a task: hand it the next waiting one, or set it free."""
        queue = rep.queue if self._owner else self._queue
        now = self.env.now
        limit = self._max_wait
        while queue:
            _, enabled, _, event = heapq.heappop(queue)
            if limit is not None and now - enabled > limit:
                event.succeed(None)
                continue
            event.succeed(rep)
            return
        rep.busy = False
        if not self._owner:
            self._free.append(rep)

    def queue_length(self) -> int:
        """Tasks waiting for a rep of this pool."""
        if self._owner:
            return sum(len(r.queue) for r in self.reps)
        return len(self._queue)


def _owner_load(rep: Rep) -> tuple[int, int]:
    return rep.owned, rep.index
