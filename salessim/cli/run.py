"""``salessim run`` runs a scenario and prints its KPIs with confidence intervals.

With ``--by ATTRIBUTE`` it also prints the lead KPIs per value of a lead attribute
(``Results.breakdown``). With ``--out`` it writes every table into a new folder,
written whole at the end; with ``--plots`` the standard plots, with ``--event-log`` the
event log. Every place to write, and ``--by``, is checked before the run starts.
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
from salessim.cli.common import (
    EXIT_OK,
    add_run_options,
    json_number,
    run_options,
    text_table,
)
from salessim.eventlog import event_log_format, write_event_log
from salessim.files import (
    check_writable,
    output_folder,
    write_atomic,
    write_binary_atomic,
    write_text_atomic,
)
from salessim.formatting import fmt
from salessim.results import BREAKDOWN_BY, Results, check_breakdown_by
from salessim.runner import run
from salessim.scenario import load_scenario
from salessim.timeseries import timeseries

RUN_RECORD = "run.json"
"""The file of ``--out`` that records the run (seed, replications, how to re-run it)."""
PLOT_MARKS = ("funnel.png", "funnel.svg")
"""A plot every ``--plots`` folder holds: such a folder may be replaced."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The arguments of ``run``."""
    p.add_argument("file", type=Path, metavar="FILE")
    add_run_options(p)
    p.add_argument("-f", "--format", choices=("table", "csv", "json"), default="table",
                   help="how to print the KPI summary (default table)")
    p.add_argument("--by", default=None, metavar="ATTRIBUTE",
                   help="also print the lead KPIs per value of a lead attribute: "
                        f"{', '.join(BREAKDOWN_BY)} (team: of the rep who first worked the "
                        "lead); with --format csv the breakdown is printed instead of the "
                        "summary, and --out also writes breakdown_ATTRIBUTE.csv")
    p.add_argument("-o", "--out", type=Path, default=None, metavar="DIR",
                   help="also write kpis, summary, stages, reps, events (CSV), the resolved "
                        "scenario and the seed to DIR, a new folder (written whole at the "
                        "end: never half of one run and half of another)")
    p.add_argument("--event-log", type=Path, default=None, metavar="FILE",
                   help="also write the event log for process mining; the suffix picks "
                        "the format: .csv, .parquet or .xes")
    p.add_argument("--plots", type=Path, default=None, metavar="DIR",
                   help="also save the standard plots (funnel, where time goes, cycle time, "
                        "WIP over time, utilisation) to DIR")
    p.add_argument("--plot-format", choices=("png", "svg"), default="png",
                   help="file format of --plots (default png)")
    p.add_argument("--replace", action="store_true",
                   help="replace the results already in the --out and --plots folders "
                        "(only folders salessim wrote are replaced)")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    if args.by is not None:
        check_breakdown_by(args.by)
    sc = load_scenario(args.file)
    if args.event_log is not None:  # every place to write is checked before the run
        event_log_format(args.event_log)
        check_writable(args.event_log)
    if args.out is not None and args.plots is not None and args.out == args.plots:
        raise ValueError("--out and --plots need a folder each")
    with contextlib.ExitStack() as folders:
        out = None if args.out is None else folders.enter_context(
            output_folder(args.out, replace=args.replace, marks=(RUN_RECORD,)))
        plot_dir = None if args.plots is None else folders.enter_context(
            output_folder(args.plots, replace=args.replace, marks=PLOT_MARKS))
        res = run(sc, **run_options(args))
        if args.seed is None:
            print(f"seed: {res.seed}", file=sys.stderr)
        _print_summary(res, args.format, args.by)
        if out is not None:
            _write_outputs(res, out, args.file, args.by)
        if plot_dir is not None:
            _write_plots(res, plot_dir, args.plot_format)
        if args.event_log is not None:
            write_event_log(res, args.event_log)
    for what, where in (("results", args.out), ("plots", args.plots),
                        ("the event log", args.event_log)):
        if where is not None:
            print(f"wrote {what} to {where}", file=sys.stderr)
    return EXIT_OK


