"""One clear message for a bad scenario: the file, the key path, what is allowed.

Every problem reads ``FILE: key.path: what is wrong; what is allowed``, one line each,
in words a sales manager can act on. Pydantic's own wording, error codes and web links
never reach the user: each kind of validation error is rephrased here.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import math
import reprlib
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from salessim.scenario.distributions import DIST_NAMES
from salessim.scenario.limits import MAX_AMOUNT, MIN_SCALE

MAX_LISTED_PROBLEMS = 30
"""At most this many problems are spelt out in the message; the rest are counted."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario.

    Attributes:
        path: Key path in the document, e.g. ``stages[3].conversion.A``; empty for
            the document as a whole.
        message: What is wrong and what is allowed (one line).
    """

    path: str
    message: str
    about_references: bool = False
    """Whether it is found by comparing parts of the scenario (a role no team staffs, a
    region no team covers) rather than in the value at ``path`` itself."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", _one_line(str(self.path)))
        object.__setattr__(self, "message", _one_line(str(self.message)))

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ScenarioError(ValueError):
    """A scenario that cannot be loaded, with every problem found.

    ``str(err)`` is the complete message for the user: one line per problem, each
    ``SOURCE: key.path: what is wrong; what is allowed``.

    Attributes:
        source: The file (or ``<text>``, ``<dict>``, ``<with_changes>``) the scenario
            came from.
        problems: What is wrong, each with its key path.
    """

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        self.source = _one_line(str(source))
        self.problems = tuple(problems) or (Problem("", "the scenario is not valid"),)
        shown = self.problems[:MAX_LISTED_PROBLEMS]
        lines = [f"{self.source}: {p}" for p in shown]
        hidden = len(self.problems) - len(shown)
        if hidden:
            lines.append(f"{self.source}: ... and {hidden} more problems")
        super().__init__("\n".join(lines))

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.source, self.problems))


class KeyPathError(ValueError):
    """Raised inside validators to report problems at key paths below the validated part.

    Args:
        problems: ``(relative key path, message)`` pairs; a path such as ``[1].name``
            or ``warmup_days`` is joined to the location of the part being validated.
    """

    about_references = False
    """Whether the problems are found across parts of the scenario (see ``Problem``)."""

    def __init__(self, problems: Iterable[tuple[str, str]]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(f"{p}: {m}" if p else m for p, m in self.problems))


def did_you_mean(word: object, options: Iterable[object]) -> str | None:
    """The closest option to a misspelt ``word``, if one is close enough."""
    names = [str(o) for o in options]
    hint = difflib.get_close_matches(str(word), names, n=1, cutoff=0.6)
    if not hint:
        lowered = {n.lower(): n for n in names}
        match = lowered.get(str(word).lower())
        return match
    return hint[0]


def unknown(
    what: str, word: object, options: Sequence[object], allowed_label: str, where: str = ""
) -> str:
    """``unknown WHAT 'x' WHERE (did you mean 'y'?); ALLOWED_LABEL: a, b, c``."""
    text = f"unknown {what} {show(word)}" + (f" {where}" if where else "")
    hint = did_you_mean(word, options)
    if hint is not None and hint != str(word):
        text += f" (did you mean {hint!r}?)"
    if options:
        text += f"; {allowed_label}: {listing(options)}"
    return text


def listing(options: Iterable[object]) -> str:
    """``a, b, c``."""
    return ", ".join(str(o) for o in options)


def repeats(names: Iterable[str]) -> list[tuple[int, str, int]]:
    """(position, name, position of its first use) of each name used before in a list."""
    first: dict[str, int] = {}
    found = []
    for i, name in enumerate(names):
        if name in first:
            found.append((i, name, first[name]))
        else:
            first[name] = i
    return found


def format_path(loc: Sequence[str | int | None]) -> str:
    """Render a location as ``a.b[3].c`` (ints are list positions, strs are keys).

    An empty key is shown as ``''`` and a null one as ``~``, as they are written.
    """
    out = ""
    for part in loc:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
            continue
        text = "~" if part is None else "''" if part == "" else str(part)
        out += f".{text}" if out else text
    return out


def join_path(prefix: str, path: str) -> str:
    """Join key paths: ``stages`` + ``[1].name`` -> ``stages[1].name``."""
    if not prefix:
        return path
    if not path:
        return prefix
    return prefix + path if path.startswith("[") else f"{prefix}.{path}"


