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

import codecs
import datetime as dt
import hashlib
import re
import reprlib
import unicodedata
import warnings
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pandas as pd

from salessim.scenario.errors import Problem, ScenarioError, did_you_mean, listing, show
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

MAX_TABLE_BYTES = 512 * 1024 * 1024
"""The largest file read (for an Excel workbook, its parts unpacked)."""

MAX_ROWS = 5_000_000
"""The most rows a table may have."""

LEAD_FIELDS: tuple[str, ...] = ("team", *ATTRIBUTE_COLUMNS)
"""Text fields of the canonical table besides id and owner."""

CANONICAL_COLUMNS: tuple[str, ...] = (
    "id", "owner", "created", "closed", "outcome", "amount", *LEAD_FIELDS)
"""Columns of ``CrmData.opportunities``: ``created`` and ``closed`` are working days since
the first deal was created (``closed`` is NaN while open), ``amount`` is currency (NaN
when missing) and the text fields are names (NaN when missing)."""

_KINDS = {"csv": "a CSV table", "parquet": "a Parquet file", "excel": "an Excel workbook",
          "xes": "an XES event log"}
_NOTHING = {"csv": "has no header row: the file holds only blank lines",
            "parquet": "has no columns", "excel": "the sheet is empty: its first row must "
                                                  "be the header", "xes": "holds no events"}
_DELIMITERS = (",", ";", "\t", "|")
_SAMPLE_BYTES = 64 * 1024
_NUMBER = re.compile(r"[+-]?(?:\d+|\d{1,3}(?:,\d{3})+)(?:\.\d*)?(?:[eE][+-]?\d+)?"
                     r"|[+-]?\.\d+(?:[eE][+-]?\d+)?")
_DECIMAL_COMMA = re.compile(r"[+-]?[\d.]*\d,\d{1,2}")
_EXAMPLE = reprlib.Repr()
_EXAMPLE.maxstring = 80
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
    path = _path(base, spec, source, "opportunities.file")
    raw = _read_table(path, spec, "opportunities",
                      _wanted(spec.columns, "opportunities.columns"), notes)
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


# ---- reading files --------------------------------------------------------------------

Pick = Callable[[list[str]], list[int]]
"""The header's column names -> the positions of the columns to keep."""


def _fail(path: Path, message: str, key: str = "") -> NoReturn:
    raise ScenarioError(str(path), [Problem(key, message)])


def _path(base: Path, spec: TableSpec, source: str, key: str) -> Path:
    path = base / spec.file
    if not path.exists():
        raise ScenarioError(source, [Problem(key, f"there is no file {path} (file names are "
                                                  "relative to the mapping file)")])
    if not path.is_file():
        raise ScenarioError(source, [Problem(key, f"{path} is a folder or a device, not a "
                                                  "file")])
    return path


def _wanted(columns: dict[str, str] | dict[Any, str], prefix: str) -> dict[str, str]:
    return {f"{prefix}.{f}": c for f, c in columns.items()}


def _read_table(path: Path, spec: TableSpec, key: str, wanted: dict[str, str],
                notes: list[str], optional: frozenset[str] = frozenset()) -> pd.DataFrame:
    """The table's wanted columns as they are in the file, indexed by the rows a user sees.

    Args:
        path: The file.
        spec: The mapping's part for it.
        key: Its key path in the mapping (``opportunities``, ``lookups[0]``).
        wanted: Key path in the mapping -> the column it names.
        notes: Where the skipped empty rows are told.
        optional: Key paths whose column may be missing (an XES log's standard names).
    """
    _check_file(path, spec)

    def pick(names: list[str]) -> list[int]:
        return _pick(names, wanted, optional, path, spec, key)

    readers = {"csv": _read_csv, "parquet": _read_parquet, "excel": _read_excel,
               "xes": _read_xes}
    try:
        df, first = readers[spec.kind](path, spec, key, pick)
    except ScenarioError:
        raise
    except ImportError as err:
        _fail(path, f"reading {_KINDS[spec.kind]} needs {err.name}: "
                    "pip install 'salessim[calibration]'")
    except MemoryError:
        _fail(path, "is too large to read into memory; export only the columns and the "
                    "period the mapping uses")
    except Exception as err:  # the readers' own errors, in plain words; never a traceback
        _fail(path, _read_problem(err, path, spec))
    df.index = pd.RangeIndex(first, first + len(df))
    return _without_empty_rows(df, path, notes)