def _print_summary(res: Results, form: str, by: str | None) -> None:
    summary = res.summary()
    breakdown = None if by is None else res.breakdown(by)
    if form == "csv":
        shown = summary if breakdown is None else breakdown
        sys.stdout.write(shown.to_csv(float_format="%.10g"))
    elif form == "json":
        sys.stdout.write(json.dumps(_summary_json(res, summary, breakdown), indent=2) + "\n")
    else:
        text = format_summary(res, summary)
        if breakdown is not None:
            text += "\n\n" + format_breakdown(res, breakdown)
        sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _summary_json(res: Results, summary: pd.DataFrame,
                  breakdown: pd.DataFrame | None = None) -> dict[str, Any]:
    record = {
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
    if breakdown is not None:
        by = str(breakdown.index.names[1])
        record["breakdown"] = {"by": by, "kpis": {
            str(kpi): {str(value): {k: json_number(v) for k, v in row.items()}
                       for value, row in part.droplevel("kpi").to_dict(orient="index").items()}
            for kpi, part in breakdown.groupby(level="kpi", sort=False)}}
    return record


def format_summary(res: Results, summary: pd.DataFrame) -> str:
    """A plain-text KPI table: mean and confidence interval per KPI, units in the names."""
    sc = res.scenario
    head = (f"{sc.name}: {res.replications} replications, seed {res.seed}, "
            f"{res.confidence:.0%} confidence intervals, money in {sc.money.currency}")
    rows = [("kpi", "mean", f"{res.confidence:.0%} interval", "n")]
    for kpi, row in summary.iterrows():
        name = str(kpi)
        rows.append((name, *_mean_and_interval(name, row)))
    return "\n".join([head, "", *text_table(rows, (False, True, True, True))])


def format_breakdown(res: Results, breakdown: pd.DataFrame) -> str:
    """A plain-text breakdown (``Results.breakdown``): per KPI, each value's mean and CI."""
    sc = res.scenario
    by = str(breakdown.index.names[1])
    head = (f"Lead KPIs by {by}: counted leads, means over {res.replications} replications "
            f"with {res.confidence:.0%} confidence intervals, money in {sc.money.currency}"
            + ("; team: of the rep who first worked the lead" if by == "team" else ""))
    rows = [("kpi", by, "mean", f"{res.confidence:.0%} interval", "n")]
    previous = None
    for index, row in breakdown.iterrows():
        kpi, value = str(index[0]), str(index[1])  # type: ignore[index]
        rows.append((kpi if kpi != previous else "", value, *_mean_and_interval(kpi, row)))
        previous = kpi
    return "\n".join([head, "", *text_table(rows, (False, False, True, True, True))])


def _mean_and_interval(kpi: str, row: pd.Series) -> tuple[str, str, str]:
    """The cells mean, interval and n of a row of ``summary()`` or ``breakdown()``."""
    ci = ("-" if not math.isfinite(row["ci_low"]) else
          f"{fmt(kpi, row['ci_low'])} .. {fmt(kpi, row['ci_high'])}")
    return fmt(kpi, row["mean"]), ci, f"{int(row['n'])}"


def _to_csv(df: pd.DataFrame, fh: IO[str]) -> None:
    df.to_csv(fh, float_format="%.10g")


def _write_outputs(res: Results, out: Path, source: Path, by: str | None = None) -> None:
    tables = {
        "kpis.csv": res.kpis,
        "summary.csv": res.summary(),
        "stages.csv": res.stages(),
        "reps.csv": res.reps(),
        "events.csv": res.events,
        "timeseries.csv": timeseries(res),
    }
    if by is not None:
        tables[f"breakdown_{by}.csv"] = res.breakdown(by)
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
    write_text_atomic(out / RUN_RECORD, json.dumps(meta, indent=2) + "\n")


def _write_plots(res: Results, folder: Path, file_format: str) -> None:
    from salessim import plots  # matplotlib takes a few tenths of a second, paid with --plots

    for name, fig in plots.figures(res).items():
        write_binary_atomic(folder / f"{name}.{file_format}",
                            partial(fig.savefig, format=file_format, dpi=plots.DPI))
