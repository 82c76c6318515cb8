"""XES export: the text writer of ``salessim.eventlog`` against the ElementTree one it replaced.

``res = salessim.run("scenarios/regional.yaml", replications=10, seed=1)`` is built once,
with its event table (``res.events``), untimed. Each repeat then writes the XES log once
with the reference writer (below, a copy of the ElementTree writer as it was before) and
once with ``salessim.write_event_log``, alternately, so both see the same machine load;
only the writing is timed (wall time, ``time.perf_counter``, medians over repeats). Both
go through the same atomic write (temporary file, fsync, rename). The two files are
compared byte for byte. Peak memory of each writer is measured apart, in a forked child
process (the results inherited, not counted) with ``tracemalloc``, which slows the
writing, so it is not timed.

Usage::

    python benchmarks/bench_eventlog.py             # 10 replications, 3 repeats, ~4 minutes
    python benchmarks/bench_eventlog.py --quick     # 2 replications, 2 repeats, ~45 s
    python benchmarks/bench_eventlog.py --repeats 5

Target (project issue): the new writer at least 5 times as fast as the reference. The
script exits with status 1 if the target is missed or the files differ.
"""

from __future__ import annotations

import argparse
import datetime as dt
import filecmp
import multiprocessing as mp
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import xml.etree.ElementTree as ET
from collections.abc import Callable
from functools import partial
from multiprocessing.connection import Connection
from pathlib import Path
from typing import IO, Any

import numpy as np
from numpy.typing import NDArray

import salessim as ss
from salessim import eventlog
from salessim.files import write_atomic

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "regional.yaml"
RATIO_TARGET = 5.0
Writer = Callable[[ss.Results, Path], object]


# --- Reference: the ElementTree writer of salessim/eventlog.py before this benchmark ---

def reference_write(res: ss.Results, path: Path) -> Path:
    """REFERENCE (old writer): ``write_event_log(res, path)`` for .xes, as it was."""
    return write_atomic(path, partial(_ref_xes, res, start=eventlog.DEFAULT_START,
                                      day_start_hour=eventlog.DEFAULT_DAY_START_HOUR))


def _ref_xes(res: ss.Results, fh: IO[str], *, start: dt.date, day_start_hour: float) -> None:
    ev = res.events.sort_values(["replication", "case_id"], kind="stable", ignore_index=True)
    hpd = res.scenario.calendar.hours_per_day
    stamp = partial(eventlog.timestamps, hours_per_day=hpd, start=start,
                    day_start_hour=day_start_hour)
    served = ev["resource"].to_numpy() != ""
    end = ev["end_time"].to_numpy(dtype=float)
    decision = ev["decision_time"].to_numpy(dtype=float)
    when = {
        "time:timestamp": stamp(np.where(served, end, decision)),
        "start_timestamp": stamp(ev["start_time"].to_numpy(dtype=float)),
        "enable_timestamp": stamp(ev["enable_time"].to_numpy(dtype=float)),
        "decision_timestamp": stamp(decision),
    }
    iso = {k: np.datetime_as_string(v, unit="ms", timezone="UTC") for k, v in when.items()}
    fh.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    fh.write('<log xes.version="1.0" xes.features="nested-attributes" '
             'xmlns="http://www.xes-standard.org/">\n')
    for name, prefix, uri in eventlog._XES_EXTENSIONS:
        fh.write(ET.tostring(ET.Element("extension", name=name, prefix=prefix, uri=uri),
                             encoding="unicode") + "\n")
    fh.write('<classifier name="Activity" keys="concept:name"/>\n')
    fh.write(ET.tostring(_ref_string("source", f"salessim: {res.scenario.name}, "
                                               f"seed {res.seed}"), encoding="unicode") + "\n")
    bounds = np.flatnonzero(np.diff(ev["replication"].to_numpy() * (ev["case_id"].max() + 1)
                                    + ev["case_id"].to_numpy(), prepend=-1))
    columns = {c: ev[c].to_numpy() for c in ev.columns}
    for lo, hi in zip(bounds, [*bounds[1:], len(ev)], strict=True):
        trace = _ref_trace(columns, int(lo), int(hi), iso, served)
        fh.write(ET.tostring(trace, encoding="unicode") + "\n")
    fh.write("</log>\n")


