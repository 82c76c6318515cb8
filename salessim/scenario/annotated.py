"""Scenario YAML with a comment beside the values that have one.

A calibrated scenario says where each number came from: ``leads_per_day: 12.4  # 95%
11.9 to 12.9, n=6,184, ...``. Comments are keyed by key path, items of named lists by
their name (``channels.web.leads_per_day``), as in ``Scenario.with_changes``. The text
reads back as the same document (``parse_yaml``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from salessim.scenario.yaml12 import dump_flow

INDENT = "  "
FLOW_WIDTH = 96
"""A mapping or list written on one line when it fits in this many characters."""


def dump_commented(document: Mapping[str, Any], comments: Mapping[str, str],
                   header: str = "") -> str:
    """The document as block YAML, with ``# comment`` after each commented key.

    Args:
        document: A plain scenario document (mappings, lists, scalars).
        comments: Key path -> one-line comment.
        header: Lines written first, each as a comment.
    """
    lines = [f"# {_one_line(line)}".rstrip() for line in header.splitlines()]
    _mapping(document, "", 0, comments, lines)
    return "\n".join(lines) + "\n"


def _flat(value: Any) -> str | None:
    """The value on one line, if it is a scalar or a small flow collection."""
    text = dump_flow(value)
    if not isinstance(value, dict | list) or (len(text) <= FLOW_WIDTH and not _nested_named(value)):
        return text
    return None


def _nested_named(value: Any) -> bool:
    return isinstance(value, list) and any(isinstance(v, dict) and "name" in v for v in value)


def _note(comments: Mapping[str, str], path: str) -> str:
    text = _one_line(comments.get(path, ""))
    return f"  # {text}" if text else ""


def _one_line(text: str) -> str:
    """A comment as one line of printable text: a line break would end the comment."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


def _mapping(doc: Mapping[str, Any], prefix: str, depth: int, comments: Mapping[str, str],
             lines: list[str], first_prefix: str | None = None) -> None:
    pad = INDENT * depth
    for i, (key, value) in enumerate(doc.items()):
        lead = first_prefix if (first_prefix is not None and i == 0) else pad
        path = f"{prefix}{key}"
        flat = _flat(value)
        has_inner = any(c.startswith(path + ".") for c in comments)
        if flat is not None and not (has_inner and isinstance(value, dict | list)):
            lines.append(f"{lead}{dump_flow(key)}: {flat}"
                         f"{_note(comments, path)}")
        elif isinstance(value, dict):
            lines.append(f"{lead}{dump_flow(key)}:{_note(comments, path)}")
            _mapping(value, path + ".", depth + 1, comments, lines)
        else:
            lines.append(f"{lead}{dump_flow(key)}:{_note(comments, path)}")
            _sequence(value, path, depth + 1, comments, lines)


def _sequence(items: list[Any], path: str, depth: int, comments: Mapping[str, str],
              lines: list[str]) -> None:
    pad = INDENT * depth
    for k, item in enumerate(items):
        flat = _flat(item)
        if isinstance(item, dict) and item and ("name" in item or flat is None):
            name = item.get("name", k)
            _mapping(item, f"{path}.{name}.", depth + 1, comments, lines,
                     first_prefix=f"{pad}- ")
        else:
            lines.append(f"{pad}- {dump_flow(item)}")
