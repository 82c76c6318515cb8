"""Time to calibrate 10,000 opportunities with their stage history (back-test excluded).

The shipped example's generator (``scenarios/crm/make_export.py``) writes a larger
export of the same invented company into a temporary folder: 420 deals a month for 24
months, about 10,300 deals and 22,500 stage changes, with the shipped mapping. Each
repeat times ``salessim.calibrate`` on it (reading, checking, fitting and writing the
scenario document), and, alternately in the same run, the reference: reading the same
three files with pandas alone (what any tool must pay). Wall times are medians over
repeats; the ratio says how much calibrating costs on top of reading.

Usage::

    python benchmarks/bench_calibration.py             # 5 repeats
    python benchmarks/bench_calibration.py --repeats 3

Target (project issue): under 30 s on this 2-core machine.
"""

from __future__ import annotations

import argparse
import importlib.util
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import salessim as ss

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "scenarios" / "crm"
TARGET_S = 30.0


def _make(folder: Path, deals_per_month: float) -> Path:
    spec = importlib.util.spec_from_file_location("make_export", EXAMPLE / "make_export.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_export"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    module.make_export(folder, months=24, deals_per_month=deals_per_month, seed=2026)
    shutil.copy(EXAMPLE / "mapping.yaml", folder / "mapping.yaml")
    return folder / "mapping.yaml"


def _read_only(folder: Path) -> None:
    pd.read_csv(folder / "opportunities.csv", dtype=str, keep_default_na=False)
    pd.read_csv(folder / "stage_history.csv", dtype=str, keep_default_na=False)
    pd.read_excel(folder / "reps.xlsx", sheet_name="Reps")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="repeats (default 5)")
    parser.add_argument("--deals-per-month", type=float, default=420.0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        mapping = _make(Path(tmp), args.deals_per_month)
        cal = ss.calibrate(mapping)  # warm-up (imports, caches), not counted
        deals = len(cal.data.opportunities)
        changes = 0 if cal.data.history is None else len(cal.data.history)
        full, reading = [], []
        for _ in range(args.repeats):
            start = time.perf_counter()
            ss.calibrate(mapping)
            full.append(time.perf_counter() - start)
            start = time.perf_counter()
            _read_only(Path(tmp))
            reading.append(time.perf_counter() - start)
    c, r = statistics.median(full), statistics.median(reading)
    print(f"python {platform.python_version()}  numpy {np.__version__}  pandas "
          f"{pd.__version__}  salessim {ss.__version__}  repeats {args.repeats}")
    print(f"export: {deals:,} deals, {changes:,} stage changes")
    print(f"calibrate (median)          {c:8.2f} s   (min {min(full):.2f})")
    print(f"reading with pandas alone   {r:8.2f} s   ratio {c / r:6.1f}")
    ok = c < TARGET_S
    print(f"target under {TARGET_S:.0f} s: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