def _ref_trace(c: dict[str, NDArray[Any]], lo: int, hi: int, iso: dict[str, NDArray[np.str_]],
               served: NDArray[np.bool_]) -> ET.Element:
    trace = ET.Element("trace")
    trace.append(_ref_string("concept:name", f"{c['replication'][lo]}-{c['case_id'][lo]}"))
    trace.append(_ref_typed("int", "replication", c["replication"][lo]))
    trace.append(_ref_typed("int", "case_id", c["case_id"][lo]))
    for attr in eventlog._TRACE_ATTRIBUTES:
        trace.append(_ref_string(attr, c[attr][lo]))
    trace.append(_ref_typed("float", "deal_value", c["deal_value"][lo]))
    trace.append(_ref_typed("boolean", "cohort", c["cohort"][lo]))
    for k in range(lo, hi):
        event = ET.SubElement(trace, "event")
        event.append(_ref_string("concept:name", c["activity"][k]))
        event.append(_ref_string("lifecycle:transition", "complete"))
        event.append(_ref_typed("date", "time:timestamp", iso["time:timestamp"][k]))
        if served[k]:
            event.append(_ref_string("org:resource", c["resource"][k]))
            event.append(_ref_string("org:group", c["team"][k]))
            event.append(_ref_typed("date", "start_timestamp", iso["start_timestamp"][k]))
        event.append(_ref_string("org:role", c["role"][k]))
        event.append(_ref_typed("date", "enable_timestamp", iso["enable_timestamp"][k]))
        event.append(_ref_typed("date", "decision_timestamp", iso["decision_timestamp"][k]))
        event.append(_ref_string("outcome", c["outcome"][k]))
        event.append(_ref_typed("int", "attempt", c["attempt"][k]))
        event.append(_ref_typed("int", "touch", c["touch"][k]))
        event.append(_ref_typed("float", "handoff_days", c["handoff_days"][k]))
        event.append(_ref_typed("boolean", "info_lost", c["info_lost"][k]))
        event.append(_ref_typed("float", "travel_cost", c["travel_cost"][k]))
    return trace


def _ref_string(key: str, value: Any) -> ET.Element:
    return _ref_typed("string", key, value)


def _ref_typed(tag: str, key: str, value: Any) -> ET.Element:
    if tag == "boolean":
        text = "true" if value else "false"
    elif tag == "float":
        text = repr(float(value))
    else:
        text = str(value)
    return ET.Element(tag, key=key, value=text)


# --- End of the reference ---

def new_write(res: ss.Results, path: Path) -> Path:
    """The writer under test: ``salessim.write_event_log``."""
    return ss.write_event_log(res, path)


WRITERS: dict[str, Writer] = {"reference": reference_write, "new": new_write}


def timed(write: Writer, res: ss.Results, path: Path) -> float:
    start = time.perf_counter()
    write(res, path)
    return time.perf_counter() - start


def _peak_child(write: Writer, res: ss.Results, path: Path, conn: Connection) -> None:
    tracemalloc.start()
    write(res, path)
    conn.send(tracemalloc.get_traced_memory()[1])
    conn.close()


def peak_mb(write: Writer, res: ss.Results, path: Path) -> float:
    """Peak traced memory (MB) of one write, in a forked child that inherits ``res``."""
    ctx = mp.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_peak_child, args=(write, res, path, send))
    child.start()
    send.close()
    peak = int(receive.recv())
    child.join()
    path.unlink()
    return peak / 1e6


def commit() -> str:
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                         capture_output=True, text=True, check=False)
    return out.stdout.strip() or "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=None, help="repeats (default 3)")
    parser.add_argument("--quick", action="store_true",
                        help="2 replications and 2 repeats (about 45 s)")
    args = parser.parse_args(argv)
    replications = 2 if args.quick else 10
    repeats = args.repeats or (2 if args.quick else 3)
    res = ss.run(BASELINE, replications=replications, seed=1)
    start = time.perf_counter()
    n_events = len(res.events)
    events_s = time.perf_counter() - start
    times: dict[str, list[float]] = {name: [] for name in WRITERS}
    with tempfile.TemporaryDirectory(prefix="bench_eventlog-") as tmp:
        paths = {name: Path(tmp) / f"{name}.xes" for name in WRITERS}
        for r in range(repeats):
            for name, write in WRITERS.items():
                times[name].append(timed(write, res, paths[name]))
            if r == 0:
                identical = filecmp.cmp(paths["reference"], paths["new"], shallow=False)
                size_mb = paths["new"].stat().st_size / 1e6
            for path in paths.values():
                path.unlink()  # two files of a few hundred MB each: do not keep them
        peaks = {name: peak_mb(write, res, paths[name]) for name, write in WRITERS.items()}
    old, new = (statistics.median(times[name]) for name in WRITERS)
    print(f"python {platform.python_version()}  numpy {np.__version__}  "
          f"salessim {ss.__version__}  commit {commit()}  date {dt.date.today()}")
    print(f"{replications} replications of {BASELINE.name}: {n_events:,} events, "
          f"XES file {size_mb:,.1f} MB; res.events built in {events_s:.2f} s (untimed)")
    for name in WRITERS:
        runs = ", ".join(f"{t:.2f}" for t in times[name])
        print(f"{name:<10} median {statistics.median(times[name]):7.2f} s  "
              f"(runs {runs})  peak {peaks[name]:7.1f} MB")
    ratio = old / new
    print(f"ratio reference / new: {ratio:.2f}  (target >= {RATIO_TARGET})")
    print(f"output byte-identical: {'yes' if identical else 'NO'}")
    ok = ratio >= RATIO_TARGET and identical
    print(f"target: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
