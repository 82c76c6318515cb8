"""What several commands share: exit codes, argument types, number formatting."""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_TERMINATED = 0, 1, 2, 130, 143


def replications(text: str) -> int:
    """Argument type: a replication count in [1, MAX_REPLICATIONS]."""
    # salessim.runner is imported by the commands that simulate, not by this module:
    # ``salessim validate`` does not load the simulation.
    from salessim.runner import MAX_REPLICATIONS

    value = whole_number(text, "replications")
    if not 1 <= value <= MAX_REPLICATIONS:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_REPLICATIONS}")
    return value


def seed(text: str) -> int:
    """Argument type: a non-negative root seed."""
    value = whole_number(text, "seed")
    if value < 0:
        raise argparse.ArgumentTypeError("must be a non-negative integer")
    return value


def whole_number(text: str, what: str) -> int:
    """``text`` as an int, or an argparse error naming ``what``."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{what} must be a whole number, got {text!r}") from None


def add_run_options(p: argparse.ArgumentParser) -> None:
    """The options every simulating command takes: replications, seed, executor, quiet."""
    from salessim.runner import DEFAULT_REPLICATIONS  # see replications()

    p.add_argument("-r", "--replications", type=replications, default=DEFAULT_REPLICATIONS,
                   help=f"independent replications (default {DEFAULT_REPLICATIONS})")
    p.add_argument("-s", "--seed", type=seed, default=None,
                   help="root seed; omitted draws one and prints it so the run can be repeated")
    add_executor_option(p)
    p.add_argument("--workers", type=int, default=None, help="processes for --executor processes")
    p.add_argument("--store", type=Path, default=None, metavar="FILE",
                   help="results store (SQLite): keep every finished replication, and "
                        "skip the ones already there when run again")
    p.add_argument("--keep-raw", action="store_true",
                   help="with --store: keep each replication's leads and events too, not "
                        "only its KPIs (about 1.5 MB a replication of the baseline instead "
                        "of 14 KB; without it they are simulated again when needed)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def add_executor_option(p: argparse.ArgumentParser) -> None:
    """The ``--executor`` option: where replications run."""
    p.add_argument("--executor", default=None, metavar="WHERE",
                   help="serial, processes, or a dask scheduler address such as "
                        "tcp://host:8786 (default: processes when there are several "
                        "cores); results are identical either way")


def run_options(args: argparse.Namespace) -> dict[str, Any]:
    """Keyword arguments for the API's simulating calls, from ``add_run_options``.

    Raises:
        ValueError: For ``--keep-raw`` without ``--store``.
        StoreError: If ``--keep-raw`` cannot be recorded in the store.
    """
    if args.keep_raw:
        if args.store is None:
            raise ValueError("--keep-raw needs --store FILE: it says what the store keeps")
        from salessim.store import Store  # the store is only opened when one is asked for

        Store(args.store, keep_raw=True).close()  # recorded in the file for this run
    return {"replications": args.replications, "seed": args.seed, "executor": args.executor,
            "workers": args.workers, "store": args.store,
            "progress": False if args.quiet else None}


def json_number(value: Any) -> Any:
    """A number for JSON: numpy scalars as Python numbers, NaN and infinity as null."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def text_table(rows: Sequence[tuple[str, ...]], right: tuple[bool, ...]) -> list[str]:
    """Lines of a plain-text table; the first row is the header, underlined.

    Args:
        rows: Cells, header first.
        right: For each column, whether it is right-aligned.
    """
    widths = [max(len(r[i]) for r in rows) for i in range(len(right))]
    lines = []
    for i, r in enumerate(rows):
        lines.append("  ".join(c.rjust(w) if ra else c.ljust(w)
                               for c, w, ra in zip(r, widths, right, strict=True)).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines
