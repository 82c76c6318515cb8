"""What differs between scenarios: their resolved documents compared key path by key path.

Paths are written as ``Scenario.with_changes`` takes them: mapping keys and, in lists
of named items (channels, roles, teams, stages), the item's name, e.g.
``stages.contract.effort_hours.mean`` or ``teams.north.reps.ae.headcount``.
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
    docs = {name: _flatten(sc.to_document()) for name, sc in scenarios.items()}
    paths = list(dict.fromkeys(p for doc in docs.values() for p in doc))
    first, *others = docs.values()
    rows = [p for p in paths
            if any(doc.get(p, ABSENT) != first.get(p, ABSENT) for doc in others)]
    table = pd.DataFrame({name: [doc.get(p, ABSENT) for p in rows] for name, doc in docs.items()},
                         index=pd.Index(rows, name="path"), dtype=object)
    return table


def _flatten(node: Any, prefix: str = "") -> dict[str, Any]:
    """Leaf values of a document by key path; unnamed lists are leaves."""
    if isinstance(node, Mapping):
        out: dict[str, Any] = {}
        for key, value in node.items():
            out.update(_flatten(value, _join(prefix, str(key))))
        return out
    if _named(node):
        out = {}
        for item in node:
            out.update(_flatten(item, _join(prefix, str(item["name"]))))
        return out
    return {prefix: node}


def _named(node: Any) -> bool:
    return (isinstance(node, Sequence) and not isinstance(node, str) and bool(node)
            and all(isinstance(v, Mapping) and isinstance(v.get("name"), str) for v in node))


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key
