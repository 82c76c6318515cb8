"""Exporting the event log for process-mining tools: CSV, Parquet or XES, by file suffix.

CSV and Parquet hold ``Results.events`` as it is, times in days from the start of the
run. XES (the IEEE 1849 standard that pm4py, ProM and Disco read) needs timestamps, so
days are mapped onto a calendar: working day ``d`` (the simulation clock counts working
days) falls on the ``floor(d)``-th business day (Monday to Friday, no holidays) on or
after ``start``, and the fraction of the day is spread over ``hours_per_day`` working
hours from ``day_start_hour`` o'clock, UTC. XES is formatted as text with the standard
library's XML escaping, a few thousand traces per write, so pm4py is not needed to write
it.

Every file is written atomically (``salessim.files``): an interrupted export leaves
no file under the final name.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
from collections.abc import Callable
from functools import partial
from itertools import pairwise
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from xml.sax.saxutils import escape

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
_TRACES_PER_WRITE = 2_000
"""Traces formatted per write: few calls to ``write``, a few MB of text held at once."""
_DATES = ("time:timestamp", "start_timestamp", "enable_timestamp", "decision_timestamp")
_TEXTS = ("activity", "resource", "team", "role", "outcome", *_TRACE_ATTRIBUTES)
_INTS = ("replication", "case_id", "attempt", "touch")
_FLOATS = ("deal_value", "handoff_days", "travel_cost")
_BOOLS = ("cohort", "info_lost")
_BOOLEAN = ("false", "true")
_ENTITIES = {'"': "&quot;", "\r": "&#13;", "\n": "&#10;", "\t": "&#09;"}
"""Besides ``&<>``, what ElementTree escapes in attribute values, spelt as it does."""


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
        ValueError: Naming the formats that exist, for any other suffix; for .parquet
            when pyarrow (the ``parquet`` extra) is not installed.
    """
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"unknown event-log format {suffix or '(no suffix)'!r} for {path}; "
                         f"known formats: {', '.join(FORMATS)}")
    if suffix == ".parquet" and importlib.util.find_spec("pyarrow") is None:
        raise ValueError(f"writing {path} as Parquet needs pyarrow: pip install "
                         "'salessim[parquet]', or use .csv or .xes")
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

    The XML is formatted as text, ``_TRACES_PER_WRITE`` traces per write; the bytes
    are those that ElementTree (``ET.tostring`` of each trace) gives for the same log.
    """
    ev = res.events
    # Stable, like sort_values: a lead's activities keep the log's order (enable time).
    order = np.lexsort((ev["case_id"].to_numpy(), ev["replication"].to_numpy()))
    cols = _xes_columns(ev, res.scenario.calendar.hours_per_day, start, day_start_hour)
    fh.write('<?xml version="1.0" encoding="UTF-8"?>\n'
             '<log xes.version="1.0" xes.features="nested-attributes" '
             'xmlns="http://www.xes-standard.org/">\n')
    for name, prefix, uri in _XES_EXTENSIONS:
        fh.write(f'<extension name="{name}" prefix="{prefix}" uri="{uri}" />\n')
    fh.write('<classifier name="Activity" keys="concept:name"/>\n')
    source = _attr(f"salessim: {res.scenario.name}, seed {res.seed}")
    fh.write(f'<string key="source" value="{source}" />\n')
    key = ev["replication"].to_numpy() * (ev["case_id"].max() + 1) + ev["case_id"].to_numpy()
    starts = [*np.flatnonzero(np.diff(key[order], prepend=-1)).tolist(), len(ev)]
    for first in range(0, len(starts) - 1, _TRACES_PER_WRITE):
        cut = starts[first:first + _TRACES_PER_WRITE + 1]
        lo = cut[0]
        chunk = _chunk(cols, order[lo:cut[-1]])
        events = _events(chunk)
        fh.write("".join([_trace(chunk, events, a - lo, b - lo)
                          for a, b in pairwise(cut)]))
    fh.write("</log>\n")



def _attr(value: Any) -> str:
    """``str(value)`` escaped for a double-quoted XML attribute, as ElementTree does."""
    return escape(str(value), _ENTITIES)


def _xes_columns(ev: pd.DataFrame, hours_per_day: float, start: dt.date,
                 day_start_hour: float) -> dict[str, NDArray[Any]]:
    """The columns the XES log shows, in the events' row order, ready to be taken per chunk.

    Timestamps are kept as ``datetime64`` and text as codes into escaped names, so that
    only a chunk at a time is ever spelt out (ISO strings of every row would take
    hundreds of MB); each distinct name is escaped once.
    """
    stamp = partial(timestamps, hours_per_day=hours_per_day, start=start,
                    day_start_hour=day_start_hour)
    served = ev["resource"].to_numpy() != ""
    end = ev["end_time"].to_numpy(dtype=float)
    decision = ev["decision_time"].to_numpy(dtype=float)
    cols: dict[str, NDArray[Any]] = {
        "served": served,
        "time:timestamp": stamp(np.where(served, end, decision)),
        "start_timestamp": stamp(ev["start_time"].to_numpy(dtype=float)),
        "enable_timestamp": stamp(ev["enable_time"].to_numpy(dtype=float)),
        "decision_timestamp": stamp(decision),
    }
    for name in _TEXTS:
        codes, names = pd.factorize(ev[name].to_numpy(), use_na_sentinel=False)
        cols[name] = codes
        cols[f"{name}:names"] = np.array([_attr(n) for n in names], dtype=object)
    for name in _INTS:
        cols[name] = ev[name].to_numpy()
    for name in _FLOATS:
        cols[name] = ev[name].to_numpy(dtype=float)
    for name in _BOOLS:
        cols[name] = ev[name].to_numpy(dtype=bool)
    return cols


def _chunk(cols: dict[str, NDArray[Any]], rows: NDArray[np.intp]) -> dict[str, list[Any]]:
    """The given rows of the columns as Python values: names escaped, dates in ISO 8601."""
    out: dict[str, list[Any]] = {"served": cols["served"][rows].tolist()}
    for name in _DATES:
        # Not escaped: numpy's ISO 8601 (or "NaT") holds nothing XML would escape.
        out[name] = np.datetime_as_string(cols[name][rows], unit="ms", timezone="UTC").tolist()
    for name in _TEXTS:
        out[name] = cols[f"{name}:names"][cols[name][rows]].tolist()
    for name in (*_INTS, *_FLOATS, *_BOOLS):
        # As Python numbers the f-strings spell them as XES wants (``str`` of an int,
        # ``repr`` of a float), with no call per value.
        out[name] = cols[name][rows].tolist()
    return out


def _events(c: dict[str, list[Any]]) -> list[str]:
    """Each row of a chunk as an XES ``<event>`` element (text)."""
    work = [
        f'<string key="org:resource" value="{who}" /><string key="org:group" value="{team}" />'
        f'<date key="start_timestamp" value="{began}" />' if served else ""
        for served, who, team, began in zip(c["served"], c["resource"], c["team"],
                                            c["start_timestamp"], strict=True)]
    return [
        f'<event><string key="concept:name" value="{act}" />'
        '<string key="lifecycle:transition" value="complete" />'
        f'<date key="time:timestamp" value="{done}" />{did}'
        f'<string key="org:role" value="{role}" />'
        f'<date key="enable_timestamp" value="{enabled}" />'
        f'<date key="decision_timestamp" value="{decided}" />'
        f'<string key="outcome" value="{outcome}" /><int key="attempt" value="{attempt}" />'
        f'<int key="touch" value="{touch}" /><float key="handoff_days" value="{handoff!r}" />'
        f'<boolean key="info_lost" value="{_BOOLEAN[lost]}" />'
        f'<float key="travel_cost" value="{travel!r}" /></event>'
        for act, done, did, role, enabled, decided, outcome, attempt, touch, handoff, lost,
        travel in zip(c["activity"], c["time:timestamp"], work, c["role"],
                      c["enable_timestamp"], c["decision_timestamp"], c["outcome"],
                      c["attempt"], c["touch"], c["handoff_days"], c["info_lost"],
                      c["travel_cost"], strict=True)]


def _trace(c: dict[str, list[Any]], events: list[str], lo: int, hi: int) -> str:
    """One lead's trace (rows ``lo`` to ``hi`` of a chunk): its attributes, then its events."""
    lead = "".join([f'<string key="{attr}" value="{c[attr][lo]}" />'
                    for attr in _TRACE_ATTRIBUTES])
    rep, case = c["replication"][lo], c["case_id"][lo]
    return (f'<trace><string key="concept:name" value="{rep}-{case}" />'
            f'<int key="replication" value="{rep}" /><int key="case_id" value="{case}" />'
            f'{lead}<float key="deal_value" value="{c["deal_value"][lo]!r}" />'
            f'<boolean key="cohort" value="{_BOOLEAN[c["cohort"][lo]]}" />'
            f'{"".join(events[lo:hi])}</trace>\n')
