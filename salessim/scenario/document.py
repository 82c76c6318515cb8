"""Scenario documents before validation: safe YAML parsing, merging, dotted-path changes.

A document is the plain data a YAML file holds (mappings, lists, scalars). Nothing in
it is ever evaluated as code: YAML is read with a safe loader that builds no objects,
and duplicate keys (which YAML would silently overwrite) are refused.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import yaml

from salessim.scenario.errors import Problem, unknown

Document = dict[str, Any]


class _StrictLoader(yaml.SafeLoader):
    """A safe loader that refuses duplicate keys."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    """Build a mapping, refusing keys written twice (merged ``<<`` keys may be overridden)."""
    seen: dict[Any, yaml.Node] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "a key must be a single word or number, not a list or mapping",
                key_node.start_mark,
            ) from None
        if key in seen:
            first = seen[key].start_mark.line + 1
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first given on line {first}); "
                "each key may appear only once in a mapping", key_node.start_mark,
            )
        seen[key] = key_node
    loader.flatten_mapping(node)
    return loader.construct_mapping(node)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


def parse_yaml(text: str) -> Any:
    """Parse YAML text safely.

    Raises:
        ValueError: With a one-line explanation and the line and column of the fault.
    """
    try:
        return yaml.load(text, Loader=_StrictLoader)  # strict safe loader (no objects built)
    except yaml.constructor.ConstructorError as exc:
        where = _mark(exc.problem_mark)
        problem = str(exc.problem or exc)
        if "could not determine a constructor" in problem:
            tag = problem.split("tag", 1)[-1].strip(" '")
            tag = tag.replace("tag:yaml.org,2002:", "!!")
            problem = (f"the YAML tag {tag} is not allowed; scenarios are plain data "
                       "(mappings, lists, text and numbers)")
        elif "found unhashable key" in problem:
            problem = "a key must be a single word or number, not a list or mapping"
        raise ValueError(f"{where}{problem}") from None
    except yaml.reader.ReaderError as exc:
        char = exc.character if isinstance(exc.character, str) else chr(exc.character)
        raise ValueError(
            f"character {exc.position + 1}: not YAML text: it contains the control "
            f"character #x{ord(char):04x}; is this a binary file?"
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        context_mark = getattr(exc, "context_mark", None)
        if context and context_mark is not None:
            problem = f"{problem} ({context} that starts on line {context_mark.line + 1})"
        raise ValueError(f"{_mark(mark)}not valid YAML: {problem}") from None
    except RecursionError:
        raise ValueError("not usable YAML: lists or mappings are nested too deeply") from None


def _mark(mark: Any) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""


def dump_yaml(document: Mapping[str, Any]) -> str:
    """Render a document as YAML text, keys in their given order."""
    return yaml.safe_dump(dict(document), sort_keys=False, allow_unicode=True)


def _named_list(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(v, Mapping) and isinstance(v.get("name"), str) for v in value)
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
