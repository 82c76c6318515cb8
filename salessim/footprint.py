"""Will a run fit in memory? An estimate from leads, replications and workers.

Before anything runs, the runner weighs what the replications would hold against the
memory the machine has free:

- each replication running here (one per local worker, or one when serial) holds about
  ``RUNNING_BYTES_PER_LEAD`` for each lead it expects, plus ``PROCESS_BYTES`` for the
  process itself;
- each finished replication kept in memory holds about ``KEPT_BYTES_PER_LEAD`` a lead
  (its raw columns).

Work that would not fit even with the finished replications dropped is refused, with
the number of workers that would fit. Work that fits only without keeping every
finished replication keeps each one as its KPIs instead: a table that needs its leads
or events re-creates it by simulating that replication again (``salessim.replications``),
so nothing is lost but time.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from salessim.scenario.schema import Scenario

RUNNING_BYTES_PER_LEAD = 3_500
"""Peak memory of a running replication per expected lead (bytes). Measured (2026-12-04,
the process's high-water mark over one replication): 1.9 KB for the regional, customer
and hybrid baselines, 1.2 and 1.0 KB for the regional one at 4 and 16 times its size
(benchmarks/bench_scale.py), 2.65 KB for the three-year lifecycle scenario, whose
customers stay in memory; rounded up."""
KEPT_BYTES_PER_LEAD = 450
"""Raw columns of a finished replication per expected lead (bytes). Measured: 345 for
the regional baseline, 403 for the lifecycle scenario; rounded up."""
PROCESS_BYTES = 180 * 2**20
"""Resident memory of a process that has imported salessim and run a replication
(measured: 180 MB), counted for each worker of a local pool."""
USABLE_SHARE = 0.8
"""Share of the available memory a run may plan to use; the rest is left to the
system, to other programs and to the estimate's error."""


class MemoryRefused(ValueError):
    """The run would not fit in the memory available; the message says what would."""


@dataclass(frozen=True)
class Footprint:
    """What a run would hold in memory (bytes).

    Attributes:
        running: While the replications run (all local workers at once).
        kept: The finished replications' raw output, if all are kept.
        available: Memory the machine has free, or None if it cannot be read.
    """

    running: float
    kept: float
    available: float | None

    @property
    def keep_raw(self) -> bool:
        """Whether every finished replication's raw output can stay in memory."""
        return (self.available is None
                or self.running + self.kept <= USABLE_SHARE * self.available)


def available_memory() -> float | None:
    """Memory available to new work now (bytes): Linux's MemAvailable, else free pages."""
    meminfo = Path("/proc/meminfo")
    try:
        for line in meminfo.read_text(encoding="ascii").splitlines():
            if line.startswith("MemAvailable:"):
                return float(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return float(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def footprint(scenarios: Sequence[Scenario], in_flight: int | None,
              available: float | None) -> Footprint:
    """The memory a run of these replications would need, refused if it cannot fit.

    Args:
        scenarios: The scenario of each replication to run.
        in_flight: Replications running here at once (local workers), or None when
            they run elsewhere (a dask cluster, an executor of the caller's).
        available: Memory available (bytes), or None to skip the check.

    Raises:
        MemoryRefused: If the running replications alone would not fit, saying how many
            workers would.
    """
    if not scenarios:
        return Footprint(0.0, 0.0, available)
    largest = max(scenarios, key=lambda sc: sc.expected_leads())
    one = RUNNING_BYTES_PER_LEAD * largest.expected_leads() + PROCESS_BYTES
    running = one * (in_flight or 0)
    kept = KEPT_BYTES_PER_LEAD * sum(sc.expected_leads() for sc in scenarios)
    if available is not None and running > USABLE_SHARE * available:
        raise MemoryRefused(_refusal(largest, one, in_flight or 1, available))
    return Footprint(running, kept, available)


def _refusal(sc: Scenario, one: float, in_flight: int, available: float) -> str:
    fits = math.floor(USABLE_SHARE * available / one)
    head = (f"{sc.name}: one replication needs about {_gb(one)} while it runs "
            f"({sc.expected_leads():,.0f} leads expected); {in_flight} at once need "
            f"{_gb(one * in_flight)}, but {_gb(available)} is available")
    if fits >= 1:
        return f"{head}. Run with workers={fits} (--workers {fits}), or on a dask cluster"
    return (f"{head}. Even one does not fit: shorten calendar.horizon_days or lower the "
            "channels' leads_per_day, or run on a machine with more memory")


def _gb(n: float) -> str:
    return f"{n / 2**30:,.1f} GB"
