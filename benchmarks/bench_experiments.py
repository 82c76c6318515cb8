"""Experiment throughput: serial vs a local process pool, and the cost of the results store.

Measures, in one run on one machine, with ``scenarios/regional.yaml`` (about 12,500 leads
per replication, 10,000 of them counted):

(a) replications per second of ``salessim.run`` serially and on a process pool of 2
    workers (``executor="processes", workers=2``), each over the same batch of
    replications, alternately; the speed-up is the ratio of the medians. The pool is
    started inside the timed call, as a user's call starts it.
(b) the results store's overhead: the same serial batch with and without
    ``store=`` (a new SQLite file each repeat), alternately; overhead = (with - without)
    / without, from the medians.

Usage::

    python benchmarks/bench_experiments.py             # 5 repeats of 8 replications
    python benchmarks/bench_experiments.py --quick     # 3 repeats of 4

Targets (project issue, 2-core machine): speed-up with 2 workers at least 1.7; store
overhead under 5 % of run time. The script exits with status 1 if one is missed.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from functools import partial
from pathlib import Path

import salessim as ss

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "regional.yaml"
SPEEDUP_TARGET = 1.7
STORE_TARGET = 0.05


def timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--replications", type=int, default=8)
    parser.add_argument("--quick", action="store_true", help="3 repeats of 4 replications")
    args = parser.parse_args(argv)
    repeats, n = (3, 4) if args.quick else (args.repeats, args.replications)
    sc = ss.load_scenario(BASELINE)
    ss.run(sc, 1, seed=0, executor="serial", progress=False)  # imports and caches warm

    serial, pool, plain, stored = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(repeats):
            seed = 100 + k  # a fresh batch each repeat; the same batch for every variant
            serial.append(timed(partial(ss.run, sc, n, seed, "serial", progress=False)))
            pool.append(timed(partial(ss.run, sc, n, seed, "processes", workers=2,
                                      progress=False)))
            plain.append(timed(partial(ss.run, sc, n, seed + 1000, "serial", progress=False)))
            stored.append(timed(partial(ss.run, sc, n, seed + 1000, "serial", progress=False,
                                        store=Path(tmp) / f"store{k}.sqlite")))

    med = statistics.median
    speedup = med(serial) / med(pool)
    overhead = (med(stored) - med(plain)) / med(plain)
    print(f"date {date.today()}  python {platform.python_version()}  salessim {ss.__version__}")
    print(f"machine {platform.machine()}  cores {os.cpu_count()}  repeats {repeats}, "
          f"{n} replications each\n")
    print("(a) serial vs process pool (2 workers)")
    print(f"    serial        {n / med(serial):6.2f} replications/s   (median {med(serial):.2f} s)")
    print(f"    processes     {n / med(pool):6.2f} replications/s   (median {med(pool):.2f} s)")
    ok_speed = speedup >= SPEEDUP_TARGET
    print(f"    speed-up        {speedup:5.2f}   target >= {SPEEDUP_TARGET}  "
          f"{'PASS' if ok_speed else 'FAIL'}\n")
    print("(b) results store (SQLite), serial")
    print(f"    without store  {med(plain):.3f} s   with store  {med(stored):.3f} s")
    ok_store = overhead < STORE_TARGET
    print(f"    overhead        {overhead:+.1%}   target < {STORE_TARGET:.0%}  "
          f"{'PASS' if ok_store else 'FAIL'}")
    return 0 if ok_speed and ok_store else 1


if __name__ == "__main__":
    sys.exit(main())
