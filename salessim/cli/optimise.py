"""``salessim optimise FILE --levers LEVERS.yaml``: the best settings of the levers, in words.

Searches the levers of a levers file on common random numbers (``salessim.optimise``),
prints the recommendation with its paired intervals against the baseline, and with
``--out DIR`` writes the trials (``history.csv``), the recommendation's KPIs
(``recommendation.csv``), the sensitivity moves (``sensitivity.csv``), the recommended
scenario (``recommended.yaml``), the plots and ``optimise.json`` (how to run it again)
into a new folder, written whole at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import sys
from functools import partial
from pathlib import Path
from typing import IO, Any

import pandas as pd

import salessim
from salessim.cli.common import EXIT_OK, add_executor_option, replications, seed, whole_number
from salessim.files import (
    check_writable,
    output_folder,
    write_atomic,
    write_binary_atomic,
    write_text_atomic,
)
from salessim.optimise import Optimisation, optimise
from salessim.optimise import plots as optimise_plots
from salessim.optimise.core import DEFAULT_SEARCH_REPLICATIONS, DEFAULT_TRIALS
from salessim.optimise.spec import COSTS

RECORD = "optimise.json"
"""The file of ``--out`` that records the study (and marks a folder it may replace)."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The arguments of ``optimise``."""
    p.add_argument("file", type=Path, metavar="FILE", help="the scenario as it is")
    p.add_argument("--levers", type=Path, required=True, metavar="LEVERS",
                   help="YAML file with 'levers: {key.path: {low: L, high: H} or [values]}'")
    p.add_argument("--objective", action="append", required=True, metavar="KPI",
                   help="KPI to optimise, e.g. profit (repeat for several: the first ranks "
                        "the recommendation)")
    p.add_argument("--constraint", action="append", default=[], metavar="CONDITION",
                   help="a condition on a KPI's mean, e.g. 'cycle_time_p90_days <= 60' "
                        "(repeatable)")
    p.add_argument("--budget", action="append", type=_budget, default=[], metavar="KEY=LIMIT",
                   help=f"a limit on a setting's cost before it runs: {', '.join(COSTS)}, "
                        "e.g. salary_per_year=5000000 (repeatable)")
    p.add_argument("--trials", type=_positive("--trials"), default=DEFAULT_TRIALS,
                   help=f"settings to simulate (default {DEFAULT_TRIALS}); those over the "
                        "budget are skipped and not counted")
    p.add_argument("-r", "--replications", type=replications,
                   default=DEFAULT_SEARCH_REPLICATIONS,
                   help=f"replications per trial (default {DEFAULT_SEARCH_REPLICATIONS})")
    p.add_argument("-s", "--seed", type=seed, default=None,
                   help="root seed; omitted draws one and prints it")
    add_executor_option(p)
    p.add_argument("--workers", type=int, default=None, help="processes for --executor processes")
    p.add_argument("--store", type=Path, default=None, metavar="FILE",
                   help="results store (SQLite) for the replications")
    p.add_argument("--storage", type=Path, default=None, metavar="FILE",
                   help="keep the study in this SQLite file; run again to resume it")
    _add_selection_options(p)
    p.add_argument("-o", "--out", type=Path, default=None, metavar="DIR",
                   help="also write the trials, the recommendation, the plots and how to run "
                        "it again to DIR, a new folder (written whole at the end)")
    p.add_argument("--replace", action="store_true",
                   help="replace the results of an earlier optimisation in --out")
    p.add_argument("--report", type=Path, default=None, metavar="FILE",
                   help="also write an HTML report of the recommendation against the "
                        "baseline, with the search and its sensitivity")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_optimise)


def _add_selection_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--batch", type=_positive("--batch"), default=8,
                   help="trials proposed and simulated together (default 8)")
    p.add_argument("--candidates", type=_positive("--candidates"), default=5,
                   help="leading settings re-run to select the recommendation (default 5)")
    p.add_argument("--first-stage", type=_positive("--first-stage"), default=10,
                   help="replications of each candidate before any is dropped (default 10)")
    p.add_argument("--max-replications", type=_positive("--max-replications"), default=50,
                   help="most replications of a candidate (default 50)")
    p.add_argument("--indifference", type=float, default=None, metavar="AMOUNT",
                   help="differences of the objective that do not matter, in its unit "
                        "(default 1%% of the best candidate's mean)")
    p.add_argument("--confidence", type=float, default=0.95,
                   help="probability the selection is right, and level of the intervals "
                        "(default 0.95)")


