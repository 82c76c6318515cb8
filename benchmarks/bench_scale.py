"""Cost per lead and peak memory as the sales force grows: the baseline scaled by K.

``scenarios/regional.yaml`` with every channel's leads per day and every team's
headcounts multiplied by K, so each rep sees the same load at every K and only the size
of the organisation changes. Each K runs in a fresh process (so one K's memory cannot
hide in another's), which times one replication with ``salessim.model.simulate`` after
loading the scenario, and reports its own peak resident memory. The reference for the
ratio is K = 1 measured in the same run, before and after the others: cost per lead at K
over cost per lead at K = 1.

Usage::

    python benchmarks/bench_scale.py                 # K = 1, 4, 16, 64 (several minutes)
    python benchmarks/bench_scale.py --ks 1 4 16     # quicker
    python benchmarks/bench_scale.py --repeats 3     # replications per K (median)

Targets (project issue): at K = 64 the cost per lead at most 1.3x that at K = 1, and one
replication in under 25 s; peak memory at most 1 KB per lead in flight.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RATIO_TARGET = 1.3
SECONDS_TARGET = 25.0

_CHILD = """
import json, resource, sys, time
import salessim as ss
from salessim.model import simulate
k, repeats = int(sys.argv[1]), int(sys.argv[2])
sc = ss.load_scenario(sys.argv[3])
doc = sc.to_document()
for ch in doc["channels"]:
    ch["leads_per_day"] *= k
for team in doc["teams"]:
    for staff in team["reps"].values():
        staff["headcount"] *= k
sc = ss.load_scenario(doc)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
times, leads = [], 0
for r in range(repeats):
    start = time.perf_counter()
    raw = simulate(sc, 1, r)
    times.append(time.perf_counter() - start)
    leads = len(raw.leads["case"])
    del raw
print(json.dumps({"k": k, "times": times, "leads": leads,
                  "reps": sum(s["headcount"] for t in doc["teams"] for s in t["reps"].values()),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "start_mb": base / 1024}))
"""


def measure(k: int, repeats: int) -> dict[str, Any]:
    """One K in a fresh process: times per replication, leads, peak memory (MB)."""
    out = subprocess.run([sys.executable, "-c", _CHILD, str(k), str(repeats),
                          str(ROOT / "scenarios" / "regional.yaml")],
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        sys.exit(f"K = {k} failed:\n{out.stderr}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ks", type=int, nargs="+", default=[1, 4, 16, 64])
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    ks = sorted(set(args.ks) | {1})
    rows = {k: measure(k, args.repeats) for k in ks}
    # K = 1 again at the end: the reference sees the machine's load before and after.
    again = measure(1, args.repeats)
    ref_times = rows[1]["times"] + again["times"]
    per_lead_1 = statistics.median(ref_times) / rows[1]["leads"]
    print(f"python {platform.python_version()}, {platform.machine()}, "
          f"{args.repeats} replication(s) per K (median)")
    print(f"{'K':>4} {'leads':>9} {'reps':>6} {'s/replication':>14} {'us/lead':>8} "
          f"{'ratio':>6} {'peak MB':>8} {'KB/lead':>8}")
    failed = False
    for k, row in rows.items():
        seconds = statistics.median(ref_times if k == 1 else row["times"])
        ratio = seconds / row["leads"] / per_lead_1
        kb = (row["peak_mb"] - row["start_mb"]) * 1024 / row["leads"]
        print(f"{k:>4} {row['leads']:>9,} {row['reps']:>6,} {seconds:>14.2f} "
              f"{seconds / row['leads'] * 1e6:>8.1f} {ratio:>6.2f} {row['peak_mb']:>8.0f} "
              f"{kb:>8.2f}")
        if k == 64:
            failed |= ratio > RATIO_TARGET or seconds > SECONDS_TARGET
    print("KB/lead: peak resident memory above the process's size after loading the "
          "scenario, over the leads of one replication")
    if 64 in rows:
        print("targets at K = 64:", "FAIL" if failed else "PASS")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
