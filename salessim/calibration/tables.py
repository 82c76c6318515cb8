"""Reading a CRM export into one checked, canonical opportunity table (and stage history).

The mapping (``salessim.scenario.mapping_spec``) says where each table is and what its
columns mean. Everything is checked here, once: a file that is not the table it should
be, a column that is not there, a date that does not parse with the stated format, an
outcome label the mapping does not translate, a deal closed before it was created, a
duplicated id, an empty table. Each problem is one line naming the file, the column and
the rows (a few examples and the count); nothing is estimated from a table with problems.

Rows are numbered as a user finds them: the file's lines for CSV and the sheet's rows for
Excel (the header is row 1), and from 1 for Parquet and XES. Rows with every cell the
mapping uses empty are skipped, and the notes say so.

Dates become the simulation's clock: working days since the first deal was created,
counting the mapping's weekdays and skipping its holidays (``numpy.busday_count``). A
time of day adds its share of the 24 hours, so two changes on one day keep their order.
Text dates are read with the table's ``date_format`` and nothing else; typed dates
(Excel, Parquet, XES) are taken as they are. A time with a time zone keeps its clock time
(``2026-03-02 09:00+01:00`` is 09:00): working days are the CRM's local days. (pm4py gives
XES times in UTC, so an XES log's times are UTC.)
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from salessim.calibration.cells import (
    MAX_EXAMPLES,
    names_of,
    note_empty,
    per_value,
    quote_rows,
    text_of,
)
from salessim.calibration.reading import quoted, read_table, table_path, wanted_columns
from salessim.scenario.errors import Problem, ScenarioError, listing, show
from salessim.scenario.mapping_spec import (
    ATTRIBUTE_COLUMNS,
    CalendarSpec,
    HistoryTable,
    LookupTable,
    MappingSpec,
    OpportunityTable,
    TableSpec,
)

LEAD_FIELDS: tuple[str, ...] = ("team", *ATTRIBUTE_COLUMNS)
"""Text fields of the canonical table besides id and owner."""

CANONICAL_COLUMNS: tuple[str, ...] = (
    "id", "owner", "created", "closed", "outcome", "amount", *LEAD_FIELDS)
"""Columns of ``CrmData.opportunities``: ``created`` and ``closed`` are working days since
the first deal was created (``closed`` is NaN while open), ``amount`` is currency (NaN
when missing) and the text fields are names (NaN when missing)."""

_NUMBER = re.compile(r"[+-]?(?:\d+|\d{1,3}(?:,\d{3})+)(?:\.\d*)?(?:[eE][+-]?\d+)?"
                     r"|[+-]?\.\d+(?:[eE][+-]?\d+)?")
_DECIMAL_COMMA = re.compile(r"[+-]?[\d.]*\d,\d{1,2}")
_FIRST_DATE = pd.Timestamp.min.ceil("D")
_LAST_DATE = pd.Timestamp.max.floor("D")


@dataclass(frozen=True)
class WorkingCalendar:
    """CRM dates to working days and back.

    Attributes:
        start: Day 0: the date the first deal was created.
        spec: Which weekdays are worked and which days are holidays.
    """

    start: dt.date
    spec: CalendarSpec

    def days(self, stamps: pd.Series) -> np.ndarray:
        """Working days from ``start`` to each timestamp (NaN for NaT), with the time of day."""
        values = pd.to_datetime(stamps)
        ok = values.notna().to_numpy()
        out = np.full(len(values), np.nan)
        if ok.any():
            v = values[ok]
            day = v.dt.floor("D").to_numpy().astype("datetime64[D]")
            whole = np.busday_count(np.datetime64(self.start, "D"), day,
                                    weekmask=self.spec.weekmask,
                                    holidays=list(self.spec.holidays))
            fraction = (v - v.dt.floor("D")).dt.total_seconds().to_numpy() / 86_400.0
            out[ok] = whole + fraction
        return out

    def date(self, days: np.ndarray) -> np.ndarray:
        """The date of each working day (``datetime64[D]``); ``days`` are rounded down."""
        return np.asarray(np.busday_offset(
            np.datetime64(self.start, "D"), np.floor(days).astype(np.int64), roll="forward",
            weekmask=self.spec.weekmask, holidays=list(self.spec.holidays)))

    def day_of(self, date: dt.date) -> float:
        """Working days from ``start`` to ``date``."""
        return float(np.busday_count(np.datetime64(self.start, "D"), np.datetime64(date, "D"),
                                     weekmask=self.spec.weekmask,
                                     holidays=list(self.spec.holidays)))


@dataclass(frozen=True)
class CrmData:
    """A checked CRM export in the simulation's units.

    Attributes:
        opportunities: One row per deal, columns ``CANONICAL_COLUMNS``.
        history: One row per stage entered: ``id``, ``stage`` (the scenario's stage
            name), ``entered`` (working days) and ``owner`` (NaN when not given); sorted
            by id and time. None without a stage history.
        calendar: Day 0 and the working calendar.
        export_day: The export date in working days: nothing after it is known.
        notes: What was found and handled, in words (missing amounts, ignored rows).
    """

    opportunities: pd.DataFrame
    history: pd.DataFrame | None
    calendar: WorkingCalendar
    export_day: float
    notes: tuple[str, ...] = field(default=())

    @property
    def end_day(self) -> float:
        """The end of the export day (working days): a deal open then has been open so long."""
        return self.export_day + 1.0

    @property
    def attributes(self) -> tuple[str, ...]:
        """The lead attributes the table has values for."""
        return tuple(a for a in ATTRIBUTE_COLUMNS if self.opportunities[a].notna().any())


def read_crm(mapping: MappingSpec, base: Path, source: str) -> CrmData:
    """Read and check every table a mapping names.

    Args:
        mapping: The validated mapping.
        base: The folder the mapping's file names are relative to.
        source: The mapping file, named in messages about the mapping itself.

    Raises:
        ScenarioError: Naming the file, the column and the rows of every problem found.
    """
    spec = mapping.opportunities
    notes: list[str] = []
    path = table_path(base, spec, source, "opportunities.file")
    raw = read_table(path, spec, "opportunities",
                      wanted_columns(spec.columns, "opportunities.columns"), notes)
    table = _canonical(raw, spec, path, notes)
    for i, lookup in enumerate(mapping.lookups):
        table = _join(table, lookup, i, mapping, (base, source, path), notes)
    _team_note(table, notes)
    created = table.pop("created_at")
    closed = _check_dates(created, table.pop("closed_at"), table, mapping.export_date, spec,
                          path)
    calendar = WorkingCalendar(created.min().date(), mapping.calendar)
    table.insert(2, "created", calendar.days(created))
    table.insert(3, "closed", calendar.days(closed))
    history = None
    if mapping.stage_history is not None:
        history = _history(mapping, (base, source, path), table, created, calendar, notes)
    return CrmData(table[list(CANONICAL_COLUMNS)].reset_index(drop=True), history, calendar,
                   calendar.day_of(mapping.export_date), tuple(notes))


# ---- the opportunity table ----------------------------------------------------------


def _canonical(raw: pd.DataFrame, spec: OpportunityTable, path: Path, notes: list[str]
               ) -> pd.DataFrame:
    col = {f: raw[c.strip()] for f, c in spec.columns.items()}
    problems: list[Problem] = []
    out = pd.DataFrame(index=raw.index)
    out["id"] = text_of(col["id"])
    out["owner"] = text_of(col["owner"])
    for f in ("id", "owner"):
        note_empty(out[f], spec.columns[f], f"every deal needs its {f}", problems)
    dup = out["id"].duplicated(keep=False) & out["id"].notna()
    if dup.any():
        problems.append(Problem(f"column {spec.columns['id']!r}", (
            f"ids repeat in {quote_rows(dup, raw, out['id'])}; each deal must appear once")))
    out["outcome"] = _outcomes(col["outcome"], spec, problems)
    for f in ("created", "closed"):
        out[f"{f}_at"] = _dates(col[f], spec, "opportunities", spec.columns[f], problems)
    out["amount"] = _amounts(col.get("amount"), spec, raw.index, problems, notes)
    if problems:
        raise ScenarioError(str(path), problems)
    renames = _renames(spec)
    for f in LEAD_FIELDS:
        out[f] = (names_of(col[f], renames.get(f, {}), notes,
                         f"{path.name} column {spec.columns[f]!r}") if f in col else np.nan)
    for f in LEAD_FIELDS:
        n = int(out[f].isna().sum())
        if f in col and n:
            notes.append(f"{n} deals have no {f} ({spec.columns[f]!r} empty); the {f} mix is "
                         "estimated from the others")
    return out


def _renames(spec: OpportunityTable) -> dict[str, dict[str, str]]:
    return {str(f): dict(v) for f, v in spec.values.items()}


def _outcomes(series: pd.Series, spec: OpportunityTable, problems: list[Problem]
              ) -> pd.Series:
    labels = text_of(series)
    outcomes = {k.strip(): v for k, v in spec.outcomes.items()}
    column = spec.columns["outcome"]
    note_empty(labels, column, f"every deal needs its outcome label ({listing(outcomes)})",
           problems)
    unmapped = labels.notna() & ~labels.isin(list(outcomes))
    if unmapped.any():
        found = labels[unmapped].value_counts()
        listed = ", ".join(f"{show(k)} ({v})" for k, v in found.head(8).items())
        problems.append(Problem(f"column {column!r}", (
            f"labels not in the mapping's outcomes: {listed}, in {quote_rows(unmapped, series)}; "
            "add each to opportunities.outcomes as won, lost or open")))
    return labels.map(outcomes).astype(object)


def _is_date(value: Any) -> bool:
    return isinstance(value, dt.date | np.datetime64) and not pd.isna(value)


def _dates(series: pd.Series, spec: TableSpec, key: str, column: str,
           problems: list[Problem]) -> pd.Series:
    """Typed dates as they are (in UTC when they have a zone); text by the stated format."""
    cells = series.astype(object)
    typed = per_value(cells, _is_date).eq(True)
    out = pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns]")
    where = f"column {column!r}"
    if typed.any():
        out[typed] = pd.to_datetime(per_value(cells[typed], _clock_time))
        far = typed & out.isna()
        if far.any():
            problems.append(Problem(where, _far_off(far, cells)))
    text = text_of(cells.where(~typed))
    has_text = text.notna()
    if not has_text.any():
        return out
    fmt = spec.date_format
    if fmt is None:
        problems.append(Problem(where, (
            f"dates written as text in {quote_rows(has_text, series, text)}, and the table has no "
            "date_format: give it, e.g. date_format: '%d/%m/%Y', so that no date is "
            "guessed")))
        return out
    try:
        out[has_text] = _parse(text[has_text], fmt)
    except ValueError as err:
        problems.append(Problem(f"{key}.date_format", f"{fmt!r} cannot read dates: {err}"))
        return out
    bad = has_text & out.isna()
    if bad.any():
        far = bad & per_value(text.where(bad), lambda v: _strptime_ok(v, fmt)).eq(True)
        if far.any():
            problems.append(Problem(where, _far_off(far, text)))
        if (bad & ~far).any():
            problems.append(Problem(where, (
                f"dates that do not match {fmt!r} (written like {_example(fmt)!r}) in "
                f"{quote_rows(bad & ~far, series, text)}")))
    return out


def _clock_time(value: Any) -> Any:
    """A typed date or time as a naive timestamp in ns (its clock time); NaT if far off."""
    try:
        stamp = pd.Timestamp(value)
        if stamp.tzinfo is not None:
            stamp = stamp.tz_localize(None)
        return stamp.as_unit("ns")
    except (ValueError, OverflowError):  # out of the nanosecond range (OutOfBounds...)
        return pd.NaT


def _parse(text: pd.Series, fmt: str) -> pd.Series:
    if "%z" in fmt or "%Z" in fmt:  # offsets may differ from row to row: one by one
        return pd.to_datetime(per_value(text, lambda v: _clock_time(_strptime(v, fmt))))
    return pd.to_datetime(text, format=fmt, errors="coerce")


def _strptime(text: str, fmt: str) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(text, fmt)
    except ValueError:
        return None


def _strptime_ok(text: str, fmt: str) -> bool:
    return _strptime(text, fmt) is not None


def _example(fmt: str) -> str:
    return dt.datetime(2025, 12, 31, 14, 30, tzinfo=dt.UTC).strftime(fmt)


def _far_off(mask: pd.Series, values: pd.Series) -> str:
    return (f"dates before {_FIRST_DATE.year + 1} or after {_LAST_DATE.year - 1} in "
            f"{quote_rows(mask, values, values)}; leave a date empty rather than write a far-off "
            "one")


def _number(text: Any) -> float:
    if not isinstance(text, str) or not _NUMBER.fullmatch(text):
        return np.nan
    value = float(text.replace(",", ""))
    return value if np.isfinite(value) else np.nan


def _amounts(series: pd.Series | None, spec: OpportunityTable, index: pd.Index,
             problems: list[Problem], notes: list[str]) -> pd.Series:
    if series is None:
        return pd.Series(np.nan, index=index)
    text = text_of(series)
    values = per_value(text, _number).astype(float)
    where = f"column {spec.columns['amount']!r}"
    bad = text.notna() & values.isna()
    if bad.any():
        comma = text[bad].map(lambda v: bool(_DECIMAL_COMMA.fullmatch(v))).any()
        hint = "; write a decimal point, not a comma (1234.5)" if comma else ""
        problems.append(Problem(where, (
            f"amounts that are not numbers in {quote_rows(bad, series, text)}; write them like "
            f"18450.00 or 18,450.00, without a currency sign{hint}")))
    negative = values < 0
    if negative.any():
        problems.append(Problem(where, f"amounts below 0 in {quote_rows(negative, series, text)}"))
    n = int(text.isna().sum())
    if n:
        notes.append(f"{n} deals have no amount; deal values are estimated from the others")
    return values


def _check_dates(created: pd.Series, closed: pd.Series, table: pd.DataFrame,
                 export: dt.date, spec: OpportunityTable, path: Path) -> pd.Series:
    """Problems with the dates of deals; the close dates of closed deals (NaT while open)."""
    export_ts = pd.Timestamp(export) + pd.Timedelta(days=1)
    c, d = spec.columns["created"], spec.columns["closed"]
    problems = []
    missing = created.isna()
    if missing.any():
        problems.append(Problem(f"column {c!r}", f"empty in {quote_rows(missing, table)}; every "
                                                 "deal needs the date it was created"))
    closed_deal = table["outcome"] != "open"
    ids = table["id"]
    dates = (ids + ": created " + created.dt.strftime("%Y-%m-%d").fillna("-") + ", closed "
             + closed.dt.strftime("%Y-%m-%d").fillna("-"))
    late = created >= export_ts
    if late.any():
        problems.append(Problem(f"column {c!r}", f"after the export date {export} in "
                                                 f"{quote_rows(late, table, dates)}"))
    no_close = closed_deal & closed.isna()
    if no_close.any():
        problems.append(Problem(f"column {d!r}", f"empty for won or lost deals in "
                                                 f"{quote_rows(no_close, table, ids)}"))
    before = closed_deal & (closed < created.dt.floor("D"))
    if before.any():
        problems.append(Problem(f"column {d!r}", f"before the created date in "
                                                 f"{quote_rows(before, table, dates)}"))
    after = closed_deal & (closed >= export_ts)
    if after.any():
        problems.append(Problem(f"column {d!r}", (
            f"after the export date {export} for won or lost deals in "
            f"{quote_rows(after, table, dates)}")))
    if problems:
        raise ScenarioError(str(path), problems)
    # An open deal's close date is the expected one (as CRMs keep it): not an outcome.
    return closed.where(closed_deal)


# ---- lookups ------------------------------------------------------------------------


Where = tuple[Path, str, Path]
"""The mapping's folder, the mapping file and the opportunity table."""


