"""Start-up time: ``import salessim`` and ``salessim validate`` in fresh processes.

In one run, alternately (so that all four see the same machine load), each repeat starts
a fresh interpreter for:

(a) ``python -c pass``: interpreter start, the reference;
(b) ``python -c "import numpy"``: the floor any numpy project pays;
(c) ``python -c "import salessim"``;
(d) ``python -m salessim.cli validate scenarios/regional.yaml``: what the console script
    ``salessim validate`` runs.

Wall times (``time.perf_counter`` around ``subprocess.run``) are medians over repeats;
the figures net of (a) say what salessim itself costs. One warm-up round, not counted,
fills the file cache.

Usage::

    python benchmarks/bench_import.py            # 15 repeats, about a minute
    python benchmarks/bench_import.py --quick    # 5 repeats
    python benchmarks/bench_import.py --repeats 31

Targets (project issue), on wall time, interpreter start included: ``import salessim``
under 0.35 s and ``salessim validate`` under 0.6 s on this 2-core machine. The script
exits with status 1 if a target is missed or a command fails.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = "scenarios/regional.yaml"
IMPORT_TARGET_S = 0.35
VALIDATE_TARGET_S = 0.6

COMMANDS: dict[str, list[str]] = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "import numpy": [sys.executable, "-c", "import numpy"],
    "import salessim": [sys.executable, "-c", "import salessim"],
    "salessim validate": [sys.executable, "-m", "salessim.cli", "validate", SCENARIO],
}
"""What is timed, in the order each repeat runs it."""


def _time(command: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n"
                         f"{done.stderr.decode(errors='replace')}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15, help="repeats (default 15)")
    parser.add_argument("--quick", action="store_true", help="5 repeats")
    args = parser.parse_args(argv)
    repeats = 5 if args.quick else args.repeats
    load_before = os.getloadavg()[0]
    for command in COMMANDS.values():  # warm-up: file cache, bytecode caches
        _time(command)
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(repeats):
        for name, command in COMMANDS.items():
            times[name].append(_time(command))
    median = {name: statistics.median(t) for name, t in times.items()}
    reference = median["python -c pass"]
    print(f"python {platform.python_version()}  {os.cpu_count()} cores  repeats {repeats}  "
          f"load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after")
    print(f"{'':20} {'median s':>9} {'min s':>7} {'net of start':>13}")
    for name, t in times.items():
        net = "" if name == "python -c pass" else f"{median[name] - reference:13.3f}"
        print(f"{name:20} {median[name]:9.3f} {min(t):7.3f} {net}")
    ok_import = median["import salessim"] < IMPORT_TARGET_S
    ok_validate = median["salessim validate"] < VALIDATE_TARGET_S
    print(f"target: import salessim < {IMPORT_TARGET_S} s  {'PASS' if ok_import else 'FAIL'}")
    print(f"target: salessim validate < {VALIDATE_TARGET_S} s  "
          f"{'PASS' if ok_validate else 'FAIL'}")
    return 0 if ok_import and ok_validate else 1


if __name__ == "__main__":
    sys.exit(main())
