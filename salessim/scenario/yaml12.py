"""YAML text to plain data under the YAML 1.2 core schema, within stated limits.

Scenario, exercise, answer and sweep files are plain data: mappings, lists, text,
numbers, true/false and null. They are read by the rules of YAML 1.2 (the JSON-like
core schema), not PyYAML's default YAML 1.1 rules, under which ``010`` is 8,
``5:10`` is 310, ``no`` is false and ``1e9`` is text. Here ``010`` is 10, ``5:10`` and
``no`` are text, ``1e9`` is a number, and only ``true``/``false`` are booleans.

Only the standard tags of plain data may be written out (``!!str``, ``!!int``,
``!!float``, ``!!bool``, ``!!null``, ``!!seq``, ``!!map``); every other tag
(``!!python/...``, ``!!binary``, ``!!set``, ``!!timestamp``, custom ones) is refused, so
nothing in a file can build an object or run code. Keys written twice in one mapping
and YAML 1.1 merge keys (``<<``) are refused rather than silently resolved.

Before anything is built, the text's shape is checked against ``Limits`` from its
event stream (no recursion, no expansion): nesting depth, items per list or mapping,
and the number of values once anchors and aliases are expanded, so that a small file
cannot take the memory or the time of a large one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import yaml
from yaml import events as ev
from yaml import nodes

from salessim.scenario.limits import (
    MAX_DOCUMENT_VALUES,
    MAX_ITEMS,
    MAX_NESTING,
    MAX_TEXT_CHARS,
)

MAX_DIGITS = 1000
"""Longest whole number read (digits): far past any bound, and below Python's own limit."""

_TAG = "tag:yaml.org,2002:"
_CORE = {f"{_TAG}{name}" for name in ("str", "int", "float", "bool", "null", "seq", "map")}

# The YAML 1.2 core schema (section 10.3.2 of the specification), tag resolution.
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_INT = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT = re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
                    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")
_DIGITS = list("-+0123456789")


class _Resolver12(yaml.resolver.BaseResolver):
    """Plain scalars resolved by the YAML 1.2 core schema; nothing else is implicit."""


_Resolver12.add_implicit_resolver(f"{_TAG}bool", _BOOL, list("tTfF"))
_Resolver12.add_implicit_resolver(f"{_TAG}int", _INT, _DIGITS)
_Resolver12.add_implicit_resolver(f"{_TAG}float", _FLOAT, [*_DIGITS, "."])
_Resolver12.add_implicit_resolver(f"{_TAG}null", _NULL, ["~", "n", "N", ""])


class _Constructor12(yaml.constructor.BaseConstructor):
    """Builds plain data only: the core schema's scalars, lists and mappings."""


def _scalar(loader: _Constructor12, node: yaml.Node) -> str:
    if not isinstance(node, nodes.ScalarNode):
        raise yaml.constructor.ConstructorError(
            None, None, f"the tag {_short(node.tag)} needs a single value, not a list or "
            "mapping", node.start_mark)
    value: str = loader.construct_scalar(node)
    return value


def _refuse(node: yaml.Node, what: str) -> yaml.constructor.ConstructorError:
    return yaml.constructor.ConstructorError(
        None, None, f"{_short(node.tag)} {_quote(node)} is not {what}", node.start_mark)


def _quote(node: yaml.Node) -> str:
    return repr(node.value) if isinstance(node.value, str) else "this value"


def _short(tag: str) -> str:
    return tag.replace(_TAG, "!!")


def _construct_str(loader: _Constructor12, node: yaml.Node) -> str:
    return _scalar(loader, node)


def _construct_null(loader: _Constructor12, node: yaml.Node) -> None:
    if not _NULL.match(_scalar(loader, node)):
        raise _refuse(node, "null (write ~, null or nothing)")


def _construct_bool(loader: _Constructor12, node: yaml.Node) -> bool:
    value = _scalar(loader, node)
    if not _BOOL.match(value):
        raise _refuse(node, "true or false")
    return value.lower() == "true"


def _construct_int(loader: _Constructor12, node: yaml.Node) -> int:
    value = _scalar(loader, node)
    if not _INT.match(value):
        raise _refuse(node, "a whole number")
    if len(value) > MAX_DIGITS:  # Python itself refuses to read very long numbers
        raise yaml.constructor.ConstructorError(
            None, None, f"a whole number of {len(value):,} digits; no value in a salessim "
            f"file has more than {MAX_DIGITS}", node.start_mark)
    if value.startswith("0o"):
        return int(value[2:], 8)
    if value.startswith("0x"):
        return int(value[2:], 16)
    return int(value, 10)


def _construct_float(loader: _Constructor12, node: yaml.Node) -> float:
    value = _scalar(loader, node)
    if not (_FLOAT.match(value) or _INT.match(value)):
        raise _refuse(node, "a number")
    lowered = value.lower()
    if lowered.endswith(".inf"):
        return -math.inf if lowered.startswith("-") else math.inf
    if lowered == ".nan":
        return math.nan
    if _INT.match(value):
        return float(_construct_int(loader, node))
    return float(value)


