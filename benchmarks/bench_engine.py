"""Engine speed benchmark: the baseline scenario and a tandem M/M/c funnel.

Measures, in one run on one machine:

(a) wall time of one replication of ``scenarios/regional.yaml`` (about 10,000 leads),
    over several replications, median reported;
(b) a 5-stage tandem M/M/c funnel (Poisson arrivals, exponential efforts, ``c`` pooled
    reps per stage, conversion 1 or ``p`` at each stage, no delays) run both by
    salessim and by a minimal hand-written SimPy model of the same funnel (the
    reference). Leads per second of both, and their ratio, are medians over repeats
    run alternately, so both see the same machine load. As a sanity check, both
    models' mean time in system is compared with each other and with queueing theory
    (each stage is an M/M/c queue fed by a thinned Poisson stream, by Burke's theorem);
(c) peak memory of one 100,000-lead run of the funnel, by salessim and by the minimal
    SimPy model, each in a fresh process: KB per lead above the process after loading.

Usage::

    python benchmarks/bench_engine.py            # full run (about a minute)
    python benchmarks/bench_engine.py --quick    # short run (a few seconds)

Targets (from the project issues, on a 2-core machine): one baseline replication in
under 1 s; salessim at least 0.7 of the minimal SimPy model's leads per second (the
scale issue asks 2x); at most 1 KB per lead at the peak of the 100,000-lead funnel.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import simpy

import salessim as ss
from salessim.model import simulate

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "regional.yaml"

BASELINE_TARGET_S = 1.0
RATIO_TARGET = 0.7

# ---- the tandem funnel -----------------------------------------------------------------

LEADS_PER_DAY = 50.0
REPS_PER_STAGE = 3
CONVERSION = (1.0, 0.9, 1.0, 0.85, 1.0)
UTILISATION = 0.8
HOURS_PER_DAY = 8.0


def stage_rates() -> list[float]:
    """Arrival rate (leads/day) at each stage: Poisson thinned by the conversions before."""
    rates, rate = [], LEADS_PER_DAY
    for p in CONVERSION:
        rates.append(rate)
        rate *= p
    return rates


def effort_days() -> list[float]:
    """Mean effort per stage (days) that loads each stage's reps to ``UTILISATION``."""
    return [UTILISATION * REPS_PER_STAGE / lam for lam in stage_rates()]


def tandem_scenario(horizon_days: float) -> ss.Scenario:
    """The funnel as a salessim scenario: one role and one pooled team per stage."""
    zero = {"dist": "fixed", "value": 0}
    names = [f"s{i + 1}" for i in range(len(CONVERSION))]
    doc: dict[str, Any] = {
        "schema_version": 1,
        "name": "Tandem M/M/c funnel (benchmark)",
        "calendar": {"horizon_days": horizon_days, "warmup_days": 0,
                     "drain_limit_days": 2500, "hours_per_day": HOURS_PER_DAY},
        "grades": ["A"], "regions": ["r"], "products": ["p"], "segments": ["s"],
        "channels": [{"name": "in", "leads_per_day": LEADS_PER_DAY,
                      "mix": {"grade": {"A": 1}, "region": {"r": 1},
                              "product": {"p": 1}, "segment": {"s": 1}}}],
        "deal_value": {"distribution": {"dist": "fixed", "value": 1000}},
        "roles": [{"name": n, "salary_per_day": 100, "assignment": "pooled",
                   "dispatch": "fifo"} for n in names],
        "teams": [{"name": "t", "reps": {n: {"headcount": REPS_PER_STAGE} for n in names}}],
        "stages": [
            {"name": n, "role": n,
             "effort_hours": {"dist": "exponential", "mean": d * HOURS_PER_DAY},
             "customer_delay_days": zero, "conversion": {"A": p}}
            for n, d, p in zip(names, effort_days(), CONVERSION, strict=True)
        ],
        "handoff": {"delay_days": zero, "info_loss_prob": 0.0},
        "travel": {"zones": [{"up_to_regions": 1, "hours": zero}]},
        "payment": {"invoice_delay_days": zero, "payment_days": zero},
    }
    return ss.Scenario.from_document(doc, "<tandem benchmark>")


