"""What differs between scenarios: their resolved documents compared key path by key path.

Paths are written as ``Scenario.with_changes`` takes them: mapping keys and, in lists
of named items (channels, roles, teams, stages), the item's name, e.g.
``stages.contract.effort_hours.mean`` or ``teams.north.reps.ae.headcount``. A part
that only some scenarios have (a team of one structure, a schedule one channel gains)
is one row holding its whole value, not one row per value inside it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from salessim.scenario.schema import Scenario

ABSENT = "(absent)"
"""Shown where a scenario has no value at a path."""


def differences(scenarios: Mapping[str, Scenario]) -> pd.DataFrame:
    """Every key path whose value differs from the first scenario's, in any other one.

    Args:
        scenarios: Name -> scenario; the first is the reference.

    Returns:
        One row per differing path (index ``path``), one column per scenario holding
        its value there (``ABSENT`` where it has none). Empty for a single scenario.
    """
    return document_differences({name: sc.to_document() for name, sc in scenarios.items()})


def document_differences(documents: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """``differences`` for plain scenario documents (or parts of them)."""
    docs = {name: _flatten(doc) for name, doc in documents.items()}
    paths = list(dict.fromkeys(p for doc in docs.values() for p in doc))
    rows: list[str] = []
    for p in paths:
        values = [doc.get(p, ABSENT) for doc in docs.values()]
        if any(_part_of(p, r) for r in rows) or all(v == values[0] for v in values[1:]):
            continue
        # Parts every scenario has are compared value by value inside; a part some
        # scenario lacks is shown whole, once.
        if all(_container(v) for v in values):
            continue
        rows.append(p)
    table = pd.DataFrame({name: [doc.get(p, ABSENT) for p in rows] for name, doc in docs.items()},
                         index=pd.Index(rows, name="path"), dtype=object)
    return table


def _container(value: Any) -> bool:
    return isinstance(value, Mapping) or _named(value)


def _part_of(path: str, ancestor: str) -> bool:
    return path.startswith(ancestor + ".")


def _flatten(node: Any, prefix: str = "") -> dict[str, Any]:
    """Every value of a document by key path, containers included.

    Mappings and named items come before the values inside them; unnamed lists are
    single values.
    """
    out: dict[str, Any] = {prefix: node} if prefix else {}
    if isinstance(node, Mapping):
        for key, value in node.items():
            out.update(_flatten(value, _join(prefix, str(key))))
    elif _named(node):
        for item in node:
            out.update(_flatten(item, _join(prefix, str(item["name"]))))
    return out


def _named(node: Any) -> bool:
    return (isinstance(node, Sequence) and not isinstance(node, str) and bool(node)
            and all(isinstance(v, Mapping) and isinstance(v.get("name"), str) for v in node))


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key
