"""Reps and the pools that hand waiting tasks to them.

A pool holds the reps of one role in one team. In pooled assignment any free rep takes
the next task; in owner assignment a lead waits for the rep that owns it for that role
(chosen, on the lead's first task of the role, as the rep owning the fewest open
leads). The dispatch policy orders the waiting tasks: longest waiting first (``fifo``),
best grade first (``grade``), highest deal value first (``value``) or earliest service
deadline first (``deadline``: the task's wait-for-a-rep SLA runs out soonest; tasks of
stages without an SLA come after, longest waiting first).

A role may cap the open leads a rep owns (``Role.max_open_deals``): a new lead then goes
to the least loaded rep with room in its book, and when every book is full it waits in
the pool, in dispatch order, until a lead closes and makes room (or it goes cold). The
time each rep spends at each book size inside the measurement window is kept.

Headcount can change during a run: hired reps join at once (and may ramp up, see
``Rep``); a dismissed rep leaves at once if free, or when it finishes its task. In owner
assignment, the leads of a rep who leaves pass to the remaining reps (beyond their cap
if need be: accounts are reassigned, not dropped).

A lead whose wait passes the scenario's cold limit is dropped from the queue when a
rep next looks at it; the lead process records it as lost at the moment the limit
passed.

Waiting costs no event of its own: a queued task holds the lead's process (a
``Waiter``), which the pool resumes, at the current time, with the rep that takes the
task or with None if the lead went cold.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import deque
from typing import Protocol

import simpy

FIFO, GRADE, VALUE, DEADLINE = 0, 1, 2, 3
DISPATCH_CODES = {"fifo": FIFO, "grade": GRADE, "value": VALUE, "deadline": DEADLINE}

Task = tuple[float, float, int, int, int, float, float, "Waiter"]
"""A queued task: (dispatch key, time enabled, sequence number, lead id, grade, deal
value, deadline, waiter); the heap orders by the first three (sequence numbers are
unique), the rest lets the key be recomputed when the dispatch policy changes."""


class Effects(Protocol):
    """Conversion effect (logit) of a pool's reps by kind of lead."""

    def __getitem__(self, key: tuple[int, int, int, int], /) -> float:
        """The effect on leads of kind (grade, region, product, segment)."""


class Waiter(Protocol):
    """What a queued task holds: the waiting lead's process.

    Attributes:
        cold_exempt: Whether the task never goes cold (a colleague joining joint work
            waits for a rep; only the customer's own wait can go cold).
    """

    cold_exempt: bool

    def resume(self, value: Rep | None) -> None:
        """Continue the lead now, with the rep that takes its task (None: it went cold)."""