def _join(table: pd.DataFrame, spec: LookupTable, i: int, mapping: MappingSpec,
          where: Where, notes: list[str]) -> pd.DataFrame:
    base, source, opp_path = where
    key = f"lookups[{i}]"
    path = table_path(base, spec, source, f"{key}.file")
    wanted = {f"{key}.on": spec.on, **wanted_columns(spec.columns, f"{key}.columns")}
    raw = read_table(path, spec, key, wanted, notes)
    renames = _renames(mapping.opportunities)
    on = _lookup_keys(raw[spec.on.strip()], spec, renames, path)
    keys = table[spec.key]
    known = keys.isin(set(on)) | keys.isna()
    if not known.all():
        raise ScenarioError(str(path), [_unknown_keys(keys, known, table, spec, opp_path)])
    position = pd.Series(np.arange(len(on)), index=on.to_numpy())
    rows = keys.map(position)
    used = on.isin(set(keys.dropna()))
    for f, column in spec.columns.items():
        found = names_of(raw[column.strip()], renames.get(f, {}), notes,
                       f"{path.name} column {column!r}")
        if f == "team" and (used & found.isna()).any():
            raise ScenarioError(str(path), [Problem(f"column {column!r}", (
                f"empty in {quote_rows(used & found.isna(), raw, on)}, whose deals would have no "
                "team; give each a team"))])
        looked_up = pd.Series(found.to_numpy()[rows.fillna(0).astype(int).to_numpy()],
                              index=table.index).where(rows.notna())
        if table[f].notna().any():
            filled = int((table[f].isna() & looked_up.notna()).sum())
            if filled:
                notes.append(f"{filled} deals' missing {f} filled from {path.name}")
        table[f] = table[f].where(table[f].notna(), looked_up)
    return table


