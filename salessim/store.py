"""The results store: each finished replication is kept, as it completes, in one file.

A store is a SQLite database (any file name; ``.sqlite`` is a good one). A replication
is keyed by the scenario's hash (its fully resolved document and the model version),
the root seed and the replication index, so a run, comparison or sweep given the same
store skips what is already there and resumes where it stopped. Each replication is
written in one transaction in write-ahead-log mode: killing the process loses at most
the replication being written, never one already written.

By default a replication is kept as its KPIs alone, a few kilobytes: its leads, event
log and after-sale tables are re-created exactly, when something asks for them, by
simulating (scenario, seed, replication) again (``salessim.replications``).
``Store(path, keep_raw=True)`` keeps the raw columns too (about 1.5 MB per replication
of the regional baseline, as compressed NumPy arrays read back without pickle: nothing
in a store file can run code), for when re-simulating would cost more than reading.

SQLite rather than DuckDB, by measurement on the baseline scenario (one replication
about 0.2 s, 10,000 leads, 25,000 activities): writing the raw columns as compressed
blobs to SQLite costs about 4 % of the run time on average, while DuckDB cost 12-16 %
(its periodic checkpoints re-compress the table and stalled a write for up to 0.45 s).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from salessim.model import MODEL_VERSION, RawReplication, Timeline
from salessim.scenario.schema import Scenario

STORE_FORMAT = 5
"""Version of the store's tables; a file of another version is refused, not misread."""

# KPI values have no declared type, so SQLite keeps counts as integers and amounts as
# reals: read back, they are what was computed.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS scenarios (
    scenario_hash TEXT PRIMARY KEY, name TEXT NOT NULL, document TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS replications (
    scenario_hash TEXT NOT NULL, seed INTEGER NOT NULL, replication INTEGER NOT NULL,
    end_day REAL NOT NULL, raw BLOB, PRIMARY KEY (scenario_hash, seed, replication));
CREATE TABLE IF NOT EXISTS kpis (
    scenario_hash TEXT NOT NULL, seed INTEGER NOT NULL, replication INTEGER NOT NULL,
    kpi TEXT NOT NULL, value,
    PRIMARY KEY (scenario_hash, seed, replication, kpi));
