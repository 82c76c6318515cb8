"""Reading a CRM export into one checked, canonical opportunity table (and stage history).

The mapping (``salessim.scenario.mapping_spec``) says where each table is and what its
columns mean. Everything is checked here, once: a column that is not there, a date that
does not parse with the stated format, an outcome label the mapping does not translate, a
deal closed before it was created, a duplicated id, an empty table. Each problem is one
line naming the file, the column and the rows (a few examples and the count); nothing
is estimated from a table with problems.

Dates become the simulation's clock: working days since the first deal was created,
counting the mapping's weekdays and skipping its holidays (``numpy.busday_count``). A
time of day adds its share of the 24 hours, so two changes on one day keep their order.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from salessim.scenario.errors import Problem, ScenarioError
from salessim.scenario.mapping_spec import (
    ATTRIBUTE_COLUMNS,
    CalendarSpec,
    HistoryTable,
    LookupTable,
    MappingSpec,
    OpportunityTable,
    TableSpec,
)

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_\-]{0,63}")
MAX_EXAMPLES = 3
"""Rows quoted in a message about bad rows; the rest are counted."""

LEAD_FIELDS: tuple[str, ...] = ("team", *ATTRIBUTE_COLUMNS)
"""Text fields of the canonical table besides id and owner."""

CANONICAL_COLUMNS: tuple[str, ...] = (
    "id", "owner", "created", "closed", "outcome", "amount", *LEAD_FIELDS)
"""Columns of ``CrmData.opportunities``: ``created`` and ``closed`` are working days since
the first deal was created (``closed`` is NaN while open), ``amount`` is currency (NaN
when missing) and the text fields are names (NaN when missing)."""


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
        return np.busday_offset(np.datetime64(self.start, "D"),
                                np.floor(days).astype(np.int64), roll="forward",
                                weekmask=self.spec.weekmask, holidays=list(self.spec.holidays))

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
    def attributes(self) -> tuple[str, ...]:
        """The lead attributes the table has values for."""
        return tuple(a for a in ATTRIBUTE_COLUMNS if self.opportunities[a].notna().any())


# ---- reading files --------------------------------------------------------------------


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
    path = _path(base, spec, source, "opportunities.file")
    raw = _read_table(path, spec)
    notes: list[str] = []
    table = _canonical(raw, spec, path, notes)
    for i, lookup in enumerate(mapping.lookups):
        lpath = _path(base, lookup, source, f"lookups[{i}].file")
        table = _join(table, _read_table(lpath, lookup), lookup, spec, lpath, notes)
    created = pd.to_datetime(table.pop("created_at"))
    closed = pd.to_datetime(table.pop("closed_at"))
    _check_dates(created, closed, table, mapping.export_date, spec, path)
    calendar = WorkingCalendar(created.min().date(), mapping.calendar)
    table.insert(2, "created", calendar.days(created))
    table.insert(3, "closed", calendar.days(closed))
    history = None
    if mapping.stage_history is not None:
        hspec = mapping.stage_history
        hpath = _path(base, hspec, source, "stage_history.file")
        history = _history(_read_table(hpath, hspec), hspec, mapping, hpath, table, calendar,
                           notes)
    return CrmData(table[list(CANONICAL_COLUMNS)], history, calendar,
                   calendar.day_of(mapping.export_date), tuple(notes))


def _path(base: Path, spec: TableSpec, source: str, key: str) -> Path:
    path = base / spec.file
    if not path.is_file():
        raise ScenarioError(source, [Problem(key, f"there is no file {path} (file names are "
                                                  "relative to the mapping file)")])
    return path


def _read_table(path: Path, spec: TableSpec) -> pd.DataFrame:
    """The table as it is in the file: text cells for CSV, typed cells otherwise."""
    try:
        if spec.kind == "csv":
            df = pd.read_csv(path, dtype=str, keep_default_na=False, sep=spec.delimiter,
                             encoding=spec.encoding)
        elif spec.kind == "parquet":
            df = pd.read_parquet(path)
        elif spec.kind == "excel":
            df = pd.read_excel(path, sheet_name=spec.sheet or 0, dtype=object)
        else:
            df = _read_xes(path)
    except (OSError, ValueError, KeyError, UnicodeDecodeError) as err:
        raise ScenarioError(str(path), [Problem("", f"cannot be read as {spec.kind}: "
                                                    f"{err}")]) from None
    except ImportError as err:
        raise ScenarioError(str(path), [Problem("", f"reading {spec.kind} needs {err.name}: "
                                                    "pip install 'salessim[calibration]'")]
                            ) from None
    if df.empty:
        raise ScenarioError(str(path), [Problem("", "the table has no rows")])
    df.columns = [str(c).strip() for c in df.columns]
    return df


def _read_xes(path: Path) -> pd.DataFrame:
    import pm4py  # only for XES, and heavy to import

    return pd.DataFrame(pm4py.read_xes(str(path), return_legacy_log_object=False))


def _column(df: pd.DataFrame, name: str, key: str, path: Path) -> pd.Series:
    if name not in df.columns:
        shown = ", ".join(repr(c) for c in list(df.columns)[:15])
        raise ScenarioError(str(path), [Problem(key, (
            f"names column {name!r}, which is not in the table; its columns are {shown}"))])
    return df[name]


def _rows(mask: np.ndarray | pd.Series, df: pd.DataFrame, values: pd.Series | None = None,
          offset: int = 2) -> str:
    """'3 rows (rows 5, 9, 12: 'x', 'y', 'z')': the count and a few examples.

    Row numbers are the file's lines for CSV (the header is line 1) and the sheet's rows
    for Excel, so a user finds them where they look.
    """
    where = np.flatnonzero(np.asarray(mask))
    count = len(where)
    rows = [str(int(df.index[i]) + offset) for i in where[:MAX_EXAMPLES]]
    examples = ""
    if values is not None:
        examples = ": " + ", ".join(repr(str(values.iloc[i])) for i in where[:MAX_EXAMPLES])
    more = ", ..." if count > MAX_EXAMPLES else ""
    return f"{count} row{'s' if count != 1 else ''} (row {', '.join(rows)}{more}{examples})"


def _text(series: pd.Series) -> pd.Series:
    """Cells as stripped text, NaN where empty."""
    out = series.astype(object).where(series.notna(), "").map(
        lambda v: v.strip() if isinstance(v, str) else str(v))
    return out.where(out != "", np.nan).astype(object)


# ---- the opportunity table ----------------------------------------------------------


def _canonical(raw: pd.DataFrame, spec: OpportunityTable, path: Path, notes: list[str]
               ) -> pd.DataFrame:
    col = {f: _column(raw, c, f"columns.{f}", path) for f, c in spec.columns.items()}
    out = pd.DataFrame(index=raw.index)
    out["id"] = _text(col["id"])
    out["owner"] = _text(col["owner"])
    for f in ("id", "owner"):
        missing = out[f].isna()
        if missing.any():
            raise ScenarioError(str(path), [Problem(f"column {spec.columns[f]!r}", (
                f"empty in {_rows(missing, raw)}; every deal needs its {f}"))])
    dup = out["id"].duplicated(keep=False)
    if dup.any():
        raise ScenarioError(str(path), [Problem(f"column {spec.columns['id']!r}", (
            f"ids repeat in {_rows(dup, raw, out['id'])}; each deal must appear once"))])
    out["outcome"] = _outcomes(col["outcome"], spec, path, raw)
    out["created_at"] = _dates(col["created"], spec, path, raw, "created")
    out["closed_at"] = _dates(col["closed"], spec, path, raw, "closed")
    out["amount"] = _amounts(col.get("amount"), spec, path, raw, notes)
    for f in LEAD_FIELDS:
        out[f] = _names(col[f], spec.values.get(f, {})) if f in col else np.nan
    for f in LEAD_FIELDS:
        n = int(out[f].isna().sum())
        if f in col and n:
            notes.append(f"{n} deals have no {f} ({spec.columns[f]!r} empty); the {f} mix is "
                         "estimated from the others")
    return out


def _outcomes(series: pd.Series, spec: OpportunityTable, path: Path, raw: pd.DataFrame
              ) -> pd.Series:
    labels = _text(series)
    unmapped = ~labels.isin(list(spec.outcomes))
    if unmapped.any():
        found = labels[unmapped].fillna("(empty)").value_counts()
        listed = ", ".join(f"{k!r} ({v})" for k, v in found.head(8).items())
        raise ScenarioError(str(path), [Problem(f"column {spec.columns['outcome']!r}", (
            f"labels not in the mapping's outcomes: {listed}, in {_rows(unmapped, raw)}; "
            "add each to opportunities.outcomes as won, lost or open"))])
    return labels.map(spec.outcomes).astype(object)


def _dates(series: pd.Series, spec: TableSpec, path: Path, raw: pd.DataFrame, what: str
           ) -> pd.Series:
    """Typed dates as they are; text parsed with the stated format only."""
    column = getattr(spec, "columns", {}).get(what, what)
    typed = series.map(lambda v: isinstance(v, dt.date | pd.Timestamp | np.datetime64))
    text = _text(series.where(~typed))
    out = pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns]")
    if typed.any():
        out[typed] = pd.to_datetime(series[typed])
    has_text = text.notna()
    if has_text.any():
        if spec.date_format is None:
            raise ScenarioError(str(path), [Problem(f"column {column!r}", (
                f"dates are written as text (e.g. {text[has_text].iloc[0]!r}); give the "
                "table's date_format, e.g. '%d/%m/%Y', so that they are not guessed"))])
        parsed = pd.to_datetime(text[has_text], format=spec.date_format, errors="coerce")
        bad = parsed.isna().reindex(series.index, fill_value=False)
        if bad.any():
            raise ScenarioError(str(path), [Problem(f"column {column!r}", (
                f"dates that do not match {spec.date_format!r} in {_rows(bad, raw, text)}"))])
        out[has_text] = parsed
    return out


def _amounts(series: pd.Series | None, spec: OpportunityTable, path: Path, raw: pd.DataFrame,
             notes: list[str]) -> pd.Series:
    if series is None:
        return pd.Series(np.nan, index=raw.index)
    text = _text(series)
    values = pd.to_numeric(text.map(lambda v: v.replace(",", "") if isinstance(v, str) else v),
                           errors="coerce")
    bad = text.notna() & (values.isna() | (values < 0) | ~np.isfinite(values.fillna(0)))
    if bad.any():
        raise ScenarioError(str(path), [Problem(f"column {spec.columns['amount']!r}", (
            f"amounts that are not numbers of at least 0 in {_rows(bad, raw, text)}"))])
    n = int(text.isna().sum())
    if n:
        notes.append(f"{n} deals have no amount; deal values are estimated from the others")
    return values.astype(float)


def _names(series: pd.Series, renames: dict[str, str]) -> pd.Series:
    """Attribute values as scenario names: renamed by the mapping, else made into names."""
    text = _text(series)
    return text.map(lambda v: v if not isinstance(v, str) else renames.get(v, name_of(v)))


def name_of(label: str) -> str:
    """A CRM label as a scenario name: ``A`` stays, ``Trade Show`` -> ``trade_show``,
    ``2nd`` -> ``v_2nd``.
    """
    if _NAME.fullmatch(label):
        return label
    name = re.sub(r"[^A-Za-z0-9]+", "_", label.strip()).strip("_").lower() or "blank"
    return name[:64] if name[0].isalpha() else f"v_{name}"[:64]


def _check_dates(created: pd.Series, closed: pd.Series, table: pd.DataFrame,
                 export: dt.date, spec: OpportunityTable, path: Path) -> None:
    export_ts = pd.Timestamp(export) + pd.Timedelta(days=1)
    c, d = spec.columns["created"], spec.columns["closed"]
    problems = []
    missing = created.isna()
    if missing.any():
        problems.append(Problem(f"column {c!r}", f"empty in {_rows(missing, table)}; every "
                                                 "deal needs the date it was created"))
    late = created >= export_ts
    if late.any():
        problems.append(Problem(f"column {c!r}", f"after the export date {export} in "
                                                 f"{_rows(late, table, created.dt.date)}"))
    closed_deal = table["outcome"] != "open"
    no_close = closed_deal & closed.isna()
    if no_close.any():
        problems.append(Problem(f"column {d!r}", f"empty for won or lost deals in "
                                                 f"{_rows(no_close, table, table['id'])}"))
    before = closed_deal & (closed < created.dt.floor("D"))
    if before.any():
        problems.append(Problem(f"column {d!r}", f"before the created date in "
                                                 f"{_rows(before, table, table['id'])}"))
    after = closed_deal & (closed >= export_ts)
    if after.any():
        problems.append(Problem(f"column {d!r}", f"after the export date {export} for won or "
                                                 f"lost deals in {_rows(after, table, table['id'])}"))
    if problems:
        raise ScenarioError(str(path), problems)
    # An open deal's close date is the expected one (as CRMs keep it): not an outcome.
    table.loc[~closed_deal, "closed_at"] = pd.NaT
    closed[~closed_deal] = pd.NaT


def _join(table: pd.DataFrame, lookup: pd.DataFrame, spec: LookupTable,
          opportunities: OpportunityTable, path: Path, notes: list[str]) -> pd.DataFrame:
    on = _text(_column(lookup, spec.on, "on", path))
    values = {f: _names(_column(lookup, c, f"columns.{f}", path),
                        opportunities.values.get(f, {}))
              for f, c in spec.columns.items()}
    dup = on.duplicated(keep=False) & on.notna()
    if dup.any():
        raise ScenarioError(str(path), [Problem(f"column {spec.on!r}", (
            f"keys repeat in {_rows(dup, lookup, on)}; a lookup needs one row per key"))])
    keys = table["owner"] if spec.key == "owner" else table[spec.key]
    known = keys.isin(set(on.dropna()) | ({np.nan} if spec.key != "owner" else set()))
    if spec.key != "owner":
        known = known | keys.isna()
    if not known.all():
        missing = sorted(set(keys[~known].astype(str)))
        shown = ", ".join(repr(m) for m in missing[:MAX_EXAMPLES])
        more = f" and {len(missing) - MAX_EXAMPLES} more" if len(missing) > MAX_EXAMPLES else ""
        raise ScenarioError(str(path), [Problem(f"column {spec.on!r}", (
            f"has no row for {spec.key} {shown}{more}, found in {int((~known).sum())} deals; "
            f"every {spec.key} of the opportunities needs a row"))])
    index = pd.Series(range(len(on)), index=on.to_numpy())
    rows = keys.map(index)
    for f, column in values.items():
        looked_up = column.to_numpy()[rows.fillna(0).astype(int).to_numpy()]
        looked_up = pd.Series(looked_up, index=table.index).where(rows.notna())
        if table[f].notna().any():
            filled = int((table[f].isna() & looked_up.notna()).sum())
            if filled:
                notes.append(f"{filled} deals' missing {f} filled from {path.name}")
        table[f] = table[f].where(table[f].notna(), looked_up)
    return table


# ---- the stage history ----------------------------------------------------------------


def _history(raw: pd.DataFrame, spec: HistoryTable, mapping: MappingSpec, path: Path,
             table: pd.DataFrame, calendar: WorkingCalendar, notes: list[str]) -> pd.DataFrame:
    col = {f: _column(raw, c, f"columns.{f}", path)
           for f in ("id", "stage", "entered", "owner") if (c := spec.column(f)) is not None}
    labels = _text(col["stage"])
    stage_of = {label: s.name for s in mapping.stages for label in s.labels}
    closing = labels.isin(list(mapping.opportunities.outcomes))
    unknown = ~labels.isin(list(stage_of)) & ~closing
    if unknown.any():
        found = labels[unknown].fillna("(empty)").value_counts()
        listed = ", ".join(f"{k!r} ({v})" for k, v in found.head(8).items())
        raise ScenarioError(str(path), [Problem(f"column {spec.column('stage')!r}", (
            f"stage labels no stage of the mapping lists: {listed}, in "
            f"{_rows(unknown, raw)}; add each to a stage's labels"))])
    entered = _dates(col["entered"], spec, path, raw, "entered")
    ids = _text(col["id"])
    keep = ~closing & ids.isin(set(table["id"]))
    orphans = int((~closing & ~ids.isin(set(table["id"]))).sum())
    if orphans:
        notes.append(f"{orphans} stage-history rows are for deals not in the opportunity "
                     "table and were left out")
    late = keep & (entered >= pd.Timestamp(mapping.export_date) + pd.Timedelta(days=1))
    if late.any():
        raise ScenarioError(str(path), [Problem(f"column {spec.column('entered')!r}", (
            f"after the export date {mapping.export_date} in {_rows(late, raw, entered)}"))])
    out = pd.DataFrame({
        "id": ids[keep].to_numpy(),
        "stage": labels[keep].map(stage_of).to_numpy(),
        "entered": calendar.days(entered[keep]),
        "owner": (_text(col["owner"])[keep].to_numpy() if "owner" in col
                  else np.full(int(keep.sum()), np.nan, dtype=object)),
    })
    untracked = int((~table["id"].isin(set(out["id"]))).sum())
    if untracked:
        notes.append(f"{untracked} deals have no stage history; they count for arrivals, "
                     "values and the time to close, not for the stages")
    return out.sort_values(["id", "entered"], kind="stable", ignore_index=True)