def _lookup_keys(cells: pd.Series, spec: LookupTable, renames: dict[str, dict[str, str]],
                 path: Path) -> pd.Series:
    """The lookup's keys as the opportunity table has them: owners as text, else names."""
    on = text_of(cells) if spec.key == "owner" else names_of(cells, renames.get(spec.key, {}))
    problems: list[Problem] = []
    note_empty(on, spec.on, f"every row needs its {spec.key}", problems)
    dup = on.duplicated(keep=False) & on.notna()
    if dup.any():
        problems.append(Problem(f"column {spec.on!r}", (
            f"keys repeat in {quote_rows(dup, on, on)}; a lookup needs one row per {spec.key}")))
    if problems:
        raise ScenarioError(str(path), problems)
    return on


def _unknown_keys(keys: pd.Series, known: pd.Series, table: pd.DataFrame, spec: LookupTable,
                  opp_path: Path) -> Problem:
    counts = keys[~known].value_counts()
    listed = ", ".join(f"{show(k)} ({n} deal{'s' if n != 1 else ''})"
                       for k, n in counts.head(MAX_EXAMPLES).items())
    more = f" and {len(counts) - MAX_EXAMPLES} more" if len(counts) > MAX_EXAMPLES else ""
    return Problem(f"column {spec.on!r}", (
        f"has no row for {spec.key} {listed}{more}, found in {quote_rows(~known, table)} of "
        f"{opp_path.name}; every {spec.key} there needs a row here"))


