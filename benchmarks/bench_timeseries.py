"""Cost of the time series (WIP, queues, busy reps) against the replication it describes.

The series are computed after the run from the event records, so the simulation pays
nothing for them. This measures what they cost afterwards: for each repeat, one
replication of ``scenarios/regional.yaml`` (about 10,000 leads) is simulated, then
``Results.timeseries(step_days=1)`` (and, for comparison, ``step_days=0.1``) is
computed for it; wall times are medians over repeats, and the ratio is the median
series time over the median replication time.

Usage::

    python benchmarks/bench_timeseries.py             # 9 repeats
    python benchmarks/bench_timeseries.py --repeats 3

Target: cheap enough to leave on by default, i.e. a few per cent of a replication.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

import salessim as ss
from salessim.model import simulate

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "regional.yaml"
RATIO_TARGET = 0.05


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9, help="repeats (default 9)")
    args = parser.parse_args(argv)
    sc = ss.load_scenario(BASELINE)
    simulate(sc, 1, args.repeats)  # warm-up, not counted
    sim, fine, coarse, rows = [], [], [], 0
    for r in range(args.repeats):
        start = time.perf_counter()
        raw = simulate(sc, 1, r)
        sim.append(time.perf_counter() - start)
        res = ss.Results(scenario=sc, seed=1, raw=(raw,))
        start = time.perf_counter()
        ts = res.timeseries(step_days=1.0)
        coarse.append(time.perf_counter() - start)
        start = time.perf_counter()
        res.timeseries(step_days=0.1)
        fine.append(time.perf_counter() - start)
        rows = len(ts)
    s, c, f = (statistics.median(x) for x in (sim, coarse, fine))
    print(f"python {platform.python_version()}  numpy {np.__version__}  "
          f"salessim {ss.__version__}  repeats {args.repeats}")
    print(f"replication (simulate)         {s:8.3f} s")
    print(f"timeseries, step 1 day         {c:8.3f} s   ratio {c / s:6.3f}   ({rows:,} rows)")
    print(f"timeseries, step 0.1 day       {f:8.3f} s   ratio {f / s:6.3f}")
    ok = c / s <= RATIO_TARGET
    print(f"target: step-1 ratio <= {RATIO_TARGET}  {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
