"""``salessim calibrate`` turns a CRM export into a calibrated scenario, and checks it.

It reads the export a mapping file describes (``salessim.calibration.calibrate``),
prints what it found in plain words, and writes the scenario as YAML with a comment
beside every number: its interval, n and method, or ``assumed``. With ``--report`` it
also simulates the scenario over the data's own period (the back-test) and after
calibrating without the last months (the hold-out), and writes the fit report
(``salessim.fitreport``).

Nothing is written until everything has been computed, so bad input, a failed run or an
interrupt leaves no file behind; an existing scenario file is replaced only with
``--force``.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import textwrap
from pathlib import Path

from salessim.calibration import Backtest, Calibration, backtest, calibrate, holdout
from salessim.calibration.backtest import DEFAULT_BACKTEST_REPLICATIONS
from salessim.cli.common import (
    EXIT_OK,
    add_executor_option,
    replications,
    seed,
    whole_number,
)
from salessim.files import check_writable, write_text_atomic
from salessim.fitreport import data_summary, fit_summary, warnings, write_fit_report

WIDTH = 88
"""Printed paragraphs are wrapped at this many characters."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The arguments of ``calibrate``."""
    p.add_argument("mapping", type=Path, metavar="MAPPING",
                   help="the mapping file (YAML): where the export's tables are and what "
                        "their columns mean (see scenarios/crm/mapping.yaml)")
    p.add_argument("-o", "--out", type=Path, required=True, metavar="FILE",
                   help="the scenario file to write (YAML, every number commented)")
    p.add_argument("--force", action="store_true",
                   help="replace --out if it already exists")
    p.add_argument("--report", type=Path, default=None, metavar="FILE",
                   help="also back-test the scenario against the export and write the fit "
                        "report (HTML)")
    p.add_argument("-r", "--replications", type=replications,
                   default=DEFAULT_BACKTEST_REPLICATIONS,
                   help=f"simulated runs per test of --report (default "
                        f"{DEFAULT_BACKTEST_REPLICATIONS})")
    p.add_argument("-s", "--seed", type=seed, default=1,
                   help="root seed of the tests' runs (default 1)")
    p.add_argument("--holdout-months", type=_months, default=None, metavar="N",
                   help="months the hold-out test keeps back (default: the mapping's "
                        "holdout_months)")
    add_executor_option(p)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_calibrate)


def _months(text: str) -> int:
    """Argument type: a number of months, at least 1."""
    value = whole_number(text, "months")
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _calibrate(args: argparse.Namespace) -> int:
    _check_outputs(args)
    cal = calibrate(args.mapping)
    _say([cal.scenario.name, " ".join(data_summary(cal))])
    if cal.data.notes:
        _say(["What was found in the data:"], [*cal.data.notes])
    tests = None
    if args.report is not None:
        tests = _tests(cal, args)
        _say([" ".join(fit_summary(*tests))])
        _say(["Read with care:"], warnings(cal, *tests))
    _check_outputs(args)  # again: the tests may have run for minutes
    write_text_atomic(args.out, cal.yaml)
    print(f"wrote the scenario to {args.out} ({len(cal.estimates)} numbers estimated, each "
          "with its interval; what the data cannot tell is marked 'assumed')", file=sys.stderr)
    if tests is not None:
        write_fit_report(args.report, cal, *tests, command=_command(args))
        print(f"wrote the fit report to {args.report}", file=sys.stderr)
    return EXIT_OK


def _check_outputs(args: argparse.Namespace) -> None:
    """Refuse at once what could not be written, or would replace a file kept."""
    out = args.out
    if out.exists() and out.resolve() == args.mapping.resolve():
        raise ValueError(f"--out {out} is the mapping file itself")
    if out.exists() and not args.force:
        raise FileExistsError(f"{out} already exists; give another --out, or --force to "
                              "replace it")
    if args.report is not None and args.report.resolve() == out.resolve():
        raise ValueError("--out and --report need a file each")
    for path in (out, args.report):
        if path is not None:
            check_writable(path)


def _tests(cal: Calibration, args: argparse.Namespace) -> tuple[Backtest, Backtest]:
    """The back-test and the hold-out test, run as the options say."""
    run = {"replications": args.replications, "seed": args.seed, "executor": args.executor,
           "progress": False if args.quiet else None}
    return backtest(cal, **run), holdout(cal, months=args.holdout_months, **run)


def _say(paragraphs: list[str], items: list[str] | tuple[str, ...] = ()) -> None:
    """Print paragraphs, then items as a list, wrapped for a terminal."""
    lines = [textwrap.fill(p, WIDTH) for p in paragraphs]
    lines += [textwrap.fill(i, WIDTH, initial_indent="  - ", subsequent_indent="    ")
              for i in items]
    print("\n".join(lines) + "\n")


def _command(args: argparse.Namespace) -> str:
    """The command that makes the same scenario and report again."""
    words = ["salessim", "calibrate", str(args.mapping), "--out", str(args.out), "--report",
             str(args.report), "--replications", str(args.replications), "--seed",
             str(args.seed)]
    if args.holdout_months is not None:
        words += ["--holdout-months", str(args.holdout_months)]
    return shlex.join([*words, "--force"])