def _team_note(table: pd.DataFrame, notes: list[str]) -> None:
    team = table["team"]
    if team.notna().any() and team.isna().any():
        owners = sorted(set(table.loc[team.isna(), "owner"].astype(str)))
        notes.append(f"{int(team.isna().sum())} deals have no team (owners "
                     f"{quoted(owners, MAX_EXAMPLES)}); they are put in a team of their own")


# ---- the stage history ----------------------------------------------------------------


def _history(mapping: MappingSpec, where: Where, table: pd.DataFrame, created: pd.Series,
             calendar: WorkingCalendar, notes: list[str]) -> pd.DataFrame:
    spec = mapping.stage_history
    assert spec is not None
    base, source, opp_path = where
    path = table_path(base, spec, source, "stage_history.file")
    columns = {f: c.strip() for f in ("id", "stage", "entered", "owner")
               if (c := spec.column(f)) is not None}
    optional = (frozenset({"stage_history.columns.owner"})
                if spec.kind == "xes" and "owner" not in spec.columns else frozenset())
    raw = read_table(path, spec, "stage_history", wanted_columns(columns, "stage_history.columns"),
                      notes, optional)
    ids, stages, entered, closing = _history_cells(raw, columns, spec, mapping, path)
    known = ids.isin(set(table["id"]))
    keep = ~closing & known
    if int((~closing & ~known).sum()):
        notes.append(f"{int((~closing & ~known).sum())} stage-history rows are for deals not "
                     "in the opportunity table and were left out")
    _history_times(raw, entered, ids, keep, mapping.export_date,
                   pd.Series(created.dt.floor("D").to_numpy(), index=table["id"].to_numpy()),
                   columns["entered"], path, opp_path)
    owner = (text_of(raw[columns["owner"]])[keep].to_numpy() if columns.get("owner") in raw
             else np.full(int(keep.sum()), np.nan, dtype=object))
    out = pd.DataFrame({"id": ids[keep].to_numpy(), "stage": stages[keep].to_numpy(),
                        "entered": calendar.days(entered[keep]), "owner": owner})
    untracked = int((~table["id"].isin(set(out["id"]))).sum())
    if untracked:
        notes.append(f"{untracked} deals have no stage history; they count for arrivals, "
                     "values and the time to close, not for the stages")
    return out.sort_values(["id", "entered"], kind="stable", ignore_index=True)


