"""Cells of a CRM table: text, names, and the rows a message quotes.

Shared by the reading of files (``salessim.calibration.reading``) and the checks of the
tables (``salessim.calibration.tables``): every message about bad rows quotes them the
same way, a few examples and the count.
"""

from __future__ import annotations

import hashlib
import re
import reprlib
import unicodedata
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from salessim.scenario.errors import (
    Problem,
    hashable,
    listing,
)

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_\-]{0,63}")
MAX_EXAMPLES = 3
"""Rows quoted in a message about bad rows; the rest are counted."""

_EXAMPLE = reprlib.Repr()
_EXAMPLE.maxstring = 80




def quote_rows(mask: np.ndarray | pd.Series, df: pd.DataFrame | pd.Series,
          values: pd.Series | None = None) -> str:
    """'3 rows (rows 5, 9, 12: 'x', 'y', 'z')': the count and a few examples.

    Row numbers are the index of ``df``: the rows a user sees (``read_table``).
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


def per_value(series: pd.Series, func: Callable[[Any], Any]) -> pd.Series:
    """``func`` of each cell, computed once per distinct value; empty cells stay NaN."""
    cells = series.astype(object)
    try:
        codes, uniques = pd.factorize(cells)
    except TypeError:  # unhashable cells (lists in a Parquet column): as text
        codes, uniques = pd.factorize(cells.map(lambda v: v if hashable(v) else str(v)))
    done = np.empty(len(uniques) + 1, dtype=object)
    done[:-1] = [func(v) for v in uniques]
    done[-1] = np.nan
    return pd.Series(done[codes], index=series.index, dtype=object)


def _cell_text(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a typed 1001.0 is the id 1001
    text = value.strip() if isinstance(value, str) else str(value)
    return text or np.nan


def text_of(series: pd.Series) -> pd.Series:
    """Cells as stripped text, NaN where empty."""
    return per_value(series, _cell_text)


def note_empty(values: pd.Series, column: str, why: str, problems: list[Problem]) -> None:
    """Add a problem naming the rows where ``values`` are empty, saying ``why`` they must not be."""
    missing = values.isna()
    if missing.any():
        problems.append(Problem(f"column {column!r}", f"empty in {quote_rows(missing, values)}; "
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


def names_of(series: pd.Series, renames: dict[str, str], notes: list[str] | None = None,
           what: str = "") -> pd.Series:
    """Attribute values as scenario names: renamed by the mapping, else made into names."""
    text = text_of(series)
    renames = {k.strip(): v for k, v in renames.items()}
    named = per_value(text, lambda v: renames.get(v, name_of(v)))
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


