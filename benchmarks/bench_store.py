"""Results-store size per replication, KPIs only (the default) against every raw column.

For ``scenarios/regional.yaml`` and ``scenarios/lifecycle.yaml``, runs the same
replications into two new stores, ``Store(path)`` and ``Store(path, keep_raw=True)``,
and reports the file size per replication after a checkpoint and ``VACUUM`` (the
scenario's document, stored once, included). It also times reading the run back from
each store: the KPIs (``summary()``, no simulation with either store) and the event log
(read from the full store, simulated again from the compact one).

Usage::

    python benchmarks/bench_store.py                  # 4 replications each
    python benchmarks/bench_store.py --replications 10

Target (project issue): at most 50 KB per replication by default.
"""

from __future__ import annotations

import argparse
import platform
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import salessim as ss

ROOT = Path(__file__).resolve().parent.parent
TARGET_KB = 50.0


def size_kb(path: Path, replications: int) -> float:
    """The store file's size per replication (KB), after folding the write-ahead log in."""
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.execute("VACUUM")
    return path.stat().st_size / 1024 / replications


def read_back(sc: ss.Scenario, n: int, path: Path) -> tuple[float, float]:
    """Seconds to read the KPIs back, then the event log."""
    start = time.perf_counter()
    res = ss.run(sc, replications=n, seed=1, executor="serial", store=path, progress=False)
    res.summary()
    middle = time.perf_counter()
    res.events  # noqa: B018 -- reading it is what is timed
    return middle - start, time.perf_counter() - middle


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=4)
    args = parser.parse_args()
    n = args.replications
    print(f"python {platform.python_version()}, {platform.machine()}, {n} replications")
    print(f"{'scenario':<10} {'store':<10} {'KB/replication':>15} {'KPIs s':>8} "
          f"{'events s':>9}")
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("regional", "lifecycle"):
            sc = ss.load_scenario(ROOT / "scenarios" / f"{name}.yaml")
            for label, keep in (("KPIs only", False), ("keep raw", True)):
                path = Path(tmp) / f"{name}-{keep}.sqlite"
                with ss.Store(path, keep_raw=keep) as store:
                    ss.run(sc, replications=n, seed=1, executor="serial", store=store,
                           progress=False)
                kpis_s, events_s = read_back(sc, n, path)
                kb = size_kb(path, n)
                if not keep:
                    worst = max(worst, kb)
                print(f"{name:<10} {label:<10} {kb:>15,.1f} {kpis_s:>8.2f} {events_s:>9.2f}")
    ok = worst <= TARGET_KB
    print(f"default store: {worst:.1f} KB per replication, target <= {TARGET_KB:.0f}: "
          f"{'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