def _positive(name: str) -> Any:
    def parse(text: str) -> int:
        value = whole_number(text, name)
        if value < 1:
            raise argparse.ArgumentTypeError(f"{name} must be at least 1")
        return value

    return parse


def _budget(text: str) -> tuple[str, float]:
    key, sep, limit = text.partition("=")
    try:
        value = float(limit)
    except ValueError:
        value = math.nan
    if not sep or not key.strip() or not math.isfinite(value):
        raise argparse.ArgumentTypeError(
            f"write a budget as KEY=LIMIT, e.g. salary_per_year=5000000; got {text!r}")
    return key.strip(), value


def _optimise(args: argparse.Namespace) -> int:
    if args.report is not None:
        check_writable(args.report)
    with contextlib.ExitStack() as stack:
        out = None if args.out is None else stack.enter_context(
            output_folder(args.out, replace=args.replace, marks=(RECORD,)))
        plan = optimise(
            args.file, args.levers, constraints=args.constraint,
            objective=args.objective[0] if len(args.objective) == 1 else args.objective,
            budget=dict(args.budget) or None, trials=args.trials,
            replications=args.replications, seed=args.seed, executor=args.executor,
            workers=args.workers, store=args.store, storage=args.storage, batch=args.batch,
            candidates=args.candidates, first_stage=args.first_stage,
            indifference=args.indifference, confidence=args.confidence,
            max_replications=args.max_replications, progress=False if args.quiet else None)
        if args.seed is None:
            print(f"seed: {plan.seed}", file=sys.stderr)
        sys.stdout.write("\n".join(plan.lines()) + "\n")
        sys.stdout.flush()
        if out is not None:
            _write(plan, out, args)
    if args.report is not None and plan.best is not None:
        from salessim.report import write_report  # jinja2 and the report's plots

        write_report(args.report, plan.best.comparison, optimisation=plan,
                     command=_record(plan, args)["rerun"] + f" --report {args.report}")
    for what, where in (("the study", args.out), ("the report", args.report)):
        if where is not None and (where is args.out or plan.best is not None):
            print(f"wrote {what} to {where}", file=sys.stderr)
    if args.report is not None and plan.best is None:
        print("no report written: there is no recommendation", file=sys.stderr)
    return EXIT_OK


def _to_csv(df: pd.DataFrame, fh: IO[str]) -> None:
    df.to_csv(fh, float_format="%.10g")


def _write(plan: Optimisation, out: Path, args: argparse.Namespace) -> None:
    tables = {"history.csv": plan.history, "sensitivity.csv": plan.sensitivity()}
    if plan.best is not None:
        tables["recommendation.csv"] = plan.best.comparison.table()
        write_text_atomic(out / "recommended.yaml", plan.best.scenario.to_yaml())
    for name, df in tables.items():
        write_atomic(out / name, partial(_to_csv, df))
    figures = {"progress": optimise_plots.progress(plan)}
    if plan.best is not None and not plan.moves.empty:
        figures["sensitivity"] = optimise_plots.tornado(plan)
    if len(plan.objectives) > 1:
        figures["frontier"] = optimise_plots.frontier(plan, plan.objectives[0].kpi,
                                                      plan.objectives[1].kpi)
    for name, fig in figures.items():
        write_binary_atomic(out / f"{name}.png",
                            partial(fig.savefig, format="png", dpi=optimise_plots.DPI))
    write_text_atomic(out / RECORD, json.dumps(_record(plan, args), indent=2) + "\n")


def _record(plan: Optimisation, args: argparse.Namespace) -> dict[str, Any]:
    command = ["salessim", "optimise", str(args.file), "--levers", str(args.levers),
               *(f"--objective {o.kpi}" for o in plan.objectives),
               *(f'--constraint "{c}"' for c in plan.constraints),
               *(f"--budget {k}={v:g}" for k, v in plan.budget.items()),
               f"--trials {args.trials}", f"--replications {plan.replications}",
               f"--seed {plan.seed}"]
    return {
        "scenario": plan.scenario.name, "source": str(args.file), "levers": str(args.levers),
        "salessim_version": salessim.__version__, "seed": plan.seed,
        "trials": len(plan.history), "skipped": plan.skipped,
        "replications": plan.replications, "study": plan.study_name,
        "recommended": None if plan.best is None else {
            k: v for k, v in plan.best.settings.items()},
        "rerun": " ".join(command),
    }