def _history_cells(raw: pd.DataFrame, columns: dict[str, str], spec: HistoryTable,
                   mapping: MappingSpec, path: Path
                   ) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series]:
    """Each row's deal, stage, time and whether it is a closing row (an outcome label)."""
    problems: list[Problem] = []
    ids = text_of(raw[columns["id"]])
    labels = text_of(raw[columns["stage"]])
    note_empty(ids, columns["id"], "every stage change needs its deal's id", problems)
    note_empty(labels, columns["stage"], "every stage change needs the stage entered", problems)
    stage_of = {label.strip(): s.name for s in mapping.stages for label in s.labels}
    closing = labels.isin([k.strip() for k in mapping.opportunities.outcomes])
    unknown = labels.notna() & ~labels.isin(list(stage_of)) & ~closing
    if unknown.any():
        found = labels[unknown].value_counts()
        listed = ", ".join(f"{show(k)} ({v})" for k, v in found.head(8).items())
        problems.append(Problem(f"column {columns['stage']!r}", (
            f"stage labels no stage of the mapping lists: {listed}, in "
            f"{quote_rows(unknown, raw)}; add each to a stage's labels")))
    entered = _dates(raw[columns["entered"]], spec, "stage_history", columns["entered"],
                     problems)
    note_empty(text_of(raw[columns["entered"]]), columns["entered"],
           "every stage change needs the time it was made", problems)
    if problems:
        raise ScenarioError(str(path), problems)
    return ids, labels.map(stage_of), entered, closing


def _history_times(raw: pd.DataFrame, entered: pd.Series, ids: pd.Series, keep: pd.Series,
                   export: dt.date, created: pd.Series, column: str, path: Path,
                   opp_path: Path) -> None:
    """Stage changes after the export date, or before their deal was created."""
    text = text_of(raw[column])
    problems = []
    late = keep & (entered >= pd.Timestamp(export) + pd.Timedelta(days=1))
    if late.any():
        problems.append(Problem(f"column {column!r}", (
            f"after the export date {export} in {quote_rows(late, raw, text)}")))
    early = keep & (entered < ids.map(created))
    if early.any():
        problems.append(Problem(f"column {column!r}", (
            f"before their deal was created (in {opp_path.name}) in "
            f"{quote_rows(early, raw, ids.str.cat(text, sep=' at '))}")))
    if problems:
        raise ScenarioError(str(path), problems)