class Rep:
    """One rep: works one task at a time.

    Attributes:
        index: Position in the replication's list of reps.
        team: Team name.
        role: Role name.
        hired: Day the rep joined (``-inf`` for reps there from the start).
        left: Day the rep left (``inf`` while employed).
        ramp_until: Day the rep's ramp-up ends (``-inf`` without ramp-up).
        ramp_days: Length of the ramp-up (days); the penalties below fade linearly.
        ramp_logit: Conversion effect (logit) at the start of the ramp-up.
        ramp_effort: Extra share of effort at the start of the ramp-up (0.5: +50 %).
        skill: The rep's own conversion effect (logit), drawn from the spread of its
            group (0 without one).
        effort_factor: The rep's own factor on effort (1 without a spread).
        pace: Factor on every task's duration: ``effort_factor`` over the share of the
            day that is selling time.
        busy: Whether the rep is working (or has been handed a task).
        leaving: Whether the rep leaves when its current task ends.
        owned: Open leads this rep owns (owner assignment only).
        queue: Tasks waiting for this rep (owner assignment only).
        book_days: Days inside the measurement window spent owning 0, 1, 2... open
            leads (up to ``book_since``).
        book_since: Time up to which ``book_days`` is counted.
    """

    __slots__ = ("book_days", "book_since", "busy", "effort_factor", "hired", "index",
                 "leaving", "left", "owned", "pace", "queue", "ramp_days", "ramp_effort",
                 "ramp_logit", "ramp_until", "role", "skill", "team")

    def __init__(self, index: int, team: str, role: str, hired: float = -math.inf) -> None:
        self.index = index
        self.team = team
        self.role = role
        self.hired = hired
        self.left = math.inf
        self.ramp_until = -math.inf
        self.ramp_days = 0.0
        self.ramp_logit = 0.0
        self.ramp_effort = 0.0
        self.skill = 0.0
        self.effort_factor = 1.0
        self.pace = 1.0
        self.busy = False
        self.leaving = False
        self.owned = 0
        self.queue: list[Task] = []
        self.book_days: list[float] = []
        self.book_since = hired if math.isfinite(hired) else 0.0

    def count_book(self, now: float, window: tuple[float, float]) -> None:
        """Add the time since ``book_since`` at the current book size, inside ``window``."""
        lo, hi = max(self.book_since, window[0]), min(now, window[1], self.left)
        if hi > lo:
            days = self.book_days
            if len(days) <= self.owned:
                days.extend([0.0] * (self.owned + 1 - len(days)))
            days[self.owned] += hi - lo
        self.book_since = now

    def ramp_share(self, now: float) -> float:
        """How much of the ramp-up is still ahead at ``now`` (1 on the first day, then 0)."""
        if now >= self.ramp_until:
            return 0.0
        return (self.ramp_until - now) / self.ramp_days