def simpy_tandem(horizon_days: float, seed: int) -> tuple[int, float]:
    """The same funnel as a minimal hand-written SimPy model.

    Returns:
        Number of leads and their mean time in system (days).
    """
    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    n_stages = len(CONVERSION)
    resources = [simpy.Resource(env, capacity=REPS_PER_STAGE) for _ in range(n_stages)]
    n_max = int(LEADS_PER_DAY * horizon_days + 10 * math.sqrt(LEADS_PER_DAY * horizon_days)
                + 100)
    arrivals = np.cumsum(rng.exponential(1 / LEADS_PER_DAY, n_max))
    arrivals = arrivals[arrivals < horizon_days].tolist()
    n = len(arrivals)
    efforts = [rng.exponential(d, n).tolist() for d in effort_days()]
    passes = [(rng.random(n) < p).tolist() for p in CONVERSION]
    time_in_system: list[float] = []

    def lead(i: int) -> Any:
        arrived = env.now
        for s in range(n_stages):
            with resources[s].request() as req:
                yield req
                yield env.timeout(efforts[s][i])
            if not passes[s][i]:
                break
        time_in_system.append(env.now - arrived)

    def source() -> Any:
        for i, t in enumerate(arrivals):
            yield env.timeout(t - env.now)
            env.process(lead(i))

    env.process(source())
    env.run()
    return n, statistics.fmean(time_in_system)


def salessim_tandem(sc: ss.Scenario, seed: int) -> tuple[int, float]:
    """One salessim replication of the funnel: number of leads, mean time in system."""
    raw = simulate(sc, seed, 0)
    leads = raw.leads
    assert (leads["status"] != 0).all(), "every lead of the funnel should close"
    return len(leads["case"]), float(np.mean(leads["close_time"] - leads["arrival_time"]))


def erlang_c_sojourn(lam: float, mean_service: float, c: int) -> float:
    """Mean time in an M/M/c queue (wait plus service), days."""
    a = lam * mean_service
    rho = a / c
    terms = sum(a**k / math.factorial(k) for k in range(c))
    top = a**c / math.factorial(c) / (1 - rho)
    wait_prob = top / (terms + top)
    return wait_prob * mean_service / (c - a) + mean_service


def theory_time_in_system() -> float:
    """Mean time in system of the funnel by queueing theory (days)."""
    total, reach = 0.0, 1.0
    for lam, d, p in zip(stage_rates(), effort_days(), CONVERSION, strict=True):
        total += reach * erlang_c_sojourn(lam, d, REPS_PER_STAGE)
        reach *= p
    return total


# ---- measuring -------------------------------------------------------------------------


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def bench_baseline(repeats: int) -> dict[str, float]:
    sc = ss.load_scenario(BASELINE)
    simulate(sc, 1, repeats)  # warm up imports and caches, not counted
    times, leads = [], []
    for r in range(repeats):
        dt, raw = timed(lambda r=r: simulate(sc, 1, r))
        times.append(dt)
        leads.append(len(raw.leads["case"]))
    med = statistics.median(times)
    return {"seconds": med, "min_seconds": min(times), "leads": statistics.median(leads),
            "leads_per_s": statistics.median(n / t for n, t in zip(leads, times, strict=True))}


def bench_tandem(repeats: int, horizon_days: float) -> dict[str, float]:
    sc = tandem_scenario(horizon_days)
    salessim_tandem(sc, 10_000)  # warm-up runs, not counted
    simpy_tandem(horizon_days, 10_000)
    ours, ref, our_tis, ref_tis = [], [], [], []
    for k in range(repeats):
        dt, (n, tis) = timed(lambda k=k: salessim_tandem(sc, k))
        ours.append(n / dt)
        our_tis.append(tis)
        dt, (n, tis) = timed(lambda k=k: simpy_tandem(horizon_days, k))
        ref.append(n / dt)
        ref_tis.append(tis)
    return {
        "leads": LEADS_PER_DAY * horizon_days,
        "salessim_leads_per_s": statistics.median(ours),
        "simpy_leads_per_s": statistics.median(ref),
        "ratio": statistics.median(ours) / statistics.median(ref),
        "salessim_tis": statistics.fmean(our_tis),
        "salessim_tis_se": _se(our_tis),
        "simpy_tis": statistics.fmean(ref_tis),
        "simpy_tis_se": _se(ref_tis),
        "theory_tis": theory_time_in_system(),
    }


MEMORY_LEADS = 100_000
"""Leads of the tandem funnel whose peak memory is measured (the project issue's size)."""
MEMORY_TARGET_KB = 1.0