def _check_file(path: Path, spec: TableSpec) -> None:
    """Refuse at once a file that is empty, too big or plainly not of its kind."""
    size = path.stat().st_size
    if size == 0:
        _fail(path, "the file is empty (0 bytes); it should hold the table, with a header "
                    "row")
    if size > MAX_TABLE_BYTES:
        _fail(path, f"the file has {_mb(size)}; at most {_mb(MAX_TABLE_BYTES)} are read: "
                    "export only the columns and the period the mapping uses")
    with path.open("rb") as f:
        head = f.read(_SAMPLE_BYTES)
    problem = _signature(head, spec)
    if problem:
        _fail(path, problem)
    if spec.kind == "excel":
        _check_workbook(path)


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:,.0f} MB" if size >= 1024 * 1024 else f"{size:,} bytes"


def _signature(head: bytes, spec: TableSpec) -> str | None:
    """What is wrong with a file's first bytes for its kind, if anything."""
    text = _looks_like_text(head)
    csv_hint = "; it is text: if it is a CSV table, name it .csv" if text else ""
    if spec.kind == "excel" and not head.startswith(b"PK\x03\x04"):
        if head.startswith(b"\xd0\xcf\x11\xe0"):
            return ("is an Excel 97-2003 workbook (.xls) or another old Office file, not "
                    "an .xlsx workbook: open it in Excel and save it as .xlsx")
        return f"is not an Excel workbook (.xlsx){csv_hint}"
    if spec.kind == "parquet" and not head.startswith(b"PAR1"):
        return f"is not a Parquet file{csv_hint}"
    if spec.kind == "xes":
        if re.search(rb"<!(?:DOCTYPE|ENTITY)", head, re.IGNORECASE):
            return ("declares a DOCTYPE or entities, which an XES log does not need and "
                    "which are not read: remove the <!DOCTYPE ...> part")
        if not head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
            return "is not an XES event log: an XES file is XML and starts with '<'"
    if spec.kind == "csv":
        return _csv_signature(head, spec.encoding, text)
    return None


def _csv_signature(head: bytes, encoding: str, text: bool) -> str | None:
    if codecs.lookup(encoding).name.startswith(("utf-16", "utf-32")):
        return None
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return (f"is UTF-16 text (it starts with UTF-16's byte order mark), not {encoding}: "
                "set the table's encoding: utf-16")
    if head.startswith(b"PK\x03\x04"):
        return ("is a zip archive or an Excel workbook, not a CSV table: if it is a "
                "workbook, name it .xlsx")
    if head.startswith(b"PAR1"):
        return "is a Parquet file, not a CSV table: name it .parquet"
    if not text:
        return "is not a text table: it holds binary data where a CSV file has text"
    return None


def _looks_like_text(head: bytes) -> bool:
    """Whether bytes look like text: no NUL byte and hardly any other control bytes."""
    if b"\x00" in head:
        return False
    control = sum(head.count(bytes([c])) for c in range(32) if c not in (9, 10, 12, 13))
    return control <= len(head) // 100


