"""Optimiser wall time: a 300-trial study on the regional baseline, serially and on 2 workers.

Runs, in one process and one after the other, the same study (``salessim.optimise`` on
``scenarios/regional.yaml`` with the levers of ``scenarios/levers/regional.yaml``,
objective profit, ``cycle_time_p90_days <= 140``, salaries at most 4.4 M EUR a year,
5 replications per trial, seed 1) serially and on a process pool of 2 workers, and
reports for each:

- wall time of the whole call (search, selection, comparison with the baseline and the
  sensitivity moves);
- the time spent simulating (running replications and working out their KPIs, as
  ``Optimisation.timings`` measures it) and the search's own overhead: everything else
  (proposing settings, keeping the study, selecting), as a share of the wall time;
- the replications actually run (a setting proposed twice runs once).

It checks that both give the same history and recommendation. Before the study, one
trial (5 replications of the baseline) is timed serially, to say what a trial costs.

Usage::

    python benchmarks/bench_optimise.py            # 300 trials (half an hour or more)
    python benchmarks/bench_optimise.py --quick    # 24 trials

Target (project issue): the search's overhead under 5 % of the run. The script exits
with status 1 if it is missed or the two runs disagree.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

import salessim as ss
from salessim.optimise import evaluate

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "regional.yaml"
LEVERS = ROOT / "scenarios" / "levers" / "regional.yaml"
OVERHEAD_TARGET = 0.05
STUDY: dict[str, Any] = {
    "objective": "profit", "constraints": ["cycle_time_p90_days <= 140"],
    "budget": {"salary_per_year": 4_400_000}, "replications": 5, "seed": 1,
    "progress": False,
}


def counted_replications() -> list[int]:
    """Patch the evaluator so that the replications it runs are counted."""
    count = [0]
    real = evaluate.replicate

    def replicate(jobs: Any, **kwargs: Any) -> Any:
        count[0] += len(jobs)
        return real(jobs, **kwargs)

    evaluate.replicate = replicate
    return count


def study(trials: int, executor: str, workers: int | None, count: list[int]) -> tuple[
        Any, float, int]:
    before = count[0]
    start = time.perf_counter()
    plan = ss.optimise(BASELINE, LEVERS, trials=trials, executor=executor, workers=workers,
                       **STUDY)
    return plan, time.perf_counter() - start, count[0] - before


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=300)
    parser.add_argument("--quick", action="store_true", help="24 trials")
    args = parser.parse_args(argv)
    trials = 24 if args.quick else args.trials
    start = time.perf_counter()
    ss.run(BASELINE, replications=5, seed=1, executor="serial", progress=False)
    one_trial = time.perf_counter() - start
    count = counted_replications()
    print(f"date {date.today()}  python {platform.python_version()}  salessim {ss.__version__}")
    print(f"machine {platform.machine()}  cores {os.cpu_count()}  trials {trials}")
    print(f"one trial (5 replications of the baseline, serial): {one_trial:.1f} s\n")
    runs = {}
    ok = True
    for label, executor, workers in (("serial", "serial", None), ("2 workers", "processes", 2)):
        plan, wall, reps = study(trials, executor, workers, count)
        runs[label] = plan
        share = plan.timings["search"] / plan.timings["total"]
        ok &= share < OVERHEAD_TARGET
        print(f"{label:>9}: wall {wall:7.1f} s  simulating {plan.timings['simulating']:7.1f} s  "
              f"search overhead {plan.timings['search']:5.1f} s = {share:.2%} "
              f"(target < {OVERHEAD_TARGET:.0%} {'PASS' if share < OVERHEAD_TARGET else 'FAIL'})"
              f"  replications run {reps:,}  skipped over budget {plan.skipped}")
    serial, pooled = runs["serial"], runs["2 workers"]
    wall_ratio = serial.timings["total"] / pooled.timings["total"]
    print(f"\nspeed-up with 2 workers: {wall_ratio:.2f}")
    same = serial.history.equals(pooled.history) and (
        serial.best is not None and pooled.best is not None
        and serial.best.settings == pooled.best.settings)
    print(f"same history and recommendation on both: {same}\n")
    with pd.option_context("display.width", 120):
        print(serial)
    return 0 if ok and same else 1


if __name__ == "__main__":
    sys.exit(main())
