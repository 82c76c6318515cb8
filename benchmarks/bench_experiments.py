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
(c) the same batch on a dask ``LocalCluster`` of 2 worker processes (one thread each),
    alternately with (a); the cluster is started once, before timing, as a user's
    cluster would be running already. Skipped if dask is not installed.
(d) the machine's own ceiling: a pure-Python loop of fixed work, twice serially and
    once on each of 2 pool processes, alternately with (a); no program of this kind
    can scale better than this on the machine (a VM's two cores are not always two
    cores' worth of work).

Usage::

    python benchmarks/bench_experiments.py             # 5 repeats of 8 replications
    python benchmarks/bench_experiments.py --quick     # 3 repeats of 4

Targets (project issues, 2-core machine): speed-up with 2 workers at least 1.8; store
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
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

import salessim as ss

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "regional.yaml"
SPEEDUP_TARGET = 1.8
STORE_TARGET = 0.05


def timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def _spin(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i
    return total


def ceiling(pool: ProcessPoolExecutor, n: int = 10_000_000) -> tuple[float, float]:
    """(serial, parallel) seconds for two equal pure-Python loops."""
    start = time.perf_counter()
    _spin(n)
    _spin(n)
    middle = time.perf_counter()
    list(pool.map(_spin, [n, n]))
    return middle - start, time.perf_counter() - middle


def local_cluster() -> Any:
    """A dask client of a 2-process local cluster, or None without the dask extra."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        return None
    return Client(LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               dashboard_address=None))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--replications", type=int, default=8)
    parser.add_argument("--quick", action="store_true", help="3 repeats of 4 replications")
    args = parser.parse_args(argv)
    repeats, n = (3, 4) if args.quick else (args.repeats, args.replications)
    sc = ss.load_scenario(BASELINE)
    ss.run(sc, replications=1, seed=0, executor="serial", progress=False)  # warm caches
    cluster = local_cluster()

    def batch(seed: int, executor: Any, **options: Any) -> float:
        return timed(partial(ss.run, sc, replications=n, seed=seed, executor=executor,
                             progress=False, **options))

    serial, pool, dask, plain, stored, spin = [], [], [], [], [], []
    with tempfile.TemporaryDirectory() as tmp, ProcessPoolExecutor(2) as spinners:
        list(spinners.map(_spin, [1, 1]))  # both processes started before timing
        for k in range(repeats):
            spin.append(ceiling(spinners))
            seed = 100 + k  # a fresh batch each repeat; the same batch for every variant
            serial.append(batch(seed, "serial"))
            pool.append(batch(seed, "processes", workers=2))
            if cluster is not None:
                dask.append(batch(seed, cluster))
            plain.append(batch(seed + 1000, "serial"))
            stored.append(batch(seed + 1000, "serial", store=Path(tmp) / f"store{k}.sqlite"))
    if cluster is not None:
        cluster.close()

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
    limit = med([a for a, _ in spin]) / med([b for _, b in spin])
    print(f"(d) the machine's ceiling: pure-Python loops on 2 processes, speed-up "
          f"{limit:.2f}; salessim reaches {speedup / limit:.0%} of it\n")
    if dask:
        print("(c) dask LocalCluster (2 worker processes, 1 thread each)")
        print(f"    dask          {n / med(dask):6.2f} replications/s   (median "
              f"{med(dask):.2f} s), speed-up {med(serial) / med(dask):.2f}\n")
    print("(b) results store (SQLite), serial")
    print(f"    without store  {med(plain):.3f} s   with store  {med(stored):.3f} s")
    ok_store = overhead < STORE_TARGET
    print(f"    overhead        {overhead:+.1%}   target < {STORE_TARGET:.0%}  "
          f"{'PASS' if ok_store else 'FAIL'}")
    return 0 if ok_speed and ok_store else 1


if __name__ == "__main__":
    sys.exit(main())
