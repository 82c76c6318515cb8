"""``salessim compare`` and ``salessim sweep``: scenarios side by side on common random numbers.

``compare A.yaml B.yaml ...`` prints each KPI of each scenario with the difference to
the first one and its paired confidence interval; ``sweep FILE --grid GRID.yaml`` runs
every point of a grid (or list of changes) and prints a line per point, and the
trade-off frontier with ``--frontier``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from salessim.cli.common import (
    EXIT_OK,
    add_run_options,
    json_number,
    run_options,
    text_table,
    whole_number,
)
from salessim.compare import Comparison, compare
from salessim.formatting import fmt, fmt_diff
from salessim.scenario import load_scenario
from salessim.sweep import MAX_POINTS, sweep

HEADLINE_KPIS = ("conversion_rate", "cycle_time_p90_days", "revenue", "cost", "profit")
"""KPIs a sweep prints unless ``--kpi`` says otherwise."""


def add_compare_arguments(p: argparse.ArgumentParser) -> None:
    """The arguments of ``compare``."""
    p.add_argument("files", nargs="+", type=Path, metavar="FILE",
                   help="scenario files; the first is the baseline")
    _add_output_options(p)
    p.set_defaults(func=_compare)


def add_sweep_arguments(p: argparse.ArgumentParser) -> None:
    """The arguments of ``sweep``."""
    p.add_argument("file", type=Path, metavar="FILE", help="the base scenario")
    p.add_argument("--grid", type=Path, required=True, metavar="GRID",
                   help="YAML file with 'grid: {key.path: [values...]}' or "
                        "'changes: {name: {key.path: value}}'")
    p.add_argument("--max-points", type=_points, default=MAX_POINTS, metavar="N",
                   help=f"most points the grid may have (default {MAX_POINTS:,}); a larger "
                        "grid is refused before anything runs")
    p.add_argument("--frontier", nargs=2, metavar=("X", "Y"), default=None,
                   help="also print the points no other beats on both KPIs, e.g. "
                        "--frontier cost cycle_time_p90_days")
    _add_output_options(p)
    p.set_defaults(func=_sweep)


def _points(text: str) -> int:
    value = whole_number(text, "--max-points")
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _add_output_options(p: argparse.ArgumentParser) -> None:
    add_run_options(p)
    p.add_argument("-k", "--kpi", action="append", default=None, metavar="KPI",
                   help="a KPI to show (repeat for several; default: all for compare, "
                        f"{', '.join(HEADLINE_KPIS)} for sweep)")
    p.add_argument("-f", "--format", choices=("table", "csv", "json"), default="table",
                   help="table for people; csv or json for the full table")


def _compare(args: argparse.Namespace) -> int:
    named = {}
    for path in args.files:
        name, k = path.stem, 1
        while name in named:
            k += 1
            name = f"{path.stem} ({k})"
        named[name] = load_scenario(path)
    cmp = compare(named, **run_options(args))
    table = cmp.table(args.kpi)
    _note_seed(args, cmp.seed)
    if args.format == "table":
        sys.stdout.write(format_comparison(cmp, table) + "\n")
    else:
        _write_machine(table, args.format, {"seed": cmp.seed, "baseline": cmp.baseline,
                                            "replications": args.replications})
    return EXIT_OK


def _sweep(args: argparse.Namespace) -> int:
    base = load_scenario(args.file)
    sw = sweep(base, args.grid, max_points=args.max_points, **run_options(args))
    seed = sw.comparison.seed
    _note_seed(args, seed)
    if args.format != "table":
        _write_machine(sw.table(args.kpi), args.format,
                       {"seed": seed, "replications": args.replications})
        return EXIT_OK
    kpis = list(args.kpi or HEADLINE_KPIS)
    means = sw.means(kpis)
    head = (f"{base.name}: {len(sw.points)} points (baseline included), {args.replications} "
            f"replications each, seed {seed}; means, money in {base.money.currency}")
    lines = [head, "", *_means_table(means, kpis)]
    if args.frontier:
        x, y = args.frontier
        front = sw.frontier(x, y)
        lines += ["", f"Frontier: points no other beats on both {x} and {y}", "",
                  *_means_table(front, [x, y])]
    sys.stdout.write("\n".join(lines) + "\n")
    return EXIT_OK


def _note_seed(args: argparse.Namespace, seed: int) -> None:
    if args.seed is None:
        print(f"seed: {seed}", file=sys.stderr)


def _write_machine(table: pd.DataFrame, form: str, meta: dict[str, Any]) -> None:
    if form == "csv":
        sys.stdout.write(table.to_csv(float_format="%.10g"))
        return
    records = [{str(k): json_number(v) for k, v in row.items()}
               for row in table.reset_index().to_dict(orient="records")]
    sys.stdout.write(json.dumps({**meta, "rows": records}, indent=2, default=str) + "\n")


def format_comparison(cmp: Comparison, table: pd.DataFrame) -> str:
    """A plain-text comparison: per KPI, each scenario's mean and its difference."""
    level = f"{cmp.confidence:.0%}"
    many = len(cmp.results) > 2
    sc = next(iter(cmp.results.values())).scenario
    head = (f"{len(cmp.results)} scenarios on common random numbers, "
            f"{next(iter(cmp.results.values())).replications} replications, seed {cmp.seed}; "
            f"differences to {cmp.baseline!r} with {level} paired intervals"
            f"{' (simultaneous) and Holm-adjusted p-values' if many else ' and p-values'}; "
            f"money in {sc.money.currency}")
    rows: list[tuple[str, ...]] = [("kpi", "scenario", "mean", f"difference ({level} CI)", "p")]
    previous = None
    for index, row in table.iterrows():
        kpi, name = str(index[0]), str(index[1])  # type: ignore[index]
        label = kpi if kpi != previous else ""
        previous = kpi
        if name == cmp.baseline:
            rows.append((label, name, fmt(kpi, row["mean"]), "", ""))
            continue
        rows.append((label, name, fmt(kpi, row["mean"]),
                     f"{fmt_diff(kpi, row['diff'])} ({fmt_diff(kpi, row['diff_ci_low'])}"
                     f" .. {fmt_diff(kpi, row['diff_ci_high'])})",
                     _fmt_p(row["p_adjusted"])))
    return "\n".join([head, "", *text_table(rows, (False, False, True, True, True))])


def _fmt_p(p: float) -> str:
    if not math.isfinite(p):
        return "-"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _means_table(means: pd.DataFrame, kpis: Sequence[str]) -> list[str]:
    params = [c for c in means.columns if c not in kpis]
    rows: list[tuple[str, ...]] = [("point", *params, *kpis)]
    for name, row in means.iterrows():
        rows.append((str(name), *("" if row[p] is None else str(row[p]) for p in params),
                     *(fmt(k, float(row[k])) for k in kpis)))
    return text_table(rows, (False, *(True,) * (len(params) + len(kpis))))
