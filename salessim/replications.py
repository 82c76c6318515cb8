"""A run's replications: raw output in memory, or re-created on demand from the store.

A results store keeps, unless told to keep everything, only each replication's KPIs.
A replication is a function of its scenario, root seed, index and timeline, so its
leads, event log and after-sale tables are re-created exactly by simulating it again,
the first time something asks for them; the KPIs alone (``summary``, ``compare``,
``sweep``) never need that.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import overload

from salessim.model import RawReplication, Timeline, simulate
from salessim.scenario.schema import Scenario


@dataclass(frozen=True)
class Replay:
    """A replication read back from a store by its KPIs, to simulate again if needed.

    Attributes:
        scenario: The scenario it ran (at its start, before the timeline's changes).
        seed: Root seed.
        replication: Replication index.
        timeline: Changes during the run.
        kpis: Its KPI values as stored.
    """

    scenario: Scenario
    seed: int
    replication: int
    timeline: Timeline
    kpis: Mapping[str, float]

    def simulate(self) -> RawReplication:
        """The replication's raw output, simulated again (the same numbers as at first)."""
        return simulate(self.scenario, self.seed, self.replication, self.timeline)


class Replications(Sequence[RawReplication]):
    """The raw output of replications, in order; stored ones are simulated when first read.

    Args:
        items: Each replication's raw output, or a ``Replay`` of a stored one.
    """

    def __init__(self, items: Iterable[RawReplication | Replay]) -> None:
        self._items = list(items)

    def __len__(self) -> int:
        return len(self._items)

    @overload
    def __getitem__(self, position: int) -> RawReplication: ...

    @overload
    def __getitem__(self, position: slice) -> Replications: ...

    def __getitem__(self, position: int | slice) -> RawReplication | Replications:
        if isinstance(position, slice):
            return Replications(self._items[position])
        item = self._items[position]
        if isinstance(item, Replay):
            item = self._items[position] = item.simulate()
        return item

    def __iter__(self) -> Iterator[RawReplication]:
        return (self[i] for i in range(len(self._items)))

    def __repr__(self) -> str:
        stored = self.replayed
        return (f"<Replications: {len(self)} ({len(self) - stored} in memory, {stored} "
                "as stored KPIs, simulated again when read)>")

    @property
    def indices(self) -> list[int]:
        """The replication indices, in order (nothing is simulated for them)."""
        return [item.replication for item in self._items]

    @property
    def replayed(self) -> int:
        """How many replications are still only their stored KPIs (not simulated again)."""
        return sum(isinstance(item, Replay) for item in self._items)

    def stored_kpis(self, position: int) -> Mapping[str, float] | None:
        """The stored KPIs of the replication at ``position``, if it came from a store."""
        item = self._items[position]
        return item.kpis if isinstance(item, Replay) else None