def _construct_seq(loader: _Constructor12, node: yaml.Node) -> Iterator[list[Any]]:
    if not isinstance(node, nodes.SequenceNode):
        raise yaml.constructor.ConstructorError(
            None, None, "the tag !!seq needs a list", node.start_mark)
    items: list[Any] = []
    yield items
    items.extend(loader.construct_object(child) for child in node.value)


def _construct_map(loader: _Constructor12, node: yaml.Node) -> Iterator[dict[Any, Any]]:
    """A mapping; keys written twice and merge keys (``<<``) are refused."""
    if not isinstance(node, nodes.MappingNode):
        raise yaml.constructor.ConstructorError(
            None, None, "the tag !!map needs a mapping of keys to values", node.start_mark)
    mapping: dict[Any, Any] = {}
    yield mapping
    seen: dict[Any, yaml.Node] = {}
    for key_node, value_node in node.value:
        if (isinstance(key_node, nodes.ScalarNode) and key_node.value == "<<"
                and not key_node.style):  # plain, not quoted: meant as a YAML 1.1 merge
            raise yaml.constructor.ConstructorError(
                None, None, "the merge key << is not part of YAML 1.2 and is not read; "
                "write the keys out, or build on another file with extends:",
                key_node.start_mark)
        key = loader.construct_object(key_node)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "a key must be a single word or number, not a list or mapping",
                key_node.start_mark) from None
        if key in seen:
            first = seen[key].start_mark.line + 1
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first given on line {first}); each key "
                "may appear only once in a mapping", key_node.start_mark)
        seen[key] = key_node
        mapping[key] = loader.construct_object(value_node)


def _construct_other(loader: _Constructor12, node: yaml.Node) -> Any:
    raise yaml.constructor.ConstructorError(
        None, None, f"the YAML tag {_short(node.tag)} is not allowed; files are plain data "
        "(mappings, lists, text, numbers, true/false and null)", node.start_mark)


_Constructor12.yaml_constructors = {
    f"{_TAG}str": _construct_str, f"{_TAG}null": _construct_null,
    f"{_TAG}bool": _construct_bool, f"{_TAG}int": _construct_int,
    f"{_TAG}float": _construct_float, f"{_TAG}seq": _construct_seq,
    f"{_TAG}map": _construct_map, None: _construct_other,
}

if yaml.__with_libyaml__:  # libyaml parses about ten times faster, without recursion
    from yaml._yaml import CParser as _Parser
else:  # pragma: no cover - PyYAML built without libyaml
    class _Parser(yaml.reader.Reader, yaml.scanner.Scanner,  # type: ignore[no-redef]
                  yaml.parser.Parser, yaml.composer.Composer):
        def __init__(self, stream: str) -> None:
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)
            yaml.composer.Composer.__init__(self)


class _Loader12(_Parser, _Constructor12, _Resolver12):
    def __init__(self, stream: str) -> None:
        _Parser.__init__(self, stream)
        _Constructor12.__init__(self)
        _Resolver12.__init__(self)


class _EventReader(_Parser):
    """Reads the event stream only, to check the text's shape."""


@dataclass
class _Open:
    """A list or mapping being read: its items so far and its values before it began."""

    kind: str
    anchor: str | None
    values_before: int
    line: int
    items: int = 0
    deepest: int = 0


class _Shape:
    """Counts a text's values, nesting and items from its events, against the limits.

    Anchored values are remembered with their size and depth, and each alias counts
    as the value it stands for: the check sees the document as it would be built.
    """

    def __init__(self) -> None:
        self.anchors: dict[str, tuple[int, int]] = {}  # name -> (values, depth below)
        self.stack: list[_Open] = []
        self.values = 0

    def check(self, text: str) -> None:
        """Read the events of ``text``; ValueError (naming the line) past a limit."""
        reader = _EventReader(text)
        while reader.check_event():
            event = reader.get_event()
            if event is not None:
                self._see(event, event.start_mark.line + 1 if event.start_mark else 0)

    def _see(self, event: yaml.Event, line: int) -> None:
        if isinstance(event, ev.AliasEvent):
            if event.anchor not in self.anchors:
                raise ValueError(f"line {line}: the alias *{event.anchor} refers to a value "
                                 "that contains it, or to no anchor; a value cannot contain "
                                 "itself")
            size, below = self.anchors[event.anchor]
            _check_depth(len(self.stack) + below, line)
            self._count(size, below + 1, line)
        elif isinstance(event, ev.ScalarEvent):
            if len(event.value) > MAX_TEXT_CHARS:
                raise ValueError(f"line {line}: a value of {len(event.value):,} characters; "
                                 f"the limit is {MAX_TEXT_CHARS:,}")
            self._count(1, 1, line)
            if event.anchor is not None:
                self.anchors[event.anchor] = (1, 0)
        elif isinstance(event, ev.SequenceStartEvent | ev.MappingStartEvent):
            _check_depth(len(self.stack) + 1, line)
            kind = "list" if isinstance(event, ev.SequenceStartEvent) else "mapping"
            self.stack.append(_Open(kind, event.anchor, self.values, line))
        elif isinstance(event, ev.SequenceEndEvent | ev.MappingEndEvent):
            done = self.stack.pop()
            size = self.values - done.values_before + 1
            self._count(1, done.deepest + 1, line)
            if done.anchor is not None:
                self.anchors[done.anchor] = (size, done.deepest)

    def _count(self, size: int, depth: int, line: int) -> None:
        """Add a value of ``size`` values and ``depth`` levels to the one being read."""
        self.values += size
        if self.values > MAX_DOCUMENT_VALUES:
            raise ValueError(f"line {line}: the file holds more than "
                             f"{MAX_DOCUMENT_VALUES:,} values (anchors and aliases counted "
                             "as often as they are used); scenario files are far smaller")
        if not self.stack:
            return
        top = self.stack[-1]
        top.items += 1
        top.deepest = max(top.deepest, depth)
        if top.items > MAX_ITEMS * (2 if top.kind == "mapping" else 1):  # keys and values
            what = "a list of" if top.kind == "list" else "a mapping with"
            raise ValueError(f"line {top.line}: {what} more than {MAX_ITEMS:,} items; the "
                             "limit is there to keep files readable and runs bounded")