class RepPool:
    """The reps of one role in one team, with their waiting tasks.

    Attributes:
        team: Team name.
        role: Role name.
        reps: The reps employed now.
        owner: Whether leads keep their rep (owner assignment) rather than take any
            free one (pooled).
        travel: Index of the team's travel zone (see ``organisation.travel_zones``), or
            -1 when visits need no travel.
        travel_cost: Travel cost of one visit by a rep of this pool (currency).
        effect: Conversion effect (logit) of this team's reps by lead attribute key.
        owners: In owner assignment, the rep owning each open lead (by lead id) that
            has had a task in this pool.
        window: The measurement window [warm-up, horizon) (days), where book sizes
            are counted.
        book_waiters: Leads that waited because every book was full.
    """

    def __init__(
        self, env: simpy.Environment, team: str, role: str, reps: list[Rep], *,
        owner: bool, dispatch: str, max_wait_days: float | None, travel: int,
        travel_cost: float, effect: Effects, max_open: int | None,
        window: tuple[float, float],
    ) -> None:
        self.env = env
        self.team = team
        self.role = role
        self.reps = reps
        self.owner = owner
        self.travel = travel
        self.travel_cost = travel_cost
        self.effect = effect
        self.owners: dict[int, Rep] = {}
        self.window = window
        self.book_waiters: set[int] = set()
        self._cap = max_open if max_open is not None else math.inf
        self._for_book: list[Task] = []
        """Tasks of new leads waiting for room in a book (capped owner assignment)."""
        self._dispatch = DISPATCH_CODES[dispatch]
        self._max_wait = max_wait_days
        self._free: deque[Rep] = deque(reps)
        self._queue: list[Task] = []
        self._seq = 0
        self._entries = itertools.count()
        self._by_load: list[tuple[int, int, int, Rep]] = []
        """Owner assignment: (owned, index, seq, rep) entries, the least loaded rep first.
        An entry whose ``owned`` is no longer the rep's is stale and dropped when it
        comes to the top: finding the least loaded rep costs log(reps), not reps."""
        self._reheap()

    # ---- tasks --------------------------------------------------------------------

    def request(self, lead: int, grade: int, deal_value: float, deadline: float,
                waiter: Waiter, book: bool = True) -> Rep | None:
        """Ask for a rep for the next task of lead ``lead``.

        Args:
            lead: Lead id.
            grade: Grade index (lower is better).
            deal_value: Deal value (currency).
            deadline: When the task's wait-for-a-rep SLA runs out (days; ``inf`` without).
            waiter: The lead's process, resumed when a rep takes the task.
            book: Whether the task needs room in a capped book (``max_open_deals``), as
                an open deal does; work for a customer after the sale does not: a rep
                with a full book takes it.

        Returns:
            The rep at once if one is free; otherwise None, and the task is queued:
            ``waiter`` is resumed later with the rep that takes it, or with None if the
            lead went cold waiting.
        """
        if self.owner:
            found = self._owner_of(lead, book)
            if found is None:
                self.book_waiters.add(lead)
                queue = self._for_book
            elif not found.busy:
                found.busy = True
                return found
            else:
                queue = found.queue
        else:
            if self._free:
                rep = self._free.popleft()
                rep.busy = True
                return rep
            queue = self._queue
        now = self.env.now
        self._seq += 1
        heapq.heappush(queue, (self._key(now, grade, deal_value, deadline), now, self._seq,
                               lead, grade, deal_value, deadline, waiter))
        return None

    def _key(self, enabled: float, grade: int, deal_value: float, deadline: float) -> float:
        if self._dispatch == FIFO:
            return enabled
        if self._dispatch == GRADE:
            return grade
        if self._dispatch == VALUE:
            return -deal_value
        return deadline

    def _owner_of(self, lead: int, capped: bool = True) -> Rep | None:
        """The lead's owner; a new lead gets the least loaded rep with room, if any."""
        rep = self.owners.get(lead)
        if rep is None:
            rep = self._least_loaded()
            if capped and rep.owned >= self._cap:
                return None
            self._own(rep, +1)
            self.owners[lead] = rep
        return rep

    def _own(self, rep: Rep, change: int) -> None:
        rep.count_book(self.env.now, self.window)
        rep.owned += change
        if rep.left == math.inf:  # a rep who left gives up leads but takes no new ones
            heapq.heappush(self._by_load, (rep.owned, rep.index, next(self._entries), rep))
        if len(self._by_load) > 4 * len(self.reps) + 64:  # stale entries kept in bounds
            self._reheap()

    def _reheap(self) -> None:
        """Entries for the reps there are now, one each (after staff changes)."""
        self._by_load = [(r.owned, r.index, next(self._entries), r) for r in self.reps]
        heapq.heapify(self._by_load)

    def _least_loaded(self) -> Rep:
        """The rep owning the fewest open leads (the lowest index among equals)."""
        heap = self._by_load
        while heap[0][0] != heap[0][3].owned:
            heapq.heappop(heap)
        return heap[0][3]

    def _admit(self) -> None:
        """Leads waiting for room in a book take the room there is now."""
        queue = self._for_book
        now = self.env.now
        while queue and self._least_loaded().owned < self._cap:
            task = heapq.heappop(queue)
            enabled, lead, waiter = task[1], task[3], task[7]
            if (self._max_wait is not None and now - enabled > self._max_wait
                    and not waiter.cold_exempt):
                waiter.resume(None)
                continue
            rep = self._owner_of(lead)
            assert rep is not None  # a book had room
            if rep.busy:
                heapq.heappush(rep.queue, task)
            else:
                rep.busy = True
                waiter.resume(rep)

    def release(self, rep: Rep) -> None:
        """``rep`` finished a task: hand it the next waiting one, or set it free."""
        if rep.leaving:
            self._leave(rep)
            return
        queue = rep.queue if self.owner else self._queue
        now = self.env.now
        limit = self._max_wait
        while queue:
            _, enabled, _, _, _, _, _, waiter = heapq.heappop(queue)
            if limit is not None and now - enabled > limit and not waiter.cold_exempt:
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
            self._own(rep, -1)
            if self._for_book:
                self._admit()

    def count_books(self) -> None:
        """Bring every rep's days at each book size up to now (owner assignment only)."""
        if self.owner:
            for rep in self.reps:
                rep.count_book(self.env.now, self.window)

    def queue_length(self) -> int:
        """Tasks waiting for a rep of this pool."""
        if self.owner:
            return sum(len(r.queue) for r in self.reps) + len(self._for_book)
        return len(self._queue)

    # ---- staffing ------------------------------------------------------------------

    def hire(self, rep: Rep) -> None:
        """A new rep joins now and takes waiting work at once."""
        self.reps.append(rep)
        self._reheap()
        if self.owner:
            # New leads come to the least loaded owner (the new rep first), and leads
            # waiting for room in a book find it in the new rep's.
            self._admit()
            return
        rep.busy = True  # release() hands it the next waiting task or frees it
        self.release(rep)

    def dismiss(self, rep: Rep) -> None:
        """``rep`` leaves: now if it is free, else when its current task ends."""
        if rep.busy:
            rep.leaving = True
        else:
            if not self.owner:
                self._free.remove(rep)
            self._leave(rep)

    def _leave(self, rep: Rep) -> None:
        rep.left = self.env.now
        rep.busy = False
        rep.leaving = False
        self.reps.remove(rep)
        self._reheap()
        if not self.owner:
            return
        rep.count_book(self.env.now, self.window)
        # The leaver's leads and their waiting tasks pass to the remaining reps.
        for lead in [lead for lead, owner in self.owners.items() if owner is rep]:
            del self.owners[lead]
            self._own(rep, -1)
            self._owner_of(lead, capped=False)
        waiting, rep.queue = rep.queue, []
        for task in waiting:
            new = self.owners[task[3]]
            if new.busy:
                heapq.heappush(new.queue, task)
            else:
                new.busy = True
                task[7].resume(new)

    def idle(self) -> list[Rep]:
        """Reps employed now that are not working."""
        return [r for r in self.reps if not r.busy]

    # ---- changing the rules --------------------------------------------------------

    def reconfigure(self, *, owner: bool, dispatch: str, max_wait_days: float | None,
                    travel_cost: float, effect: Effects, max_open: int | None) -> None:
        """New rules from now on; waiting tasks are kept and re-ordered under them.

        Args:
            owner: Owner (True) or pooled (False) assignment.
            dispatch: Dispatch policy name.
            max_wait_days: Cold limit (days), or None.
            travel_cost: Travel cost of one visit (currency).
            effect: Conversion effect (logit) by lead attribute key.
            max_open: Cap on a rep's open leads (owner assignment), or None.
        """
        self.effect = effect
        self.travel_cost = travel_cost
        self._max_wait = max_wait_days
        self._cap = max_open if max_open is not None else math.inf
        tasks = self._queue + self._for_book + [t for r in self.reps for t in r.queue]
        for r in self.reps:
            r.queue = []
        self._queue = []
        self._for_book = []
        if owner != self.owner:
            self.owner = owner
            self.owners.clear()
            for r in self.reps:
                self._own(r, -r.owned)
            self._free = deque(r for r in self.reps if not r.busy) if not owner else deque()
        self._dispatch = DISPATCH_CODES[dispatch]
        for task in sorted(tasks, key=lambda t: (t[1], t[2])):
            _, enabled, seq, lead, grade, value, deadline, waiter = task
            queue = self._queue
            if owner:
                found = self._owner_of(lead)
                queue = self._for_book if found is None else found.queue
            heapq.heappush(queue, (self._key(enabled, grade, value, deadline), enabled, seq,
                                   lead, grade, value, deadline, waiter))
        if owner:
            self._admit()
        self._serve_idle()

    def _serve_idle(self) -> None:
        """Hand waiting tasks to idle reps (after the rules or the staff changed)."""
        for rep in list(self.reps):
            if not rep.busy and (rep.queue if self.owner else self._queue):
                if not self.owner and rep in self._free:
                    self._free.remove(rep)
                rep.busy = True
                self.release(rep)

