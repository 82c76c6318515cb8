"""Opening a CRM table's file: CSV, Parquet, Excel or XES, with the file itself checked.

A file that is not what its name says (text named .xlsx, a binary named .csv), in
another encoding, with another delimiter, too large or with too many rows is one message
naming the file and what to change; the table is then read with only the columns the
mapping names, and nothing is guessed.
"""

from __future__ import annotations

import codecs
import re
import warnings
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pandas as pd

from salessim.calibration.cells import quote_rows, text_of
from salessim.scenario.errors import (
    Problem,
    ScenarioError,
    did_you_mean,
    show,
)
from salessim.scenario.mapping_spec import (
    TableSpec,
)

MAX_TABLE_BYTES = 512 * 1024 * 1024
"""The largest file read (for an Excel workbook, its parts unpacked)."""

MAX_ROWS = 5_000_000
"""The most rows a table may have."""

_KINDS = {"csv": "a CSV table", "parquet": "a Parquet file", "excel": "an Excel workbook",
          "xes": "an XES event log"}
_NOTHING = {"csv": "has no header row: the file holds only blank lines",
            "parquet": "has no columns", "excel": "the sheet is empty: its first row must "
                                                  "be the header", "xes": "holds no events"}
_DELIMITERS = (",", ";", "\t", "|")
_SAMPLE_BYTES = 64 * 1024



Pick = Callable[[list[str]], list[int]]
"""The header's column names -> the positions of the columns to keep."""


def _fail(path: Path, message: str, key: str = "") -> NoReturn:
    raise ScenarioError(str(path), [Problem(key, message)])


def table_path(base: Path, spec: TableSpec, source: str, key: str) -> Path:
    """The table's file, relative to the mapping's folder; refused naming ``key`` if absent."""
    path = base / spec.file
    if not path.exists():
        raise ScenarioError(source, [Problem(key, f"there is no file {path} (file names are "
                                                  "relative to the mapping file)")])
    if not path.is_file():
        raise ScenarioError(source, [Problem(key, f"{path} is a folder or a device, not a "
                                                  "file")])
    return path


def wanted_columns(columns: dict[str, str] | dict[Any, str], prefix: str) -> dict[str, str]:
    """Field -> column as key path (``opportunities.columns.owner``) -> column."""
    return {f"{prefix}.{f}": c for f, c in columns.items()}


def read_table(path: Path, spec: TableSpec, key: str, wanted: dict[str, str],
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
            _fail(path, f"has no sheet {spec.sheet!r}; its sheets are {quoted(sheets)}",
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


def quoted(names: Iterable[str], at_most: int = 15) -> str:
    """Column names quoted for a message, at most ``at_most`` and then a count."""
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
            + f"; its {what}s are {quoted(names)}")
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
        empty &= text_of(df.iloc[:, c]).isna().to_numpy()
    if empty.all():
        _fail(path, "the table has a header but no rows")
    if empty.any():
        notes.append(f"{path.name}: {quote_rows(empty, df)} with nothing in the columns the "
                     "mapping uses were skipped")
    return df[~empty]


