"""What one replication hands back: columns of numbers, cheap to pickle between processes.

Codes (stages, reps, outcomes) are integers here; ``salessim.results`` turns them into
names. Times are days from the start of the run.
"""

from __future__ import annotations

import struct
from array import array
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from salessim.model.leads import LeadTable
    from salessim.model.reps import Rep

ADVANCED, LOST_OUTCOME, REWORK, NURTURE, COLD, FOLLOW_UP = 0, 1, 2, 3, 4, 5
OUTCOMES: tuple[str, ...] = ("advanced", "lost", "rework", "nurture", "cold", "follow-up")
"""Activity outcome names by code: ``follow-up`` ends a touch after which the attempt's
rep follows up; an attempt's last touch carries the attempt's outcome."""

EVENT_FIELDS: tuple[str, ...] = (
    "case", "stage", "attempt", "resource", "enable_time", "start_time", "end_time",
    "decision_time", "outcome", "handoff_days", "info_lost", "travel_cost", "part", "touch",
)
"""Columns of the raw event records, in the order the model writes them."""

EVENT_DTYPE = np.dtype([
    ("case", "<i4"), ("stage", "<i4"), ("attempt", "<i4"), ("resource", "<i4"),
    ("enable_time", "<f8"), ("start_time", "<f8"), ("end_time", "<f8"),
    ("decision_time", "<f8"), ("outcome", "i1"), ("handoff_days", "<f8"),
    ("info_lost", "?"), ("travel_cost", "<f8"), ("part", "<i4"), ("touch", "<i4"),
])
"""An activity record as the model packs it: 74 bytes, where 14 doubles took 112 (a
replication of a million leads keeps a few million of them). Codes and counts are whole
numbers that fit 32 bits (a lead id, a rep index, -1 for none) or 8 (an outcome)."""

EVENT_ROW = struct.Struct("<4i4dbd?d2i")
"""``EVENT_DTYPE`` as a ``struct`` format: ``EVENT_ROW.pack(*values)`` makes a record."""
assert EVENT_ROW.size == EVENT_DTYPE.itemsize and EVENT_DTYPE.names == EVENT_FIELDS

LEAD_FIELDS: tuple[str, ...] = (
    "case", "channel", "grade", "region", "product", "segment", "deal_value", "arrival_time",
    "cohort", "status", "close_time", "lost_stage", "lost_reason", "first_start_time",
    "payment_days", "waited_for_book", "customer", "entry_stage", "made_by",
)
"""Per-lead columns; ``customer`` is the customer a repeat opportunity is for (-1
otherwise), ``entry_stage`` the stage index a lead started at and ``made_by`` where it
came from (``salessim.model.leads.MADE_BY``)."""

AFTER_SALE_TABLES: tuple[str, ...] = ("customers", "orders", "invoices", "work", "complaints",
                                      "decisions")
"""The after-sale tables of a replication (``salessim.model.aftersale``)."""

MANAGEMENT_TABLES: tuple[str, ...] = ("deals", "credits", "reviews", "forecasts", "cleared")
"""The management plan's tables of a replication (``salessim.model.management``)."""