"""



class StoreError(ValueError):
    """A store file that cannot be used, with one line saying why."""


@dataclass(frozen=True)
class Kept:
    """A replication as stored.

    Attributes:
        kpis: Its KPI values (NaN where a KPI had no value; counts as integers).
        raw: Its raw output, or None if the store kept only the KPIs.
    """

    kpis: dict[str, float]
    raw: RawReplication | None


def scenario_hash(scenario: Scenario, timeline: Timeline = ()) -> str:
    """A stable key for a run's numbers: the scenario, its changes, the model version.

    The resolved scenario, its changes during the run (if any) and the model version
    are hashed together. The same scenario gives the same key in every process and
    Python version; any change of a value (including its name) gives another key.
    """
    content: dict[str, Any] = {"model_version": MODEL_VERSION,
                               "scenario": scenario.to_document()}
    if timeline:
        content["timeline"] = [[day, sc.to_document()] for day, sc in timeline]
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Store:
    """An open results store. Use as a context manager, or call ``close()``.

    Args:
        path: The store file; created if it does not exist (its folder must exist).
        keep_raw: Keep each replication's raw columns, not only its KPIs (see the
            module docs). The choice is recorded in the file: None keeps the file's
            (KPIs only for a new file). Replications already stored stay as they were.

    Raises:
        StoreError: If the file is not a salessim store, was written in another store
            format, or cannot be opened.
    """

    def __init__(self, path: str | Path, *, keep_raw: bool | None = None) -> None:
        self.path = Path(path)
        self.keep_raw = False
        try:
            folder = self.path.parent
            if not folder.is_dir():
                raise FileNotFoundError(2, f"the folder {folder} does not exist")
            fresh = not self.path.exists() or self.path.stat().st_size == 0
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30.0)
        except (OSError, sqlite3.Error) as err:
            raise StoreError(f"{self.path}: cannot open the results store: "
                             f"{getattr(err, 'strerror', None) or err}") from None
        try:
            if not fresh:
                self._check_format()
            self._prepare(fresh, keep_raw)
        except BaseException:
            self._db.close()
            raise

    def _prepare(self, fresh: bool, keep_raw: bool | None) -> None:
        """Make the tables of a new store, and prove now that the store can be written.

        A read-only file or folder is found here, before any replication runs, not
        when the first one is saved.
        """
        db = self._db
        try:
            db.execute("PRAGMA journal_mode=WAL")
            # NORMAL is durable when the process is killed (the write-ahead log is in
            # the operating system's hands at commit); only a power cut may lose the
            # last commits.
            db.execute("PRAGMA synchronous=NORMAL")
            if fresh:
                db.executescript(_SCHEMA)
            with self._transaction():
                db.execute("INSERT OR REPLACE INTO meta VALUES ('format', ?)",
                           (str(STORE_FORMAT),))
                if keep_raw is not None:
                    db.execute("INSERT OR REPLACE INTO meta VALUES ('keep_raw', ?)",
                               (str(int(keep_raw)),))
            row = db.execute("SELECT value FROM meta WHERE key = 'keep_raw'").fetchone()
        except sqlite3.Error as err:
            raise self._unwritable(err) from None
        self.keep_raw = row is not None and row[0] == "1"

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """One write transaction: committed whole, or rolled back on any error or interrupt."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            yield
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    def _unwritable(self, err: sqlite3.Error) -> StoreError:
        return StoreError(f"{self.path}: cannot write to the results store ({err}); check "
                          "the file's and its folder's permissions, or give another file")

    def _check_format(self) -> None:
        """Refuse, unchanged, a file that is not a salessim store of this format."""
        try:
            tables = {r[0] for r in self._db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            row = (self._db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
                   if "meta" in tables else None)
        except sqlite3.OperationalError as err:  # a store it may not touch, not a bad file
            raise self._unwritable(err) from None
        except sqlite3.DatabaseError as err:
            raise StoreError(f"{self.path}: not a salessim results store ({err}); give a "
                             "new file name or a store written by salessim") from None
        if row is None:
            raise StoreError(f"{self.path}: not a salessim results store (no format "
                             "record); give a new file name")
        if row[0] != str(STORE_FORMAT):
            raise StoreError(f"{self.path}: written in results-store format {row[0]}; this "
                             f"salessim reads format {STORE_FORMAT}. Use a new store file, "
                             "or the salessim version that wrote this one")

    # ---- writing ------------------------------------------------------------------

    def save(self, scenario: Scenario, key: str, seed: int, raw: RawReplication,
             kpis: Mapping[str, float]) -> None:
        """Keep one finished replication's KPIs (and raw columns, if kept), in one transaction.

        Args:
            scenario: The scenario that was run.
            key: Its ``scenario_hash``.
            seed: Root seed of the run.
            raw: The replication's raw output.
            kpis: Its KPI values.
        """
        blob = _pack(raw) if self.keep_raw else None
        rows = [(key, seed, raw.replication, name, _finite_or_none(value))
                for name, value in kpis.items()]
        db = self._db
        try:
            with self._transaction():
                db.execute("INSERT OR IGNORE INTO scenarios VALUES (?, ?, ?)",
                           (key, scenario.name, json.dumps(scenario.to_document())))
                db.execute("INSERT OR REPLACE INTO replications VALUES (?, ?, ?, ?, ?)",
                           (key, seed, raw.replication, raw.end_day, blob))
                db.executemany("INSERT OR REPLACE INTO kpis VALUES (?, ?, ?, ?, ?)", rows)
        except sqlite3.Error as err:
            raise StoreError(f"{self.path}: cannot write replication {raw.replication} to "
                             f"the results store ({err})") from None

    # ---- reading ------------------------------------------------------------------

    def done(self, key: str, seed: int) -> set[int]:
        """Replication indices already stored for a scenario hash and seed."""
        rows = self._db.execute(
            "SELECT replication FROM replications WHERE scenario_hash = ? AND seed = ?",
            (key, seed)).fetchall()
        return {int(r[0]) for r in rows}

    def load(self, key: str, seed: int, replications: Iterable[int]) -> dict[int, Kept]:
        """The stored KPIs and raw output (where kept) of the given replications present."""
        out: dict[int, Kept] = {}
        for r in replications:
            row = self._db.execute(
                "SELECT end_day, raw FROM replications "
                "WHERE scenario_hash = ? AND seed = ? AND replication = ?",
                (key, seed, r)).fetchone()
            if row is None:
                continue
            values = self._db.execute(
                "SELECT kpi, value FROM kpis WHERE scenario_hash = ? AND seed = ? "
                "AND replication = ? ORDER BY rowid", (key, seed, r)).fetchall()
            kpis = {str(k): float("nan") if v is None else v for k, v in values}
            end_day, blob = row
            out[r] = Kept(kpis, None if blob is None else _unpack(r, float(end_day), blob))
        return out

    def kpis(self) -> pd.DataFrame:
        """Every stored replication's KPIs: one row per (scenario, seed, replication).

        Columns: ``scenario`` (its name), ``scenario_hash``, ``seed``, ``replication``,
        then one column per KPI (NaN where a scenario has no such KPI).
        """
        long = pd.read_sql_query(
            "SELECT s.name AS scenario, k.scenario_hash, k.seed, k.replication, k.kpi, "
            "k.value FROM kpis k JOIN scenarios s USING (scenario_hash) "
            "ORDER BY k.rowid", self._db)
        keys = ["scenario", "scenario_hash", "seed", "replication"]
        if long.empty:
            return pd.DataFrame(columns=keys)
        order = list(dict.fromkeys(long["kpi"]))
        wide = long.set_index([*keys, "kpi"])["value"].unstack("kpi", sort=False)
        return wide.reindex(columns=order).reset_index().rename_axis(columns=None)

    def scenarios(self) -> pd.DataFrame:
        """The stored scenarios: ``scenario_hash``, ``name`` and ``replications`` kept."""
        return pd.read_sql_query(
            "SELECT s.scenario_hash, s.name, COUNT(r.replication) AS replications "
            "FROM scenarios s LEFT JOIN replications r USING (scenario_hash) "
            "GROUP BY s.scenario_hash, s.name ORDER BY s.rowid", self._db)

    def close(self) -> None:
        """Close the file (everything saved is already committed)."""
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, kind: type[BaseException] | None, err: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


_PARTS = ("leads", "events")
_TABLES = ("after_sale", "management")
"""The optional groups of tables of a replication, each ``{table: {column: values}}``."""


def _pack(raw: RawReplication) -> bytes:
    """A replication's raw columns as one compressed NumPy archive (no pickled objects)."""
    arrays: dict[str, NDArray[Any]] = {
        "rep.team": np.array(raw.rep_team, dtype=str),
        "rep.role": np.array(raw.rep_role, dtype=str), "rep.hired": raw.rep_hired,
        "rep.left": raw.rep_left, "rep.skill": raw.rep_skill, "rep.effort": raw.rep_effort,
        "rep.book": np.concatenate([np.zeros(0), *raw.rep_book]),
        "rep.book_sizes": np.array([len(b) for b in raw.rep_book], dtype=np.int64)}
    for part in _PARTS:
        arrays.update({f"{part}.{name}": v for name, v in getattr(raw, part).items()})
    for head in _TABLES:
        for table, columns in (getattr(raw, head) or {}).items():
            arrays.update({f"{head}.{table}.{name}": v for name, v in columns.items()})
    buffer = io.BytesIO()
    np.savez_compressed(buffer, allow_pickle=False, **arrays)
    return buffer.getvalue()


def _unpack(replication: int, end_day: float, blob: bytes) -> RawReplication:
    with np.load(io.BytesIO(blob), allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    parts: dict[str, dict[str, NDArray[Any]]] = {part: {} for part in _PARTS}
    tables: dict[str, dict[str, dict[str, NDArray[Any]]]] = {head: {} for head in _TABLES}
    for name, values in arrays.items():
        head, _, rest = name.partition(".")
        if head in parts:
            parts[head][rest] = values
        elif head in tables:
            table, _, column = rest.partition(".")
            tables[head].setdefault(table, {})[column] = values
    ends = np.cumsum(arrays["rep.book_sizes"])
    return RawReplication(
        replication=replication, leads=parts["leads"], events=parts["events"],
        rep_team=tuple(str(t) for t in arrays["rep.team"]),
        rep_role=tuple(str(x) for x in arrays["rep.role"]),
        rep_hired=arrays["rep.hired"], rep_left=arrays["rep.left"],
        rep_skill=arrays["rep.skill"], rep_effort=arrays["rep.effort"],
        rep_book=tuple(np.split(arrays["rep.book"], ends[:-1])) if len(ends) else (),
        end_day=end_day, after_sale=tables["after_sale"] or None,
        management=tables["management"] or None)


def _finite_or_none(value: Any) -> int | float | None:
    """A KPI value for SQLite, which keeps counts as integers so they read back as counts."""
    if isinstance(value, int | np.integer):
        return int(value)
    number = float(value)
    return number if np.isfinite(number) else None
