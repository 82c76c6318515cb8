"""``salessim report`` runs one or more scenarios and writes one self-contained HTML report.

The scenarios run with the same seed and replication count, so their differences are
paired on common random numbers; the first file is the baseline. ``--pdf`` prints the
report on A4 pages with headless Chromium as well (or instead of the HTML file).
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from salessim.briefing import GOALS
from salessim.cli.common import EXIT_OK, add_run_options, run_options
from salessim.compare import Comparison, compare, named_scenarios
from salessim.files import check_writable, write_text_atomic
from salessim.kpis import direction_of
from salessim.report import find_browser, render_report, write_pdf
from salessim.results import Results, kpi_names
from salessim.runner import run
from salessim.scenario import load_scenario


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The arguments of ``report``."""
    p.add_argument("files", nargs="+", type=Path, metavar="FILE",
                   help="scenario files; the first is the baseline the others are compared with")
    add_run_options(p)
    p.add_argument("-o", "--out", type=Path, default=None, metavar="FILE",
                   help="the HTML file to write")
    p.add_argument("--pdf", type=Path, default=None, metavar="FILE",
                   help="a PDF of the report to write, on A4 pages (needs Chromium)")
    p.add_argument("--goal", action="append", default=None, metavar="KPI",
                   help="a KPI the summary names the best scenario for (repeatable; default: "
                        + ", ".join(GOALS) + ")")
    p.set_defaults(func=_report)


def _report(args: argparse.Namespace) -> int:
    if args.out is None and args.pdf is None:
        raise ValueError("say where the report goes: --out FILE.html, --pdf FILE.pdf or both")
    for target in (args.out, args.pdf):
        if target is not None:
            check_writable(target)
    browser = find_browser() if args.pdf is not None else None  # before anything runs
    scenarios = [load_scenario(f) for f in args.files]  # all load before anything runs
    for goal in args.goal or ():
        direction_of(goal, kpi_names(scenarios[0]))
    runs: Results | Comparison
    if len(scenarios) == 1:
        runs = run(scenarios[0], **run_options(args))
    else:
        runs = compare(named_scenarios(scenarios), **run_options(args))
    written = [("--out", args.out), ("--pdf", args.pdf)]
    command = shlex.join(["salessim", "report", *map(str, args.files), "--replications",
                          str(args.replications), "--seed", str(runs.seed),
                          *(w for g in args.goal or () for w in ("--goal", g)),
                          *(w for flag, f in written if f is not None for w in (flag, str(f)))])
    html = render_report(runs, command=command, goals=args.goal)
    if args.out is not None:
        write_text_atomic(args.out, html)
        print(f"wrote the report to {args.out}", file=sys.stderr)
    if args.pdf is not None:
        write_pdf(args.pdf, html, browser)
        print(f"wrote the PDF to {args.pdf}", file=sys.stderr)
    return EXIT_OK