# ---- pydantic errors to problems ------------------------------------------------------


def validation_problems(
    err: ValidationError, document: Mapping[str, Any], root: type[BaseModel]
) -> list[Problem]:
    """Turn a pydantic ValidationError into problems with document key paths.

    Args:
        err: The error raised by validating ``document`` against ``root``.
        document: The document that was validated.
        root: The model class validated against.

    Returns:
        One problem per error, in plain words; problems raised at nested key paths
        (``KeyPathError``) expand into their own problems. A missing key that an
        unknown key's "did you mean" already points at is not reported twice, and
        several missing keys in one place are reported together.
    """
    problems: list[Problem] = []
    suggested: set[tuple[str, str]] = set()
    missing: dict[str, list[tuple[int, str]]] = {}
    errors = err.errors(include_url=False)
    for e in errors:
        if e["type"] == "too_short" and _items_failed(e, errors):
            continue  # the items are reported; the list has them, only not valid ones
        raw = tuple(e["loc"])
        on_key = bool(raw) and raw[-1] == "[key]"
        if on_key:
            raw = raw[:-1]
        where = _walk(root, document, raw)
        if ((on_key or e["type"] == "invalid_key") and e.get("input") is None
                and where.doc_loc[-1:] == ["None"]):
            where.doc_loc[-1] = None  # pydantic writes a null key as the text 'None'
        path = format_path(where.doc_loc)
        cause = (e.get("ctx") or {}).get("error")
        nested = getattr(cause, "problems", None)
        if isinstance(nested, list):
            across = bool(getattr(cause, "about_references", False))
            problems.extend(Problem(join_path(path, p), m, across) for p, m in nested)
            continue
        if e["type"] == "missing" and where.doc_loc:
            parent = format_path(where.doc_loc[:-1])
            missing.setdefault(parent, []).append((len(problems), str(where.doc_loc[-1])))
            problems.append(Problem(path, _missing_message(root, raw)))
            continue
        message, hint = _message(e, raw, where, root, on_key)
        if hint is not None:
            suggested.add((format_path(where.doc_loc[:-1]), hint))
        problems.append(Problem(path, message))
    return _merge_missing(problems, missing, suggested)


def _items_failed(error: Any, errors: Sequence[Any]) -> bool:
    """Whether other errors lie below ``error``'s location (its items failed)."""
    loc = tuple(error["loc"])
    return any(len(e["loc"]) > len(loc) and tuple(e["loc"][:len(loc)]) == loc
               for e in errors)


def _merge_missing(
    problems: list[Problem],
    missing: dict[str, list[tuple[int, str]]],
    suggested: set[tuple[str, str]],
) -> list[Problem]:
    drop: set[int] = set()
    extra: dict[int, Problem] = {}
    for parent, items in missing.items():
        left = [(i, k) for i, k in items if (parent, k) not in suggested]
        drop.update(i for i, k in items if (parent, k) in suggested)
        if len(left) > 1:
            drop.update(i for i, _ in left)
            keys = listing(k for _, k in left)
            extra[left[0][0]] = Problem(parent, f"required keys are missing: {keys}")
    out: list[Problem] = []
    for i, p in enumerate(problems):
        if i in extra:
            out.append(extra[i])
        if i not in drop:
            out.append(p)
    return out


@dataclass
class _Where:
    """Where an error sits: its key path in the document and the schema type there."""

    doc_loc: list[str | int | None]
    tp: Any
    meta: list[Any]
    parent_tp: Any
    tag: str | None


def _walk(root: type[BaseModel], document: Any, raw: Sequence[Any]) -> _Where:
    """Follow a pydantic location through the schema and the document together.

    Pydantic puts the chosen distribution (``exponential``) into the location; that
    part is not a key of the document and is dropped from the key path.
    """
    tp: Any = root
    meta: list[Any] = []
    parent_tp: Any = None
    node: Any = document
    doc_loc: list[str | int | None] = []
    tag: str | None = None
    for part in raw:
        parent_tp = tp
        tag = None
        if tp is not None and _dist_union(tp) and isinstance(part, str):
            chosen = _dist_member(tp, part)
            if chosen is not None:
                tp, meta, tag = chosen, [], part
                continue
        step = _step(tp, part) if tp is not None else None
        tp, meta = step if step is not None else (None, [])
        if isinstance(node, Mapping):
            doc_loc.append(part if isinstance(part, str) else str(part))
            node = node.get(part) if hashable(part) else None
        else:
            doc_loc.append(part)
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                node = None
    return _Where(doc_loc, tp, meta, parent_tp, tag)