# The peak is the process's own high-water mark (VmHWM, in KB): getrusage's ru_maxrss
# starts a child at its parent's, which here has run the benchmarks above.
_MEMORY_CHILD = """
import json, sys
sys.path.insert(0, sys.argv[1])
import bench_engine as be

def high_water():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))

horizon = be.MEMORY_LEADS / be.LEADS_PER_DAY
sc = be.tandem_scenario(horizon)
start = high_water()
if sys.argv[2] == "salessim":
    leads, _ = be.salessim_tandem(sc, 1)
else:
    leads, _ = be.simpy_tandem(horizon, 1)
print(json.dumps({"leads": leads, "kb_per_lead": (high_water() - start) / leads}))
"""


def bench_memory(model: str) -> dict[str, float]:
    """Peak resident memory of one 100,000-lead tandem run, above the process's size
    after loading (KB per lead), in a fresh process; ``model`` is salessim or simpy."""
    out = subprocess.run([sys.executable, "-c", _MEMORY_CHILD, str(Path(__file__).parent),
                          model], capture_output=True, text=True, check=True)
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _se(xs: list[float]) -> float:
    return statistics.stdev(xs) / math.sqrt(len(xs)) if len(xs) > 1 else math.nan


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short run (few repeats)")
    parser.add_argument("--repeats", type=int, help="repeats per measurement")
    args = parser.parse_args(argv)
    repeats = args.repeats or (3 if args.quick else 9)
    horizon = 100.0 if args.quick else 400.0

    print(f"date {date.today()}  python {platform.python_version()}  simpy {simpy.__version__}"
          f"  numpy {np.__version__}  salessim {ss.__version__}")
    print(f"machine {platform.machine()} {platform.processor() or ''}  "
          f"cores {_cores()}  repeats {repeats}")

    base = bench_baseline(repeats)
    ok_base = base["seconds"] < BASELINE_TARGET_S
    print("\n(a) baseline scenario, one replication (scenarios/regional.yaml)")
    print(f"    leads per replication     {base['leads']:>10,.0f}")
    print(f"    wall time, median         {base['seconds']:>10.3f} s   (min "
          f"{base['min_seconds']:.3f} s)")
    print(f"    leads per second          {base['leads_per_s']:>10,.0f}")
    print(f"    target < {BASELINE_TARGET_S:.1f} s               "
          f"{'PASS' if ok_base else 'FAIL'}")

    tan = bench_tandem(repeats, horizon)
    ok_ratio = tan["ratio"] >= RATIO_TARGET
    print(f"\n(b) tandem M/M/c funnel: {len(CONVERSION)} stages, c={REPS_PER_STAGE}, "
          f"{LEADS_PER_DAY:g} leads/day, conversion {CONVERSION}, utilisation "
          f"{UTILISATION:g}, ~{tan['leads']:,.0f} leads per run")
    print(f"    salessim leads per second {tan['salessim_leads_per_s']:>10,.0f}")
    print(f"    minimal SimPy leads/s     {tan['simpy_leads_per_s']:>10,.0f}")
    print(f"    ratio salessim / SimPy    {tan['ratio']:>10.2f}   target >= {RATIO_TARGET}  "
          f"{'PASS' if ok_ratio else 'FAIL'}")
    diff = tan["salessim_tis"] - tan["simpy_tis"]
    se = math.hypot(tan["salessim_tis_se"], tan["simpy_tis_se"])
    agree = abs(diff) <= 3 * se if se == se else True
    print("    mean time in system (days, mean +- s.e. over repeats):")
    print(f"      salessim {tan['salessim_tis']:.4f} +- {tan['salessim_tis_se']:.4f}   "
          f"SimPy {tan['simpy_tis']:.4f} +- {tan['simpy_tis_se']:.4f}   "
          f"theory {tan['theory_tis']:.4f}")
    print(f"      difference {diff:+.4f} ({diff / se if se else 0:+.1f} s.e.): "
          f"{'agree within noise' if agree else 'DISAGREE'}")

    ours, simpy_mem = bench_memory("salessim"), bench_memory("simpy")
    ok_memory = ours["kb_per_lead"] <= MEMORY_TARGET_KB
    print(f"\n(c) peak memory of one tandem run of {MEMORY_LEADS:,} leads, above the process "
          "after loading (fresh processes)")
    print(f"    salessim                  {ours['kb_per_lead']:>10.2f} KB per lead   target "
          f"<= {MEMORY_TARGET_KB:g}  {'PASS' if ok_memory else 'FAIL'}")
    print(f"    minimal SimPy             {simpy_mem['kb_per_lead']:>10.2f} KB per lead")
    return 0 if ok_base and ok_ratio and agree and ok_memory else 1


def _cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


if __name__ == "__main__":
    sys.exit(main())