def _check_depth(depth: int, line: int) -> None:
    if depth > MAX_NESTING:
        raise ValueError(f"line {line}: lists and mappings nested more than {MAX_NESTING} "
                         "levels deep; scenario files need far fewer")


def parse_yaml(text: str) -> Any:
    """Parse YAML text into plain data by the YAML 1.2 core schema, within the limits.

    Returns:
        The document (None for an empty one).

    Raises:
        ValueError: With a one-line explanation and the line (and column) of the fault.
    """
    try:
        _Shape().check(text)
        loader = _Loader12(text)
        try:
            return loader.get_single_data()  # builds plain data only
        finally:
            loader.dispose()
    except yaml.constructor.ConstructorError as exc:
        raise ValueError(f"{_mark(exc.problem_mark)}{exc.problem}") from None
    except yaml.reader.ReaderError as exc:
        char = exc.character if isinstance(exc.character, str) else chr(exc.character)
        line = text[:exc.position].count("\n") + 1
        raise ValueError(
            f"line {line}: not YAML text: it contains the control character "
            f"#x{ord(char):04x}; is this a binary file?"
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        if mark is not None and text[mark.index:mark.index + 1] == "\t":
            problem += " (a tab: YAML indents with spaces, never tabs)"
        context = getattr(exc, "context", None)
        context_mark = getattr(exc, "context_mark", None)
        if context and context_mark is not None:
            problem = f"{problem} ({context} that starts on line {context_mark.line + 1})"
        raise ValueError(f"{_mark(mark)}not valid YAML: {problem}") from None


def _mark(mark: Any) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""


class _DumpResolver(yaml.resolver.Resolver):
    """Quotes text that either YAML 1.1 or 1.2 would read as something else."""


for _tag, _pattern, _first in ((f"{_TAG}bool", _BOOL, list("tTfF")),
                               (f"{_TAG}int", _INT, _DIGITS),
                               (f"{_TAG}float", _FLOAT, [*_DIGITS, "."])):
    _DumpResolver.add_implicit_resolver(_tag, _pattern, _first)


class _Dumper(yaml.emitter.Emitter, yaml.serializer.Serializer,
              yaml.representer.SafeRepresenter, _DumpResolver):
    def __init__(self, stream: Any, **kwds: Any) -> None:
        yaml.emitter.Emitter.__init__(self, stream, allow_unicode=kwds.get("allow_unicode"),
                                      width=kwds.get("width"))
        yaml.serializer.Serializer.__init__(self)
        yaml.representer.SafeRepresenter.__init__(
            self, sort_keys=kwds.get("sort_keys", False))
        _DumpResolver.__init__(self)


def dump_yaml(document: Mapping[str, Any]) -> str:
    """Render a document as YAML text, keys in their given order.

    Text that YAML 1.1 or 1.2 would read as a number or true/false is quoted, so the
    file reads back as the same document with any YAML reader.
    """
    text: str = yaml.dump(dict(document), Dumper=_Dumper, sort_keys=False,
                          allow_unicode=True)
    return text


class _FlowDumper(_Dumper):
    def __init__(self, stream: Any, **kwds: Any) -> None:
        super().__init__(stream, **kwds)
        self.default_flow_style = True


def dump_flow(value: Any) -> str:
    """One value as single-line YAML (flow style), quoted like ``dump_yaml``."""
    text: str = yaml.dump(value, Dumper=_FlowDumper, sort_keys=False, allow_unicode=True,
                          width=10**6)
    return text.strip().removesuffix("...").strip()