@dataclass(frozen=True)
class RawReplication:
    """The raw output of one replication.

    Attributes:
        replication: Replication index.
        leads: Per-lead columns (``LEAD_FIELDS``); attribute columns are indices.
        events: Per-activity columns (``EVENT_FIELDS``).
        rep_team: Team of each rep, by rep index (every rep employed at any time).
        rep_role: Role of each rep, by rep index.
        rep_hired: Day each rep joined (``-inf`` for reps there from the start).
        rep_left: Day each rep left (``inf`` if still employed at the end).
        rep_skill: Each rep's own conversion effect (logit), from its group's spread
            (at the end of the run: with any coaching at pipeline reviews).
        rep_effort: Each rep's own factor on effort, from its group's spread.
        rep_book: For each rep, the days inside the measurement window it owned 0, 1,
            2... open leads (empty for reps of pooled roles), counted up to ``end_day``.
        end_day: Time the run stopped (days).
        after_sale: The after-sale tables (``AFTER_SALE_TABLES``), or None for a
            scenario without an after-sale part.
        management: The management plan's tables (``MANAGEMENT_TABLES``), or None for a
            scenario without one.
    """

    replication: int
    leads: dict[str, NDArray[Any]]
    events: dict[str, NDArray[Any]]
    rep_team: tuple[str, ...]
    rep_role: tuple[str, ...]
    rep_hired: NDArray[np.float64]
    rep_left: NDArray[np.float64]
    rep_skill: NDArray[np.float64]
    rep_effort: NDArray[np.float64]
    rep_book: tuple[NDArray[np.float64], ...]
    end_day: float
    after_sale: dict[str, dict[str, NDArray[Any]]] | None = None
    management: dict[str, dict[str, NDArray[Any]]] | None = None

    @classmethod
    def collect(
        cls, replication: int, leads: LeadTable, events: bytearray,
        reps: Sequence[Rep], end_day: float, arrived: int, book_waiters: Collection[int],
        after_sale: dict[str, dict[str, NDArray[Any]]] | None = None,
        management: dict[str, dict[str, NDArray[Any]]] | None = None,
        consume_events: bool = False,
    ) -> RawReplication:
        """Turn the model's tables into columns.

        Args:
            replication: Replication index.
            leads: The replication's leads.
            events: Activity records, packed one after another by ``EVENT_ROW``.
            reps: All reps, by rep index.
            end_day: Time the run stopped (days).
            arrived: Leads drawn at the start that arrived by then (the first ones:
                they are in arrival order); a run paused between rounds has not seen
                the others yet. Leads made during the run follow them, and every case
                number is renumbered to its lead's row.
            book_waiters: Leads that waited because every book was full.
            after_sale: The after-sale tables, with lead ids in their ``case`` and
                ``origin`` columns.
            management: The management plan's tables, with lead ids in ``case``.
            consume_events: Empty ``events`` while converting them (the run is over):
                the records and their columns are never held whole at once.
        """
        ids = np.r_[np.arange(arrived), np.arange(leads.drawn, leads.n)].astype(np.int64)
        n = len(ids)
        gap = leads.drawn - arrived

        def renumber(case: NDArray[np.int64]) -> NDArray[np.int64]:
            return np.where(case >= leads.drawn, case - gap, case) if gap else case

        waited = np.zeros(n, dtype=np.bool_)
        waited[renumber(np.array([i for i in book_waiters
                                  if i < arrived or i >= leads.drawn], dtype=np.int64))] = True
        i8, f8 = np.int64, np.float64

        def column(values: array[Any], dtype: type[np.generic]) -> NDArray[Any]:
            typed: NDArray[Any] = np.asarray(values, dtype=dtype)[ids]
            return typed

        lead_cols: dict[str, NDArray[Any]] = {
            "case": np.arange(n, dtype=i8),
            "channel": column(leads.channel, i8),
            "grade": column(leads.grade, i8),
            "region": column(leads.region, i8),
            "product": column(leads.product, i8),
            "segment": column(leads.segment, i8),
            # The model's deal values are the prices after any discount.
            "deal_value": column(leads.deal_value, f8),
            "arrival_time": column(leads.arrival, f8),
            "cohort": column(leads.cohort, np.bool_),
            "status": column(leads.status, i8),
            "close_time": column(leads.close_time, f8),
            "lost_stage": column(leads.lost_stage, i8),
            "lost_reason": column(leads.lost_reason, i8),
            "first_start_time": column(leads.first_start, f8),
            "payment_days": column(leads.payment_days, f8),
            "waited_for_book": waited,
            "customer": column(leads.customer, i8),
            "entry_stage": column(leads.entry, i8),
            "made_by": column(leads.made_by, i8),
        }
        event_cols = record_columns(events, consume=consume_events)
        event_cols["case"] = renumber(event_cols["case"])
        for tables in (after_sale or {}, management or {}):
            for table_cols in tables.values():
                for name in ("case", "origin"):
                    if name in table_cols:
                        table_cols[name] = renumber(table_cols[name])
        return cls(
            replication=replication,
            leads=lead_cols,
            events=event_cols,
            rep_team=tuple(r.team for r in reps),
            rep_role=tuple(r.role for r in reps),
            rep_hired=np.array([r.hired for r in reps], dtype=np.float64),
            rep_left=np.array([r.left for r in reps], dtype=np.float64),
            rep_skill=np.array([r.skill for r in reps], dtype=np.float64),
            rep_effort=np.array([r.effort_factor for r in reps], dtype=np.float64),
            rep_book=tuple(np.array(r.book_days, dtype=np.float64) for r in reps),
            end_day=end_day,
            after_sale=after_sale,
            management=management,
        )


RECORDS_AT_ONCE = 65_536
"""Records converted at a time when the records go as they are converted."""


def record_columns(records: bytearray, consume: bool = False) -> dict[str, NDArray[Any]]:
    """Activity records packed by ``EVENT_ROW`` as columns (whole numbers as int64).

    Each column is copied out of a view of ``records``, which no column keeps, so the
    records can go on growing (a run played in rounds). With ``consume`` (a finished
    run) the records are converted from the end, ``RECORDS_AT_ONCE`` at a time, and cut
    off as they are, so that the records and their columns are not held whole at once:
    ``records`` is empty afterwards.
    """
    size = EVENT_DTYPE.itemsize
    n = len(records) // size
    step = RECORDS_AT_ONCE if consume else max(n, 1)
    columns = {name: np.empty(n, dtype=np.int64 if EVENT_DTYPE[name].kind == "i"
                              else EVENT_DTYPE[name]) for name in EVENT_FIELDS}
    stop = n
    while stop > 0:
        start = max(0, stop - step)
        part = np.frombuffer(records, dtype=EVENT_DTYPE, count=stop - start,
                             offset=start * size)
        for name in EVENT_FIELDS:
            columns[name][start:stop] = part[name]
        del part  # a view: while it lives, the records cannot change size
        if consume:
            del records[start * size:]
        stop = start
    return columns


def flat_columns(flat: Sequence[Any], names: Sequence[str], dtypes: Sequence[Any]
                 ) -> dict[str, NDArray[Any]]:
    """Records written one after another (``len(names)`` values each) as typed columns.

    Each column is copied out of a view of ``flat``, one at a time, so the table is never
    copied whole; no column keeps the view, so a typed array that goes on growing (a run
    played in rounds) is not held by an exported buffer.
    """
    width = len(names)
    table = (np.frombuffer(flat, dtype=np.float64) if isinstance(flat, array)
             else np.array(flat, dtype=np.float64))
    return {name: np.array(table[k::width], dtype=dt)
            for k, (name, dt) in enumerate(zip(names, dtypes, strict=True))}
