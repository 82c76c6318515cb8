"""Scenario documents before validation: merging, dotted-path changes, plain data.

A document is the plain data a YAML file holds (mappings, lists, scalars; see
``salessim.scenario.yaml12`` for how text is read). Nothing in it is ever evaluated as
code.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from salessim.scenario.errors import Problem, unknown

Document = dict[str, Any]


def _named_list(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(v, Mapping) and isinstance(v.get("name"), str) for v in value)
    )


BEFORE = "before"
"""The key of a new named item that places it before one of the parent's items."""


def placement_problems(parent: Any, child: Any, path: str = "") -> list[Problem]:
    """Problems with ``before`` in ``child``: it must name an item of the parent's list.

    Only a new item is placed; an item the parent has keeps its place.
    """
    if isinstance(parent, Mapping) and isinstance(child, Mapping):
        return [p for key, value in child.items() if key in parent
                for p in placement_problems(parent[key], value,
                                            f"{path}.{key}" if path else str(key))]
    if not (_named_list(child) and isinstance(parent, list)):
        return []
    names = [item.get("name") for item in parent if isinstance(item, Mapping)]
    problems = []
    for i, item in enumerate(child):
        if BEFORE not in item:
            continue
        where = f"{path}[{i}].{BEFORE}"
        if item["name"] in names:
            problems.append(Problem(where, (
                f"{item['name']!r} is already in the parent scenario and keeps its place "
                "there; before only places a new item")))
        elif item[BEFORE] not in names:
            problems.append(Problem(where, unknown(
                "item", item[BEFORE], names, "a new item can go before")))
    return problems


def merge(parent: Any, child: Any) -> Any:
    """Overlay ``child`` on ``parent``.

    Mappings merge key by key; lists of named items (channels, roles, teams, stages)
    merge item by item by ``name``, new names appended in the child's order (or put
    before the parent's item a new one names in ``before``, e.g. an approval stage
    ``before: contract``; see ``placement_problems``); anything
    else in the child replaces the parent's value. A distribution the child writes out
    with its ``dist`` replaces the parent's whole (its keys depend on the family: a
    ``fixed`` effort over a ``triangular`` one must not keep ``low`` and ``high``).
    """
    if isinstance(child, Mapping) and "dist" in child:
        return copy.deepcopy(child)
    if isinstance(parent, Mapping) and isinstance(child, Mapping):
        out = dict(parent)
        for key, value in child.items():
            out[key] = merge(parent[key], value) if key in parent else copy.deepcopy(value)
        return out
    if _named_list(parent) and _named_list(child):
        merged = [dict(item) for item in parent]
        index = {item["name"]: i for i, item in enumerate(merged)}
        for item in child:
            if item["name"] in index:
                merged[index[item["name"]]] = merge(merged[index[item["name"]]], item)
                continue
            new = copy.deepcopy(item)
            place = new.pop(BEFORE, None)
            at = next((k for k, old in enumerate(merged) if old["name"] == place),
                      len(merged))
            merged.insert(at, new)
        return merged
    return copy.deepcopy(child)


def apply_changes(document: Mapping[str, Any], changes: Mapping[str, Any]) -> Document:
    """Return a copy of ``document`` with values set at dotted key paths.

    A path step into a list of named items is the item's name (``stages.contract``) or
    its position (``stages.3``). Setting a whole mapping replaces it.

    Args:
        document: A scenario document.
        changes: Dotted key path -> new value, e.g.
            ``{"stages.contract.effort_hours": {"dist": "fixed", "value": 2}}``.

    Raises:
        KeyError: Carrying a Problem that names the first path step that does not exist.
    """
    doc: Document = copy.deepcopy(dict(document))
    for path, value in changes.items():
        node: Any = doc
        parts = str(path).split(".")
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            done = ".".join(parts[:depth])
            if isinstance(node, list):
                names = [item.get("name") for item in node if isinstance(item, Mapping)]
                if part.isdigit() and int(part) < len(node):
                    key: Any = int(part)
                elif part in names:
                    key = names.index(part)
                else:
                    raise KeyError(_missing(path, done, part, [str(n) for n in names], "name"))
            elif isinstance(node, dict):
                if part not in node and not last:
                    raise KeyError(_missing(path, done, part, list(node)))
                key = part
            else:
                raise KeyError(Problem(path, f"{done} is a single value, with no keys below it"))
            if last:
                node[key] = copy.deepcopy(value)
            else:
                node = node[key]
    return doc


def _missing(path: str, done: str, part: str, options: list[str], what: str = "key") -> Problem:
    where = f"under {done}" if done else "at the top of the scenario"
    return Problem(path, unknown(what, part, options, f"{what}s {where} are", where))


def plain_data(value: Any, path: str = "") -> tuple[Any, list[Problem]]:
    """Python data as a YAML file would hold it, and what cannot be held so.

    numpy numbers and arrays become Python numbers and lists, tuples become lists.
    Sets are refused: they have no order, and the order of a scenario's values (regions,
    stages...) decides its numbers.

    Args:
        value: A document, or a value of one (as given to ``with_changes``).
        path: Key path of ``value``, for problems.

    Returns:
        The plain value, and a problem per set found (at its key path).
    """
    problems: list[Problem] = []

    def walk(node: Any, where: str) -> Any:
        if isinstance(node, Mapping):
            return {k: walk(v, f"{where}.{k}" if where else str(k)) for k, v in node.items()}
        if isinstance(node, list | tuple):
            return [walk(v, f"{where}[{i}]") for i, v in enumerate(node)]
        if isinstance(node, set | frozenset):
            problems.append(Problem(where, "must be a list, not a set: a set has no order, "
                                           "and the order of values decides the results; "
                                           "write [a, b, c]"))
            return node
        if type(node).__module__ == "numpy" and hasattr(node, "tolist"):
            return walk(node.tolist(), where)
        return node

    return walk(value, path), problems
