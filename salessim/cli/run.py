"""``salessim validate`` checks scenario files; ``salessim run`` runs one.

``run`` prints the KPIs with confidence intervals (or writes every table with ``--out``).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from functools import partial
from pathlib import Path
from typing import IO, Any

import pandas as pd

import salessim
from salessim import plots
from salessim.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    Subparsers,
    add_run_options,
    json_number,
    run_options,
    text_table,
)
from salessim.eventlog import event_log_format
from salessim.files import (
    check_writable,
    write_atomic,
    write_binary_atomic,
    write_text_atomic,
)
from salessim.formatting import fmt
from salessim.results import Results
from salessim.runner import run
from salessim.scenario import ScenarioError, load_scenario


def add_parser(sub: Subparsers) -> None:
    """Register ``validate`` and ``run``."""
    p = sub.add_parser("validate", help="check scenario files and say what is wrong")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    p.set_defaults(func=_validate)

    p = sub.add_parser("run", help="run a scenario and print its KPIs with 95%% intervals")
    p.add_argument("file", type=Path, metavar="FILE")
    add_run_options(p)
    p.add_argument("-f", "--format", choices=("table", "csv", "json"), default="table",
                   help="how to print the KPI summary (default table)")
    p.add_argument("-o", "--out", type=Path, default=None, metavar="DIR",
                   help="also write kpis, summary, stages, reps, events (CSV), the resolved "
                        "scenario and the seed to DIR")
    p.add_argument("--event-log", type=Path, default=None, metavar="FILE",
                   help="also write the event log for process mining; the suffix picks "
                        "the format: .csv, .parquet or .xes")
    p.add_argument("--plots", type=Path, default=None, metavar="DIR",
                   help="also save the standard plots (funnel, where time goes, cycle time, "
                        "WIP over time, utilisation) to DIR")
    p.add_argument("--plot-format", choices=("png", "svg"), default="png",
                   help="file format of --plots (default png)")
    p.set_defaults(func=_run)


def _validate(args: argparse.Namespace) -> int:
    failed = 0
    for path in args.files:
        try:
            sc = load_scenario(path)
        except ScenarioError as err:
            print(str(err), file=sys.stderr)
            failed += 1
            continue
        print(f"ok  {path}: {sc.name} ({len(sc.stages)} stages, {len(sc.teams)} teams, "
              f"{sum(g.headcount for t in sc.teams for g in t.reps.values())} reps, "
              f"about {sc.expected_leads():,.0f} leads, "
              f"{sc.expected_leads(sc.calendar.warmup_days):,.0f} counted)")
    return EXIT_BAD_INPUT if failed else EXIT_OK


def _run(args: argparse.Namespace) -> int:
    sc = load_scenario(args.file)
    _check_outputs(args)
    res = run(sc, args.replications, args.seed, **run_options(args))
    if args.seed is None:
        print(f"seed: {res.seed}", file=sys.stderr)
    summary = res.summary()
    if args.format == "csv":
        sys.stdout.write(summary.to_csv(float_format="%.10g"))
    elif args.format == "json":
        sys.stdout.write(json.dumps(_summary_json(res, summary), indent=2) + "\n")
    else:
        sys.stdout.write(format_summary(res, summary) + "\n")
    if args.out is not None:
        _write_outputs(res, args.out, args.file)
        print(f"wrote results to {args.out}", file=sys.stderr)
    if args.event_log is not None:
        res.to_event_log(args.event_log)
        print(f"wrote the event log to {args.event_log}", file=sys.stderr)
    if args.plots is not None:
        _write_plots(res, args.plots, args.plot_format)
        print(f"wrote plots to {args.plots}", file=sys.stderr)
    return EXIT_OK


def _summary_json(res: Results, summary: pd.DataFrame) -> dict[str, Any]:
    return {
        "scenario": res.scenario.name,
        "salessim_version": salessim.__version__,
        "seed": res.seed,
        "replications": res.replications,
        "confidence": res.confidence,
        "kpis": {
            kpi: {k: json_number(v) for k, v in row.items()}
            for kpi, row in summary.to_dict(orient="index").items()
        },
    }


def format_summary(res: Results, summary: pd.DataFrame) -> str:
    """A plain-text KPI table: mean and confidence interval per KPI, units in the names."""
    sc = res.scenario
    head = (f"{sc.name}: {res.replications} replications, seed {res.seed}, "
            f"{res.confidence:.0%} confidence intervals, money in {sc.money.currency}")
    rows = [("kpi", "mean", f"{res.confidence:.0%} interval", "n")]
    for kpi, row in summary.iterrows():
        name = str(kpi)
        ci = ("-" if not math.isfinite(row["ci_low"]) else
              f"{fmt(name, row['ci_low'])} .. {fmt(name, row['ci_high'])}")
        rows.append((name, fmt(name, row["mean"]), ci, f"{int(row['n'])}"))
    return "\n".join([head, "", *text_table(rows, (False, True, True, True))])


def _to_csv(df: pd.DataFrame, fh: IO[str]) -> None:
    df.to_csv(fh, float_format="%.10g")


def _write_outputs(res: Results, out: Path, source: Path) -> None:
    tables = {
        "kpis.csv": res.kpis,
        "summary.csv": res.summary(),
        "stages.csv": res.stages(),
        "reps.csv": res.reps(),
        "events.csv": res.events,
        "timeseries.csv": res.timeseries(),
    }
    for name, df in tables.items():
        write_atomic(out / name, partial(_to_csv, df))
    write_text_atomic(out / "scenario.yaml", res.scenario.to_yaml())
    meta = {
        "scenario": res.scenario.name,
        "source": str(source),
        "salessim_version": salessim.__version__,
        "seed": res.seed,
        "replications": res.replications,
        "rerun": f"salessim run scenario.yaml --replications {res.replications} "
                 f"--seed {res.seed}",
    }
    write_text_atomic(out / "run.json", json.dumps(meta, indent=2) + "\n")


def _check_outputs(args: argparse.Namespace) -> None:
    """Refuse an unknown event-log format or an unwritable path before the run, not after."""
    if args.event_log is not None:
        event_log_format(args.event_log)
        check_writable(args.event_log)
    if args.plots is not None:
        check_writable(args.plots / f"funnel.{args.plot_format}")


def _write_plots(res: Results, folder: Path, file_format: str) -> None:
    for name, fig in plots.figures(res).items():
        write_binary_atomic(folder / f"{name}.{file_format}",
                            partial(fig.savefig, format=file_format))
