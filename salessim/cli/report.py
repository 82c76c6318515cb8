"""``salessim report`` runs one or more scenarios and writes one self-contained HTML report.

The scenarios run with the same seed and replication count, so their differences are
paired on common random numbers; the first file is the baseline.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from salessim.cli.common import EXIT_OK, add_run_options, run_options
from salessim.compare import Comparison, compare, named_scenarios
from salessim.files import check_writable
from salessim.report import write_report
from salessim.results import Results
from salessim.runner import run
from salessim.scenario import load_scenario


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The arguments of ``report``."""
    p.add_argument("files", nargs="+", type=Path, metavar="FILE",
                   help="scenario files; the first is the baseline the others are compared with")
    add_run_options(p)
    p.add_argument("-o", "--out", type=Path, required=True, metavar="FILE",
                   help="the HTML file to write")
    p.set_defaults(func=_report)


def _report(args: argparse.Namespace) -> int:
    check_writable(args.out)
    scenarios = [load_scenario(f) for f in args.files]  # all load before anything runs
    runs: Results | Comparison
    if len(scenarios) == 1:
        runs = run(scenarios[0], **run_options(args))
    else:
        runs = compare(named_scenarios(scenarios), **run_options(args))
    command = shlex.join(["salessim", "report", *map(str, args.files), "--replications",
                          str(args.replications), "--seed", str(runs.seed), "--out",
                          str(args.out)])
    write_report(args.out, runs, command=command)
    print(f"wrote the report to {args.out}", file=sys.stderr)
    return EXIT_OK