def _check_workbook(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as z:
            unpacked = sum(i.file_size for i in z.infolist())
            parts = set(z.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        parts, unpacked = set(), 0
    if "[Content_Types].xml" not in parts:
        _fail(path, "is not an Excel workbook (.xlsx): it is damaged, incomplete or "
                    "another kind of zip archive")
    if unpacked > MAX_TABLE_BYTES:
        _fail(path, f"unpacks to {_mb(unpacked)}; at most {_mb(MAX_TABLE_BYTES)} are read: "
                    "export only the columns and the period the mapping uses")


def _read_csv(path: Path, spec: TableSpec, key: str, pick: Pick) -> tuple[pd.DataFrame, int]:
    # The header is read as a row like the others: a row with one field too many then
    # fails with its line number instead of shifting its values into the next column.
    df = pd.read_csv(path, header=None, dtype=str, keep_default_na=False,
                     sep=spec.delimiter, encoding=spec.encoding, nrows=MAX_ROWS + 2)
    if df.empty:
        _fail(path, _NOTHING["csv"])
    return _body(df, path, pick), 2


def _read_excel(path: Path, spec: TableSpec, key: str, pick: Pick
                ) -> tuple[pd.DataFrame, int]:
    with pd.ExcelFile(path, engine="openpyxl") as book:
        sheets = [str(s) for s in book.sheet_names]
        if spec.sheet is not None and spec.sheet not in sheets:
            _fail(path, f"has no sheet {spec.sheet!r}; its sheets are {_quoted(sheets)}",
                  f"{key}.sheet")
        sheet = spec.sheet if spec.sheet is not None else 0
        df = book.parse(sheet, header=None, dtype=object, nrows=MAX_ROWS + 2)
    if df.empty:
        _fail(path, _NOTHING["excel"])
    return _body(df, path, pick), 2


def _body(df: pd.DataFrame, path: Path, pick: Pick) -> pd.DataFrame:
    """A table read with its header as the first row: the wanted columns of the rest."""
    if len(df) > MAX_ROWS + 1:
        _too_many_rows(path)
    names = [_header_text(v) for v in df.iloc[0]]
    keep = pick(names)
    body = df.iloc[1:, keep]
    body.columns = [names[i] for i in keep]
    return body


def _read_parquet(path: Path, spec: TableSpec, key: str, pick: Pick
                  ) -> tuple[pd.DataFrame, int]:
    import pyarrow.parquet as pq

    file = pq.ParquetFile(path)
    try:
        names = [str(n) for n in file.schema_arrow.names]
        if file.metadata.num_rows > MAX_ROWS:
            _too_many_rows(path)
        keep = pick(names)
        df = file.read(columns=[names[i] for i in keep]).to_pandas()
    finally:
        file.close()
    df.columns = [names[i] for i in keep]
    return df, 1


def _read_xes(path: Path, spec: TableSpec, key: str, pick: Pick) -> tuple[pd.DataFrame, int]:
    import pm4py  # only for XES, and heavy to import

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = pd.DataFrame(pm4py.read_xes(str(path), return_legacy_log_object=False,
                                         show_progress_bar=False))
    if len(df) > MAX_ROWS:
        _too_many_rows(path)
    names = [str(c) for c in df.columns]
    keep = pick(names)
    body = df.iloc[:, keep]
    body.columns = [names[i] for i in keep]
    return body, 1


def _too_many_rows(path: Path) -> NoReturn:
    _fail(path, f"has more than {MAX_ROWS:,} rows; export only the period the calibration "
                "needs")


def _header_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value).strip().lstrip("\ufeff").strip()


def _quoted(names: Iterable[str], at_most: int = 15) -> str:
    names = list(names)
    shown = ", ".join(show(n) for n in names[:at_most])
    return shown + (f" and {len(names) - at_most} more" if len(names) > at_most else "")


def _pick(names: list[str], wanted: dict[str, str], optional: frozenset[str], path: Path,
          spec: TableSpec, key: str) -> list[int]:
    """The positions of the columns the mapping names; every missing one is a problem."""
    if not any(names):
        _fail(path, _NOTHING[spec.kind])
    if spec.kind == "csv" and len(names) == 1 and any(c.strip() != names[0]
                                                      for c in wanted.values()):
        seps = [d for d in _DELIMITERS if d != spec.delimiter and d in names[0]]
        if seps:
            _fail(path, (f"the table has one column, {show(names[0])}: its fields seem to "
                         f"be separated by {seps[0]!r}, not {spec.delimiter!r}; set the "
                         f"table's delimiter: {seps[0]!r}"), f"{key}.delimiter")
    problems = []
    keep: set[int] = set()
    for key, column in wanted.items():
        hits = [i for i, n in enumerate(names) if n == column.strip()]
        if len(hits) == 1:
            keep.add(hits[0])
        elif hits:
            problems.append(Problem(key, (
                f"names column {column!r}, but {len(hits)} columns have that name (columns "
                f"{', '.join(str(h + 1) for h in hits)}); rename all but one in the file")))
        elif key not in optional:
            problems.append(Problem(key, _not_there(column, names, spec)))
    if problems:
        raise ScenarioError(str(path), problems)
    return sorted(keep)


def _not_there(column: str, names: list[str], spec: TableSpec) -> str:
    """A column the table does not have: its columns, and a hint if one helps."""
    hint = did_you_mean(column, [n for n in names if n])
    what = "attribute" if spec.kind == "xes" else "column"
    text = (f"names {what} {column!r}, which is not in the "
            f"{'log' if spec.kind == 'xes' else 'table'}"
            + (f" (did you mean {hint!r}?)" if hint else "")
            + f"; its {what}s are {_quoted(names)}")
    if spec.kind == "excel" and 2 * sum(not n for n in names) >= len(names):
        text += " (the sheet's first row must be the header)"
    return text


def _read_problem(err: Exception, path: Path, spec: TableSpec) -> str:
    """A reader's error in plain words."""
    if isinstance(err, UnicodeDecodeError):
        return _encoding_problem(path, spec.encoding)
    text = str(err).strip()
    line = text.splitlines()[0] if text else type(err).__name__
    if spec.kind == "xes":
        if type(err).__name__ == "XMLSyntaxError":
            return f"is not an XES event log: its XML is broken ({line})"
        return "is not an XES event log: no <log> of traces and events was found in it"
    m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
    if m:
        return (f"line {m[2]} has {m[3]} fields where the header has {m[1]}: a value holding "
                f"the delimiter {spec.delimiter!r} must be in double quotes")
    m = re.search(r"EOF inside string starting at row (\d+)", text)
    if m:
        return f"a double quote opened on line {int(m[1]) + 1} is never closed"
    if "No columns to parse" in text:
        return _NOTHING["csv"]
    return f"cannot be read as {_KINDS[spec.kind]}: {line}"


def _encoding_problem(path: Path, encoding: str) -> str:
    found = _undecodable(path, encoding)
    where = (f"line {found[0]} has the byte 0x{found[1]:02x}, which {encoding} cannot read"
             if found else f"it has bytes {encoding} cannot read")
    return (f"is not {encoding} text: {where}; set the table's encoding to the file's, e.g. "
            "encoding: cp1252 (Windows, Western Europe), latin-1 or utf-16")


def _undecodable(path: Path, encoding: str) -> tuple[int, int] | None:
    """The line and the value of the first byte that is not text in ``encoding``."""
    decoder = codecs.getincrementaldecoder(encoding)()
    line = 1
    with path.open("rb") as f:
        while chunk := f.read(1024 * 1024):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as err:
                seen = bytes(err.object[:err.start])
                return line + seen.count(b"\n"), err.object[err.start]
            line += chunk.count(b"\n")
    return None


def _without_empty_rows(df: pd.DataFrame, path: Path, notes: list[str]) -> pd.DataFrame:
    empty = np.ones(len(df), dtype=bool)
    for c in range(df.shape[1]):
        empty &= _text(df.iloc[:, c]).isna().to_numpy()
    if empty.all():
        _fail(path, "the table has a header but no rows")
    if empty.any():
        notes.append(f"{path.name}: {_rows(empty, df)} with nothing in the columns the "
                     "mapping uses were skipped")
    return df[~empty]


# ---- cells ------------------------------------------------------------------------------


def _rows(mask: np.ndarray | pd.Series, df: pd.DataFrame | pd.Series,
          values: pd.Series | None = None) -> str:
    """'3 rows (rows 5, 9, 12: 'x', 'y', 'z')': the count and a few examples.

    Row numbers are the index of ``df``: the rows a user sees (``_read_table``).
    """
    where = np.flatnonzero(np.asarray(mask))
    count = len(where)
    rows = [str(df.index[i]) for i in where[:MAX_EXAMPLES]]
    examples = ""
    if values is not None:
        examples = ": " + ", ".join(_EXAMPLE.repr(str(values.iloc[i]))
                                    for i in where[:MAX_EXAMPLES])
    more = ", ..." if count > MAX_EXAMPLES else ""
    s = "s" if count != 1 else ""
    return f"{count} row{s} (row{s} {', '.join(rows)}{more}{examples})"


def _per_value(series: pd.Series, func: Callable[[Any], Any]) -> pd.Series:
    """``func`` of each cell, computed once per distinct value; empty cells stay NaN."""
    cells = series.astype(object)
    try:
        codes, uniques = pd.factorize(cells)
    except TypeError:  # unhashable cells (lists in a Parquet column): as text
        codes, uniques = pd.factorize(cells.map(lambda v: v if _hashable(v) else str(v)))
    done = np.empty(len(uniques) + 1, dtype=object)
    done[:-1] = [func(v) for v in uniques]
    done[-1] = np.nan
    return pd.Series(done[codes], index=series.index, dtype=object)


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _cell_text(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a typed 1001.0 is the id 1001
    text = value.strip() if isinstance(value, str) else str(value)
    return text or np.nan


def _text(series: pd.Series) -> pd.Series:
    """Cells as stripped text, NaN where empty."""
    return _per_value(series, _cell_text)


def _empty(values: pd.Series, column: str, why: str, problems: list[Problem]) -> None:
    missing = values.isna()
    if missing.any():
        problems.append(Problem(f"column {column!r}", f"empty in {_rows(missing, values)}; "
                                                      f"{why}"))


def name_of(label: str) -> str:
    """A CRM label as a scenario name.

    ``A`` stays, ``Trade Show`` becomes ``trade_show``, ``2nd`` becomes ``v_2nd`` and
    ``Zürich`` ``zurich``; a label with no letter or digit to keep (``東京``) becomes
    ``v_`` and a short digest of it, so that different labels stay different.
    """
    if _NAME.fullmatch(label):
        return label
    plain = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode("ascii")
    name = re.sub(r"[^A-Za-z0-9]+", "_", plain).strip("_").lower()
    if not name:
        return "v_" + hashlib.sha256(label.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return name[:64] if name[0].isalpha() else f"v_{name}"[:64]


def _names(series: pd.Series, renames: dict[str, str], notes: list[str] | None = None,
           what: str = "") -> pd.Series:
    """Attribute values as scenario names: renamed by the mapping, else made into names."""
    text = _text(series)
    renames = {k.strip(): v for k, v in renames.items()}
    named = _per_value(text, lambda v: renames.get(v, name_of(v)))
    if notes is not None:
        labels = pd.unique(text.dropna())
        made: dict[str, list[str]] = {}
        for label in labels:
            made.setdefault(renames.get(label, name_of(label)), []).append(label)
        for name, same in made.items():
            if len(same) > 1 and not all(s in renames for s in same):
                notes.append(f"{what}: {listing(repr(s) for s in same[:4])} are all read as "
                             f"{name}; rename them in the mapping's values to keep them apart")
    return named


# ---- the opportunity table ----------------------------------------------------------


def _canonical(raw: pd.DataFrame, spec: OpportunityTable, path: Path, notes: list[str]
               ) -> pd.DataFrame:
    col = {f: raw[c.strip()] for f, c in spec.columns.items()}
    problems: list[Problem] = []
    out = pd.DataFrame(index=raw.index)
    out["id"] = _text(col["id"])
    out["owner"] = _text(col["owner"])
    for f in ("id", "owner"):
        _empty(out[f], spec.columns[f], f"every deal needs its {f}", problems)
    dup = out["id"].duplicated(keep=False) & out["id"].notna()
    if dup.any():
        problems.append(Problem(f"column {spec.columns['id']!r}", (
            f"ids repeat in {_rows(dup, raw, out['id'])}; each deal must appear once")))
    out["outcome"] = _outcomes(col["outcome"], spec, problems)
    for f in ("created", "closed"):
        out[f"{f}_at"] = _dates(col[f], spec, "opportunities", spec.columns[f], problems)
    out["amount"] = _amounts(col.get("amount"), spec, raw.index, problems, notes)
    if problems:
        raise ScenarioError(str(path), problems)
    renames = _renames(spec)
    for f in LEAD_FIELDS:
        out[f] = (_names(col[f], renames.get(f, {}), notes,
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
    labels = _text(series)
    outcomes = {k.strip(): v for k, v in spec.outcomes.items()}
    column = spec.columns["outcome"]
    _empty(labels, column, f"every deal needs its outcome label ({listing(outcomes)})",
           problems)
    unmapped = labels.notna() & ~labels.isin(list(outcomes))
    if unmapped.any():
        found = labels[unmapped].value_counts()
        listed = ", ".join(f"{show(k)} ({v})" for k, v in found.head(8).items())
        problems.append(Problem(f"column {column!r}", (
            f"labels not in the mapping's outcomes: {listed}, in {_rows(unmapped, series)}; "
            "add each to opportunities.outcomes as won, lost or open")))
    return labels.map(outcomes).astype(object)


def _is_date(value: Any) -> bool:
    return isinstance(value, dt.date | np.datetime64) and not pd.isna(value)


def _dates(series: pd.Series, spec: TableSpec, key: str, column: str,
           problems: list[Problem]) -> pd.Series:
    """Typed dates as they are (in UTC when they have a zone); text by the stated format."""
    cells = series.astype(object)
    typed = _per_value(cells, _is_date).eq(True)
    out = pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns]")
    where = f"column {column!r}"
    if typed.any():
        out[typed] = pd.to_datetime(_per_value(cells[typed], _clock_time))
        far = typed & out.isna()
        if far.any():
            problems.append(Problem(where, _far_off(far, cells)))
    text = _text(cells.where(~typed))
    has_text = text.notna()
    if not has_text.any():
        return out
    fmt = spec.date_format
    if fmt is None:
        problems.append(Problem(where, (
            f"dates written as text in {_rows(has_text, series, text)}, and the table has no "
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
        far = bad & _per_value(text.where(bad), lambda v: _strptime_ok(v, fmt)).eq(True)
        if far.any():
            problems.append(Problem(where, _far_off(far, text)))
        if (bad & ~far).any():
            problems.append(Problem(where, (
                f"dates that do not match {fmt!r} (written like {_example(fmt)!r}) in "
                f"{_rows(bad & ~far, series, text)}")))
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
        return pd.to_datetime(_per_value(text, lambda v: _clock_time(_strptime(v, fmt))))
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
            f"{_rows(mask, values, values)}; leave a date empty rather than write a far-off "
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
    text = _text(series)
    values = _per_value(text, _number).astype(float)
    where = f"column {spec.columns['amount']!r}"
    bad = text.notna() & values.isna()
    if bad.any():
        comma = text[bad].map(lambda v: bool(_DECIMAL_COMMA.fullmatch(v))).any()
        hint = "; write a decimal point, not a comma (1234.5)" if comma else ""
        problems.append(Problem(where, (
            f"amounts that are not numbers in {_rows(bad, series, text)}; write them like "
            f"18450.00 or 18,450.00, without a currency sign{hint}")))
    negative = values < 0
    if negative.any():
        problems.append(Problem(where, f"amounts below 0 in {_rows(negative, series, text)}"))
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
        problems.append(Problem(f"column {c!r}", f"empty in {_rows(missing, table)}; every "
                                                 "deal needs the date it was created"))
    closed_deal = table["outcome"] != "open"
    ids = table["id"]
    dates = (ids + ": created " + created.dt.strftime("%Y-%m-%d").fillna("-") + ", closed "
             + closed.dt.strftime("%Y-%m-%d").fillna("-"))
    late = created >= export_ts
    if late.any():
        problems.append(Problem(f"column {c!r}", f"after the export date {export} in "
                                                 f"{_rows(late, table, dates)}"))
    no_close = closed_deal & closed.isna()
    if no_close.any():
        problems.append(Problem(f"column {d!r}", f"empty for won or lost deals in "
                                                 f"{_rows(no_close, table, ids)}"))
    before = closed_deal & (closed < created.dt.floor("D"))
    if before.any():
        problems.append(Problem(f"column {d!r}", f"before the created date in "
                                                 f"{_rows(before, table, dates)}"))
    after = closed_deal & (closed >= export_ts)
    if after.any():
        problems.append(Problem(f"column {d!r}", (
            f"after the export date {export} for won or lost deals in "
            f"{_rows(after, table, dates)}")))
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
    path = _path(base, spec, source, f"{key}.file")
    wanted = {f"{key}.on": spec.on, **_wanted(spec.columns, f"{key}.columns")}
    raw = _read_table(path, spec, key, wanted, notes)
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
        found = _names(raw[column.strip()], renames.get(f, {}), notes,
                       f"{path.name} column {column!r}")
        if f == "team" and (used & found.isna()).any():
            raise ScenarioError(str(path), [Problem(f"column {column!r}", (
                f"empty in {_rows(used & found.isna(), raw, on)}, whose deals would have no "
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
    on = _text(cells) if spec.key == "owner" else _names(cells, renames.get(spec.key, {}))
    problems: list[Problem] = []
    _empty(on, spec.on, f"every row needs its {spec.key}", problems)
    dup = on.duplicated(keep=False) & on.notna()
    if dup.any():
        problems.append(Problem(f"column {spec.on!r}", (
            f"keys repeat in {_rows(dup, on, on)}; a lookup needs one row per {spec.key}")))
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
        f"has no row for {spec.key} {listed}{more}, found in {_rows(~known, table)} of "
        f"{opp_path.name}; every {spec.key} there needs a row here"))


def _team_note(table: pd.DataFrame, notes: list[str]) -> None:
    team = table["team"]
    if team.notna().any() and team.isna().any():
        owners = sorted(set(table.loc[team.isna(), "owner"].astype(str)))
        notes.append(f"{int(team.isna().sum())} deals have no team (owners "
                     f"{_quoted(owners, MAX_EXAMPLES)}); they are put in a team of their own")


# ---- the stage history ----------------------------------------------------------------


def _history(mapping: MappingSpec, where: Where, table: pd.DataFrame, created: pd.Series,
             calendar: WorkingCalendar, notes: list[str]) -> pd.DataFrame:
    spec = mapping.stage_history
    assert spec is not None
    base, source, opp_path = where
    path = _path(base, spec, source, "stage_history.file")
    columns = {f: c.strip() for f in ("id", "stage", "entered", "owner")
               if (c := spec.column(f)) is not None}
    optional = (frozenset({"stage_history.columns.owner"})
                if spec.kind == "xes" and "owner" not in spec.columns else frozenset())
    raw = _read_table(path, spec, "stage_history", _wanted(columns, "stage_history.columns"),
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
    owner = (_text(raw[columns["owner"]])[keep].to_numpy() if columns.get("owner") in raw
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
    ids = _text(raw[columns["id"]])
    labels = _text(raw[columns["stage"]])
    _empty(ids, columns["id"], "every stage change needs its deal's id", problems)
    _empty(labels, columns["stage"], "every stage change needs the stage entered", problems)
    stage_of = {label.strip(): s.name for s in mapping.stages for label in s.labels}
    closing = labels.isin([k.strip() for k in mapping.opportunities.outcomes])
    unknown = labels.notna() & ~labels.isin(list(stage_of)) & ~closing
    if unknown.any():
        found = labels[unknown].value_counts()
        listed = ", ".join(f"{show(k)} ({v})" for k, v in found.head(8).items())
        problems.append(Problem(f"column {columns['stage']!r}", (
            f"stage labels no stage of the mapping lists: {listed}, in "
            f"{_rows(unknown, raw)}; add each to a stage's labels")))
    entered = _dates(raw[columns["entered"]], spec, "stage_history", columns["entered"],
                     problems)
    _empty(_text(raw[columns["entered"]]), columns["entered"],
           "every stage change needs the time it was made", problems)
    if problems:
        raise ScenarioError(str(path), problems)
    return ids, labels.map(stage_of), entered, closing


def _history_times(raw: pd.DataFrame, entered: pd.Series, ids: pd.Series, keep: pd.Series,
                   export: dt.date, created: pd.Series, column: str, path: Path,
                   opp_path: Path) -> None:
    """Stage changes after the export date, or before their deal was created."""
    text = _text(raw[column])
    problems = []
    late = keep & (entered >= pd.Timestamp(export) + pd.Timedelta(days=1))
    if late.any():
        problems.append(Problem(f"column {column!r}", (
            f"after the export date {export} in {_rows(late, raw, text)}")))
    early = keep & (entered < ids.map(created))
    if early.any():
        problems.append(Problem(f"column {column!r}", (
            f"before their deal was created (in {opp_path.name}) in "
            f"{_rows(early, raw, ids.str.cat(text, sep=' at '))}")))
    if problems:
        raise ScenarioError(str(path), problems)
