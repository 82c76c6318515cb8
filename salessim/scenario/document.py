"""Scenario documents before validation: safe YAML parsing, merging, dotted-path changes.

A document is the plain data a YAML file holds (mappings, lists, scalars). Nothing in
it is ever evaluated as code: YAML is read with a safe loader that builds no objects,
and duplicate keys (which YAML would silently overwrite) are refused.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Mapping
from typing import Any

import yaml

from salessim.scenario.errors import Problem

Document = dict[str, Any]


class _StrictLoader(yaml.SafeLoader):
    """A safe loader that refuses duplicate keys."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: dict[Any, yaml.Node] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            mark = key_node.start_mark
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (line {mark.line + 1})", mark
            )
        seen[key] = key_node
    return loader.construct_mapping(node)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,  # type: ignore[arg-type]
)


def parse_yaml(text: str) -> Any:
    """Parse YAML text safely.

    Raises:
        ValueError: With a one-line explanation and the line and column of the fault.
    """
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - strict safe loader
    except yaml.constructor.ConstructorError as exc:
        where = _mark(exc.problem_mark)
        problem = str(exc.problem or exc)
        if "could not determine a constructor" in problem:
            tag = problem.split("tag", 1)[-1].strip(" '")
            problem = f"YAML tag {tag} is not allowed: scenarios are plain data"
        raise ValueError(f"{where}{problem}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ValueError(f"{_mark(mark)}not valid YAML: {problem}") from None


def _mark(mark: Any) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""


def dump_yaml(document: Mapping[str, Any]) -> str:
    """Render a document as YAML text, keys in their given order."""
    return yaml.safe_dump(dict(document), sort_keys=False, allow_unicode=True)


def _named_list(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(v, Mapping) and "name" in v for v in value)
    )


def merge(parent: Any, child: Any) -> Any:
    """Overlay ``child`` on ``parent``.

    Mappings merge key by key; lists of named items (channels, roles, teams, stages)
    merge item by item by ``name``, new names appended in the child's order; anything
    else in the child replaces the parent's value.
    """
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
            else:
                merged.append(copy.deepcopy(item))
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
                    raise KeyError(_missing(path, done, part, [str(n) for n in names]))
            elif isinstance(node, dict):
                if part not in node and not last:
                    raise KeyError(_missing(path, done, part, list(node)))
                key = part
            else:
                raise KeyError(Problem(path, f"{done or 'the scenario'} has no parts to set"))
            if last:
                node[key] = copy.deepcopy(value)
            else:
                node = node[key]
    return doc


def _missing(path: str, done: str, part: str, options: list[str]) -> Problem:
    hint = difflib.get_close_matches(part, options, n=1, cutoff=0.6)
    text = f"no {part!r} under {done or 'the scenario'}"
    if hint:
        text += f"; did you mean {hint[0]!r}?"
    if options:
        text += f" Options: {', '.join(options)}"
    return Problem(path, text)
