"""The ``salessim`` command: a thin front over the Python API.

Commands: ``validate`` checks scenario files; ``run`` runs one with replications and
prints its KPIs with confidence intervals (or writes them with ``--out``). Bad input
prints one message and exits with status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import IO, Any

import pandas as pd
from tqdm import tqdm

import salessim
from salessim.files import write_atomic, write_text_atomic
from salessim.results import Results
from salessim.runner import MAX_REPLICATIONS, run
from salessim.scenario import ScenarioError, load_scenario

EXIT_OK, EXIT_BAD_INPUT = 0, 2


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``salessim`` command; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        status: int = args.func(args)
        return status
    except ScenarioError as err:
        print(str(err), file=sys.stderr)
        return EXIT_BAD_INPUT
    except (OSError, ValueError) as err:
        print(f"salessim: error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("salessim: interrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="salessim",
        description="Simulate sales processes and organisations from scenario files.",
    )
    parser.add_argument("--version", action="version", version=f"salessim {salessim.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("validate", help="check scenario files and say what is wrong")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    p.set_defaults(func=_validate)

    p = sub.add_parser("run", help="run a scenario and print its KPIs with 95%% intervals")
    p.add_argument("file", type=Path, metavar="FILE")
    p.add_argument("-r", "--replications", type=_replications, default=20,
                   help="independent replications (default 20)")
    p.add_argument("-s", "--seed", type=_seed, default=None,
                   help="root seed; omitted draws one and prints it so the run can be repeated")
    p.add_argument("-f", "--format", choices=("table", "csv", "json"), default="table",
                   help="how to print the KPI summary (default table)")
    p.add_argument("-o", "--out", type=Path, default=None, metavar="DIR",
                   help="also write kpis, summary, stages, reps, events (CSV), the resolved "
                        "scenario and the seed to DIR")
    p.add_argument("--executor", choices=("serial", "processes"), default=None,
                   help="where replications run (default: processes when there are "
                        "several cores); results are identical either way")
    p.add_argument("--workers", type=int, default=None, help="processes for --executor processes")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_run)
    return parser


def _replications(text: str) -> int:
    value = _int(text, "replications")
    if not 1 <= value <= MAX_REPLICATIONS:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_REPLICATIONS}")
    return value


def _seed(text: str) -> int:
    value = _int(text, "seed")
    if value < 0:
        raise argparse.ArgumentTypeError("must be a non-negative integer")
    return value


def _int(text: str, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{what} must be a whole number, got {text!r}") from None


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
              f"about {sc.expected_leads():,.0f} leads)")
    return EXIT_BAD_INPUT if failed else EXIT_OK


def _run(args: argparse.Namespace) -> int:
    sc = load_scenario(args.file)
    executor = args.executor
    if executor is None:
        executor = "processes" if (os.cpu_count() or 1) > 1 and args.replications > 1 else "serial"
    show = not args.quiet and sys.stderr.isatty()
    with tqdm(total=args.replications, desc="replications", unit="rep", disable=not show,
              file=sys.stderr, leave=False) as bar:
        res = run(sc, args.replications, args.seed, executor, workers=args.workers,
                  on_replication=lambda _: bar.update())
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
    return EXIT_OK


def _summary_json(res: Results, summary: pd.DataFrame) -> dict[str, Any]:
    return {
        "scenario": res.scenario.name,
        "salessim_version": salessim.__version__,
        "seed": res.seed,
        "replications": res.replications,
        "confidence": res.confidence,
        "kpis": {
            kpi: {k: _json_number(v) for k, v in row.items()}
            for kpi, row in summary.to_dict(orient="index").items()
        },
    }


def _json_number(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value.item() if hasattr(value, "item") else value


def format_summary(res: Results, summary: pd.DataFrame) -> str:
    """A plain-text KPI table: mean and confidence interval per KPI, units in the names."""
    sc = res.scenario
    head = (f"{sc.name}: {res.replications} replications, seed {res.seed}, "
            f"{res.confidence:.0%} confidence intervals, money in {sc.money.currency}")
    rows = [("kpi", "mean", f"{res.confidence:.0%} interval", "n")]
    for kpi, row in summary.iterrows():
        name = str(kpi)
        ci = ("-" if not math.isfinite(row["ci_low"]) else
              f"{_fmt(name, row['ci_low'])} .. {_fmt(name, row['ci_high'])}")
        rows.append((name, _fmt(name, row["mean"]), ci, f"{int(row['n'])}"))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = [head, ""]
    for i, r in enumerate(rows):
        lines.append("  ".join([r[0].ljust(widths[0]), r[1].rjust(widths[1]),
                                r[2].rjust(widths[2]), r[3].rjust(widths[3])]))
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _fmt(kpi: str, value: float) -> str:
    if not math.isfinite(value):
        return "-"
    if kpi.endswith("_rate") or kpi.startswith("utilisation_"):
        return f"{value:.1%}"
    if kpi.endswith("_days"):
        # Response times are often hours, a fraction of a day: keep them readable.
        return f"{value:,.2f}" if abs(value) < 10 else f"{value:,.1f}"
    if kpi in ("leads", "won", "lost", "open"):
        return f"{value:,.1f}" if value != round(value) else f"{value:,.0f}"
    return f"{value:,.0f}"


def _to_csv(df: pd.DataFrame, fh: IO[str]) -> None:
    df.to_csv(fh, float_format="%.10g")


def _write_outputs(res: Results, out: Path, source: Path) -> None:
    tables = {
        "kpis.csv": res.kpis,
        "summary.csv": res.summary(),
        "stages.csv": res.stages(),
        "reps.csv": res.reps(),
        "events.csv": res.events,
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


def _exit() -> None:  # pragma: no cover - console-script shim
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
