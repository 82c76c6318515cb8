"""``salessim report`` runs one or more scenarios and writes one self-contained HTML report.

The scenarios run with the same seed and replication count, so their differences are
paired on common random numbers; the first file is the baseline.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

from salessim.cli.common import EXIT_OK, Subparsers, add_run_options
from salessim.files import check_writable
from salessim.report import write_report
from salessim.results import Results
from salessim.rng import fresh_seed
from salessim.runner import run
from salessim.scenario import Scenario, load_scenario


def add_parser(sub: Subparsers) -> None:
    """Register ``report``."""
    p = sub.add_parser("report", help="run scenarios and write one self-contained HTML report")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE",
                   help="scenario files; the first is the baseline the others are compared with")
    add_run_options(p)
    p.add_argument("-o", "--out", type=Path, required=True, metavar="FILE",
                   help="the HTML file to write")
    p.set_defaults(func=_report)


def _report(args: argparse.Namespace) -> int:
    check_writable(args.out)
    scenarios = _named([load_scenario(f) for f in args.files])  # all load before any run
    seed = args.seed if args.seed is not None else fresh_seed()
    executor = args.executor
    if executor is None:
        executor = "processes" if (os.cpu_count() or 1) > 1 and args.replications > 1 else "serial"
    results: dict[str, Results] = {}
    for name, sc in scenarios.items():
        if not args.quiet:
            print(f"running {name}: {args.replications} replications, seed {seed}",
                  file=sys.stderr)
        results[name] = run(sc, args.replications, seed, executor, workers=args.workers)
    command = shlex.join(["salessim", "report", *map(str, args.files), "--replications",
                          str(args.replications), "--seed", str(seed), "--out", str(args.out)])
    write_report(args.out, results, command=command)
    print(f"wrote the report to {args.out}", file=sys.stderr)
    return EXIT_OK


def _named(scenarios: list[Scenario]) -> dict[str, Scenario]:
    """Scenarios by their names, `` (2)``, `` (3)`` added to repeated names."""
    named: dict[str, Scenario] = {}
    for sc in scenarios:
        name, k = sc.name, 1
        while name in named:
            k += 1
            name = f"{sc.name} ({k})"
        named[name] = sc
    return named