def hashable(value: Any) -> bool:
    """Whether a value can be a dict key or set member."""
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _unwrap(tp: Any) -> tuple[Any, list[Any]]:
    """Remove ``Annotated`` (keeping its constraints) and ``Optional`` wrappers."""
    meta: list[Any] = []
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            args = typing.get_args(tp)
            tp = args[0]
            for extra in args[1:]:
                meta.extend(getattr(extra, "metadata", None) or [extra])
        elif origin in (typing.Union, types.UnionType):
            args_ = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args_) != 1:
                return tp, meta
            tp = args_[0]
        else:
            return tp, meta


def _model(tp: Any) -> type[BaseModel] | None:
    tp, _ = _unwrap(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return tp
    return None


def _dist_union(tp: Any) -> bool:
    """Whether ``tp`` is a union of distributions chosen by their ``dist`` key."""
    tp, _ = _unwrap(tp)
    if typing.get_origin(tp) not in (typing.Union, types.UnionType):
        return False
    members = [_model(a) for a in typing.get_args(tp)]
    return all(m is not None and "dist" in m.model_fields for m in members)


def _dist_member(tp: Any, tag: str) -> type[BaseModel] | None:
    tp, _ = _unwrap(tp)
    for arg in typing.get_args(tp):
        m = _model(arg)
        if m is not None and tag in typing.get_args(m.model_fields["dist"].annotation):
            return m
    return None


def _step(tp: Any, part: Any) -> tuple[Any, list[Any]] | None:
    """The type (and its constraints) one location step below ``tp``."""
    model = _model(tp)
    if model is not None:
        for name, f in model.model_fields.items():
            if part in (name, f.alias):
                inner, meta = _unwrap(f.annotation)
                return inner, [*f.metadata, *meta]
        return None
    tp, _ = _unwrap(tp)
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is tuple and args and isinstance(part, int):
        return _unwrap(args[0])
    if origin is dict and len(args) == 2:
        return _unwrap(args[1])
    return None


def _key_type(tp: Any) -> Any:
    tp, _ = _unwrap(tp)
    if typing.get_origin(tp) is dict:
        return typing.get_args(tp)[0]
    return None


def _allowed_keys(tp: Any) -> list[str]:
    """Field names (by alias) of the model ``tp``, if it is one."""
    model = _model(tp)
    if model is None:
        return []
    return [f.alias or name for name, f in model.model_fields.items()]


def _kind_of(tp: Any) -> str:
    """``a triangular distribution`` / ``a stage`` / ``this part``, for messages."""
    model = _model(tp)
    if model is None:
        return "this part"
    if "dist" in model.model_fields:
        tag = typing.get_args(model.model_fields["dist"].annotation)[0]
        return f"{_article(str(tag))} {tag} distribution"
    return f"a {model.__name__.lower()}"


def _missing_message(root: type[BaseModel], raw: Sequence[Any]) -> str:
    where = _walk(root, {}, raw[:-1])
    keys = [k for k in _allowed_keys(where.tp) if _required(where.tp, k)]
    if where.tag is not None:
        return f"missing; {_kind_of(where.tp)} needs {listing(keys)}"
    return "missing; this key is required"


def _required(tp: Any, key: str) -> bool:
    model = _model(tp)
    if model is None:
        return False
    return any(key in (n, f.alias) and f.is_required() for n, f in model.model_fields.items())


_DIST_EXAMPLE = "{dist: exponential, mean: 2}"


def _message(
    e: Any, raw: Sequence[Any], where: _Where, root: type[BaseModel], on_key: bool
) -> tuple[str, str | None]:
    """The plain-words message for one pydantic error, and the key it suggests, if any."""
    kind: str = e["type"]
    got = e.get("input")
    ctx: Mapping[str, Any] = e.get("ctx") or {}

    if kind == "extra_forbidden":
        key = raw[-1] if raw else ""
        allowed = _allowed_keys(where.parent_tp)
        tag = _dist_tag_of(where.parent_tp)
        label = "allowed keys" if tag is None else f"{_article(tag)} {tag} distribution takes"
        return unknown("key", key, allowed, label), did_you_mean(key, allowed)

    if on_key or kind == "invalid_key":
        key_tp, _ = _unwrap(_key_type(where.parent_tp))
        if typing.get_origin(key_tp) is typing.Literal:
            options = list(typing.get_args(key_tp))
            return unknown("key", got, options, "allowed keys"), did_you_mean(got, options)
        if kind in ("string_too_long", "string_too_short"):
            return f"this key {_type_message(kind, got, ctx, where)}", None
        shown = "an empty key (~)" if got is None else show(got)
        return f"keys must be words, not numbers, lists or nothing; got {shown}", None

    if kind == "union_tag_invalid":
        names = DIST_NAMES
        return unknown("distribution", ctx.get("tag", got), names, "allowed dist values"), None
    if kind == "union_tag_not_found":
        return (f"needs a 'dist' key naming the distribution, e.g. {_DIST_EXAMPLE}; "
                f"allowed dist values: {listing(DIST_NAMES)}; got {show(got)}"), None

    if kind in ("value_error", "assertion_error"):
        msg = str(e["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
        if where.tag is not None:
            msg = f"{where.tag} distribution: {msg}"
        return msg, None

    return _type_message(kind, got, ctx, where), None


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def _dist_tag_of(tp: Any) -> str | None:
    model = _model(tp)
    if model is None or "dist" not in model.model_fields:
        return None
    args = typing.get_args(model.model_fields["dist"].annotation)
    return str(args[0]) if args else None


def _type_message(kind: str, got: Any, ctx: Mapping[str, Any], where: _Where) -> str:
    tp, meta = _unwrap(where.tp)
    meta = [*where.meta, *meta]
    got_text = f"got {show(got)}"

    if kind in ("float_type", "float_parsing", "decimal_type", "decimal_parsing"):
        return f"must be a number{_paren(_range(meta, got))}; {got_text}"
    if kind in ("int_type", "int_parsing", "int_from_float", "int_parsing_size"):
        return f"must be a whole number{_paren(_range(meta, got))}; {got_text}"
    if kind == "finite_number":
        return f"must be a finite number{_paren(_range(meta, got))}; {got_text}"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        words = _range(meta, got) or _range([types.SimpleNamespace(**dict(ctx))], got)
        return f"must be {words}; {got_text}"
    if kind in ("bool_type", "bool_parsing"):
        return f"must be true or false; {got_text}"
    if kind in ("string_type", "string_sub_type", "string_unicode"):
        hint = ""
        if isinstance(got, bool):
            hint = " (YAML reads true and false as true/false; put the word in quotes)"
        return f"must be text{hint}; {got_text}"
    if kind == "string_too_short":
        n = ctx.get("min_length", 1)
        return "must not be empty" if n == 1 else f"must have at least {n} characters"
    if kind == "string_too_long":
        return f"must have at most {ctx.get('max_length')} characters; {got_text}"
    if kind == "string_pattern_mismatch":
        return ("must be a name: a letter, then letters, digits, '_' or '-' "
                f"(no spaces); {got_text}")
    if kind in ("tuple_type", "list_type", "iterable_type", "set_type", "frozen_set_type"):
        return f"must be a list, e.g. [a, b]; {got_text}"
    if kind == "too_short":
        n = ctx.get("min_length", 1)
        what = (("entry", "entries") if ctx.get("field_type") == "Dictionary"
                else ("item", "items"))
        return f"must have at least {n} {what[0] if n == 1 else what[1]}; {got_text}"
    if kind == "too_long":
        return f"must have at most {ctx.get('max_length')} items; {got_text}"
    if kind in ("dict_type", "model_type", "model_attributes_type", "mapping_type",
                "dataclass_type"):
        if _dist_union(where.tp):
            return (f"must be a distribution such as {_DIST_EXAMPLE}; allowed dist values: "
                    f"{listing(DIST_NAMES)}; {got_text}")
        keys = _allowed_keys(where.tp)
        if keys:
            return f"must be a mapping with keys such as {listing(keys)}; {got_text}"
        return f"must be a mapping of keys to values; {got_text}"
    if kind == "literal_error":
        options = list(typing.get_args(tp)) if typing.get_origin(tp) is typing.Literal else []
        if options and all(isinstance(o, str) for o in options):
            return unknown("value", got, options, "allowed")
        if options:
            return f"must be {' or '.join(repr(o) for o in options)}; {got_text}"
        return f"must be {ctx.get('expected', 'one of the allowed values')}; {got_text}"
    if kind == "recursion_loop":
        return "is nested too deeply or refers to itself"
    if kind == "none_required":
        return f"must be left empty; {got_text}"
    return f"{_plain(kind)}; {got_text}"


def _plain(kind: str) -> str:
    return "is not valid here (" + kind.replace("_", " ") + ")"


def _range(meta: Sequence[Any], got: Any = None) -> str:
    """The numeric bounds in ``meta`` in words: ``between 0 and 1``, ``0 or more``.

    The caps every amount has (``MAX_AMOUNT``, ``MIN_SCALE``) are technical: they are
    said only when the value given passes them, so that the usual message for a
    negative effort stays "must be more than 0".
    """
    lo = hi = None
    lo_open = hi_open = False
    for m in meta:
        if getattr(m, "ge", None) is not None:
            lo, lo_open = m.ge, False
        if getattr(m, "gt", None) is not None:
            lo, lo_open = m.gt, True
        if getattr(m, "le", None) is not None:
            hi, hi_open = m.le, False
        if getattr(m, "lt", None) is not None:
            hi, hi_open = m.lt, True
    number = got if isinstance(got, int | float) and not isinstance(got, bool) else None
    if hi is not None and hi >= MAX_AMOUNT and not (number is not None and number > hi):
        hi = None
    if lo == MIN_SCALE and not lo_open and not (number is not None and 0 < number < lo):
        lo, lo_open = 0, True
    if lo is not None and hi is not None and not lo_open and not hi_open:
        return f"between {_num(lo)} and {_num(hi)}"
    parts = []
    if lo is not None:
        parts.append(f"more than {_num(lo)}" if lo_open else f"{_num(lo)} or more")
    if hi is not None:
        parts.append(f"less than {_num(hi)}" if hi_open else f"at most {_num(hi)}")
    return " and ".join(parts)


def _paren(words: str) -> str:
    return f" ({words})" if words else ""


def _num(x: Any) -> str:
    if isinstance(x, bool) or not isinstance(x, int | float):
        return str(x)
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    if x and abs(math.log10(abs(x))) >= 9 and math.log10(abs(x)).is_integer():
        return f"{'-' if x < 0 else ''}10^{round(math.log10(abs(x)))}"
    if float(x).is_integer() and abs(x) < 1e15:
        return f"{int(x):,}" if abs(x) >= 10_000 else str(int(x))
    return f"{x:g}"


_REPR = reprlib.Repr()
_REPR.maxlevel = 2
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = 4
_REPR.maxstring = 50
_REPR.maxother = 50
_REPR.maxlong = 40


def show(value: Any) -> str:
    """A value as the user wrote it, kept short, for messages."""
    if value is None:
        return "nothing (the value is empty)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
            return f"{value:.1f}"  # 7.0, not 7: the user wrote a decimal number
        return _num(value) if math.isfinite(value) else str(value)
    if isinstance(value, int):
        text = str(value) if abs(value) < 10**40 else f"a {len(str(abs(value)))}-digit number"
        return text
    if isinstance(value, _dt.date | _dt.datetime):
        return f"the date {value.isoformat()} (put it in quotes if it is text)"
    if isinstance(value, bytes):
        return f"binary data ({len(value)} bytes)"
    return _REPR.repr(value)


def _one_line(text: str) -> str:
    """The text on one line: line breaks become spaces, other unprintables escapes."""
    if text.isprintable():
        return text
    return "".join(
        ch if ch.isprintable() else " " if ch in "\n\r\t" else repr(ch)[1:-1] for ch in text
    )


Model = typing.TypeVar("Model", bound=BaseModel)


def validate_document(model: type[Model], document: Any, source: str, shape: str,
                      context: dict[str, Any] | None = None) -> Model:
    """Validate a file's plain data into ``model``; every problem names ``source``.

    Args:
        model: The pydantic model of the file.
        document: What the file holds.
        source: The file (or ``<text>``, ``<dict>``), named in every message.
        shape: What the file must look like, said when it is not a mapping.
        context: Passed to the model's validators.

    Raises:
        ScenarioError: With one problem per fault, each at its key path.
    """
    if not isinstance(document, Mapping):
        raise ScenarioError(source, [Problem("", shape)])
    try:
        return model.model_validate(dict(document), context=context)
    except ValidationError as err:
        raise ScenarioError(source, validation_problems(err, document, model)) from None
