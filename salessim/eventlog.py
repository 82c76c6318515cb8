"""Exporting the event log for process-mining tools: CSV, Parquet or XES, by file suffix.

CSV and Parquet hold ``Results.events`` as it is, times in days from the start of the
run. XES (the IEEE 1849 standard that pm4py, ProM and Disco read) needs timestamps, so
days are mapped onto a calendar: working day ``d`` (the simulation clock counts working
days) falls on the ``floor(d)``-th business day (Monday to Friday, no holidays) on or
after ``start``, and the fraction of the day is spread over ``hours_per_day`` working
hours from ``day_start_hour`` o'clock, UTC. XES is written with the standard library,
one trace at a time, so pm4py is not needed to write it.

Every file is written atomically (``salessim.files``): an interrupted export leaves
no file under the final name.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from salessim.files import check_writable, write_atomic, write_binary_atomic

if TYPE_CHECKING:
    from salessim.results import Results

FORMATS: tuple[str, ...] = (".csv", ".parquet", ".xes")
"""File suffixes ``write_event_log`` knows."""
DEFAULT_START = dt.date(2026, 1, 5)
"""Day 0 of the simulation clock in XES timestamps unless told otherwise (a Monday)."""
DEFAULT_DAY_START_HOUR = 9.0

_XES_EXTENSIONS = (
    ("Concept", "concept", "http://www.xes-standard.org/concept.xesext"),
    ("Time", "time", "http://www.xes-standard.org/time.xesext"),
    ("Lifecycle", "lifecycle", "http://www.xes-standard.org/lifecycle.xesext"),
    ("Organizational", "org", "http://www.xes-standard.org/org.xesext"),
)
_TRACE_ATTRIBUTES = ("channel", "grade", "region", "product", "segment")
"""Lead attributes written on each trace (besides its name, replication and value)."""


def write_event_log(
    res: Results,
    path: str | Path,
    *,
    start: dt.date = DEFAULT_START,
    day_start_hour: float = DEFAULT_DAY_START_HOUR,
) -> Path:
    """Write the event log to ``path``; the suffix (.csv, .parquet, .xes) picks the format.

    Args:
        res: Results of a run.
        path: File to write.
        start: XES only: the calendar date of day 0 (rolled forward to a business day).
        day_start_hour: XES only: the clock hour at which a working day starts.

    Returns:
        The path written.

    Raises:
        ValueError: If the suffix is not one of ``FORMATS``.
        OSError: If the file cannot be written (naming the path), for instance because
            its folder does not exist; this is found before the log is built.
    """
    target = Path(path)
    fmt = event_log_format(target)
    check_writable(target)
    writers: dict[str, Callable[[], Path]] = {
        ".csv": lambda: write_atomic(target, partial(_csv, res.events)),
        ".parquet": lambda: write_binary_atomic(target, partial(_parquet, res.events)),
        ".xes": lambda: write_atomic(target, partial(
            _xes, res, start=start, day_start_hour=day_start_hour)),
    }
    try:
        return writers[fmt]()
    except OSError as err:
        raise OSError(f"cannot write the event log to {target}: {err.strerror or err}") from err


def event_log_format(path: str | Path) -> str:
    """The format of an event-log file name: its suffix, if it is one of ``FORMATS``.

    Raises:
        ValueError: Naming the formats that exist, for any other suffix.
    """
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"unknown event-log format {suffix or '(no suffix)'!r} for {path}; "
                         f"known formats: {', '.join(FORMATS)}")
    return suffix


def timestamps(days: NDArray[np.float64], hours_per_day: float, *,
               start: dt.date = DEFAULT_START,
               day_start_hour: float = DEFAULT_DAY_START_HOUR) -> NDArray[np.datetime64]:
    """Simulation times (working days) as calendar timestamps, to the millisecond.

    Args:
        days: Times in working days from the start of the run (NaN gives NaT).
        hours_per_day: Working hours in one simulated day.
        start: Date of day 0, rolled forward to a business day.
        day_start_hour: Clock hour at which each working day starts.
    """
    known = np.isfinite(days)
    whole = np.floor(np.where(known, days, 0.0))
    dates = np.busday_offset(np.datetime64(start, "D"), whole.astype(np.int64), roll="forward")
    ms = np.rint((day_start_hour + (days - whole) * hours_per_day) * 3_600_000)
    out: NDArray[np.datetime64] = (dates.astype("datetime64[ms]")
                                   + np.where(known, ms, 0).astype("timedelta64[ms]"))
    out[~known] = np.datetime64("NaT")
    return out


def _csv(events: pd.DataFrame, fh: IO[str]) -> None:
    events.to_csv(fh, index=False)


def _parquet(events: pd.DataFrame, fh: IO[bytes]) -> None:
    events.to_parquet(fh, index=False)


def _xes(res: Results, fh: IO[str], *, start: dt.date, day_start_hour: float) -> None:
    """Write the log as XES: one trace per lead and replication, one event per activity.

    Each event is an activity instance completed when its rep finished
    (``lifecycle:transition`` ``complete``, ``time:timestamp`` the end of the work),
    with ``start_timestamp`` (the start of the work, pm4py's name for interval logs),
    ``enable_timestamp`` and ``decision_timestamp``. A lead that went cold while
    waiting has no work: its event completes when it was lost, with no resource.
    """
    ev = res.events.sort_values(["replication", "case_id"], kind="stable", ignore_index=True)
    hpd = res.scenario.calendar.hours_per_day
    stamp = partial(timestamps, hours_per_day=hpd, start=start, day_start_hour=day_start_hour)
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
    for name, prefix, uri in _XES_EXTENSIONS:
        fh.write(ET.tostring(ET.Element("extension", name=name, prefix=prefix, uri=uri),
                             encoding="unicode") + "\n")
    fh.write('<classifier name="Activity" keys="concept:name"/>\n')
    fh.write(ET.tostring(_string("source", f"salessim: {res.scenario.name}, seed {res.seed}"),
                         encoding="unicode") + "\n")
    bounds = np.flatnonzero(np.diff(ev["replication"].to_numpy() * (ev["case_id"].max() + 1)
                                    + ev["case_id"].to_numpy(), prepend=-1))
    columns = {c: ev[c].to_numpy() for c in ev.columns}
    for lo, hi in zip(bounds, [*bounds[1:], len(ev)], strict=True):
        trace = _trace(columns, int(lo), int(hi), iso, served)
        fh.write(ET.tostring(trace, encoding="unicode") + "\n")
    fh.write("</log>\n")


def _trace(c: dict[str, NDArray[Any]], lo: int, hi: int, iso: dict[str, NDArray[np.str_]],
           served: NDArray[np.bool_]) -> ET.Element:
    """One lead's trace: its attributes, then its activities in order."""
    trace = ET.Element("trace")
    trace.append(_string("concept:name", f"{c['replication'][lo]}-{c['case_id'][lo]}"))
    trace.append(_typed("int", "replication", c["replication"][lo]))
    trace.append(_typed("int", "case_id", c["case_id"][lo]))
    for attr in _TRACE_ATTRIBUTES:
        trace.append(_string(attr, c[attr][lo]))
    trace.append(_typed("float", "deal_value", c["deal_value"][lo]))
    trace.append(_typed("boolean", "cohort", c["cohort"][lo]))
    for k in range(lo, hi):
        event = ET.SubElement(trace, "event")
        event.append(_string("concept:name", c["activity"][k]))
        event.append(_string("lifecycle:transition", "complete"))
        event.append(_typed("date", "time:timestamp", iso["time:timestamp"][k]))
        if served[k]:
            event.append(_string("org:resource", c["resource"][k]))
            event.append(_string("org:group", c["team"][k]))
            event.append(_typed("date", "start_timestamp", iso["start_timestamp"][k]))
        event.append(_string("org:role", c["role"][k]))
        event.append(_typed("date", "enable_timestamp", iso["enable_timestamp"][k]))
        event.append(_typed("date", "decision_timestamp", iso["decision_timestamp"][k]))
        event.append(_string("outcome", c["outcome"][k]))
        event.append(_typed("int", "attempt", c["attempt"][k]))
        event.append(_typed("int", "touch", c["touch"][k]))
        event.append(_typed("float", "handoff_days", c["handoff_days"][k]))
        event.append(_typed("boolean", "info_lost", c["info_lost"][k]))
        event.append(_typed("float", "travel_cost", c["travel_cost"][k]))
    return trace


def _string(key: str, value: Any) -> ET.Element:
    return _typed("string", key, value)


def _typed(tag: str, key: str, value: Any) -> ET.Element:
    """An XES attribute element: ``<tag key=... value=...>`` in XES's spelling of values."""
    if tag == "boolean":
        text = "true" if value else "false"
    elif tag == "float":
        text = repr(float(value))
    else:
        text = str(value)
    return ET.Element(tag, key=key, value=text)
