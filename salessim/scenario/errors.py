"""One clear message for a bad scenario: the file, the key path, what is allowed."""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario.

    Attributes:
        path: Key path in the document, e.g. ``stages[3].conversion.A``; empty for
            the document as a whole.
        message: What is wrong and what is allowed.
    """

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ScenarioError(ValueError):
    """A scenario that cannot be loaded, with every problem found.

    Attributes:
        source: The file (or ``<text>``, ``<dict>``) the scenario came from.
        problems: What is wrong, each with its key path.
    """

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        self.source = source
        self.problems = tuple(problems)
        lines = [f"{source}: {p}" for p in self.problems]
        super().__init__("\n".join(lines))


def format_path(loc: Sequence[str | int]) -> str:
    """Render a location tuple as ``a.b[3].c``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def validation_problems(
    err: ValidationError, document: Mapping[str, Any], root: type[BaseModel]
) -> list[Problem]:
    """Turn a pydantic ValidationError into problems with document key paths.

    Args:
        err: The error raised by validating ``document`` against ``root``.
        document: The document that was validated.
        root: The model class validated against.

    Returns:
        One problem per error; cross-section errors expand into their own problems.
    """
    problems: list[Problem] = []
    for e in err.errors():
        loc = _document_loc(document, e["loc"])
        path = format_path(loc)
        cause = (e.get("ctx") or {}).get("error")
        nested = getattr(cause, "problems", None)
        if nested is not None:
            prefix = f"{path}." if path else ""
            problems.extend(Problem(prefix + p if p else path, m) for p, m in nested)
            continue
        problems.append(Problem(path, _message(e, loc, root)))
    return problems


def _document_loc(document: Any, loc: Sequence[str | int]) -> list[str | int]:
    """Drop the union-tag parts pydantic adds to locations (e.g. ``exponential``)."""
    node: Any = document
    out: list[str | int] = []
    for part in loc:
        if isinstance(node, Mapping) and isinstance(part, str) and part not in node:
            if node.get("dist") == part:
                continue
            out.append(part)
            node = None
            continue
        out.append(part)
        try:
            node = node[part]  # type: ignore[index]
        except (KeyError, IndexError, TypeError):
            node = None
    return out


def _message(e: Any, loc: Sequence[str | int], root: type[BaseModel]) -> str:
    kind = e["type"]
    got = e.get("input")
    if kind == "extra_forbidden":
        key = str(loc[-1]) if loc else ""
        allowed = _allowed_keys(root, loc[:-1])
        hint = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
        text = f"unknown key {key!r}"
        if hint:
            text += f"; did you mean {hint[0]!r}?"
        if allowed:
            text += f" Allowed keys: {', '.join(sorted(allowed))}"
        return text
    if kind == "missing":
        return "required key is missing"
    msg = str(e["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        msg = msg.removeprefix(prefix)
    msg = msg.replace("Input should be", "must be")
    if kind in ("value_error", "assertion_error"):
        return msg
    return f"{msg}; got {_short(got)}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _allowed_keys(root: type[BaseModel], loc: Sequence[str | int]) -> list[str]:
    """Field names (by alias) of the model found at ``loc`` under ``root``, if any."""
    node: Any = root
    for part in loc:
        node = _step(node, part)
        if node is None:
            return []
    model = _as_model(node)
    if model is None:
        return []
    return [f.alias or name for name, f in model.model_fields.items()]


def _as_model(tp: Any) -> type[BaseModel] | None:
    tp = _strip(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return tp
    return None


def _strip(tp: Any) -> Any:
    """Remove Annotated and Optional wrappers."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def _step(tp: Any, part: str | int) -> Any:
    """The type one location step below ``tp``."""
    tp = _strip(tp)
    model = _as_model(tp)
    if model is not None:
        for name, f in model.model_fields.items():
            if part in (name, f.alias):
                return f.annotation
        return None
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is tuple and isinstance(part, int) and args:
        return args[0]
    if origin is dict and args:
        return args[1]
    if origin in (typing.Union, types.UnionType) and isinstance(part, str):
        for arg in args:
            m = _as_model(arg)
            if m is not None and "dist" in m.model_fields:
                tag = typing.get_args(m.model_fields["dist"].annotation)
                if part in tag:
                    return m
    return None
