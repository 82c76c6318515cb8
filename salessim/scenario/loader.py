"""Reading scenarios: the only place that opens scenario files."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from salessim.scenario.document import merge, parse_yaml
from salessim.scenario.errors import Problem, ScenarioError, show, unknown
from salessim.scenario.exercise_spec import AnswerSpec, ExerciseSpec
from salessim.scenario.schema import Scenario
from salessim.scenario.sweep_spec import SweepSpec

MAX_EXTENDS_DEPTH = 16
"""Longest chain of ``extends`` accepted."""
MAX_FILE_BYTES = 16 * 1024 * 1024
"""Largest scenario file read; real scenarios are a few kilobytes."""
_MAX_PATH_CHARS = 4096


def load_scenario(source: str | Path | bytes | Mapping[str, Any]) -> Scenario:
    """Load and validate a scenario.

    Args:
        source: A path to a YAML file, YAML text (``str`` or UTF-8 ``bytes``), or a
            document (dict). A string without a line break that ends in
            ``.yaml``/``.yml`` or names an existing file is read as a path.
            ``extends: parent.yaml`` is resolved relative to the file (or the working
            directory for text and dicts); the file's keys are overlaid on the parent's:
            mappings merge key by key, lists of named items (channels, roles, teams,
            stages) merge item by item by name, anything else is replaced.

    Returns:
        The frozen, validated scenario.

    Raises:
        ScenarioError: One message naming the file, each bad key path and what is
            allowed. Never any other exception for bad input.
    """
    if isinstance(source, Mapping):
        document = _resolve(dict(source), "<dict>", Path.cwd(), ())
        return Scenario.from_document(document, "<dict>")
    if isinstance(source, bytes | bytearray):
        text = _decode(bytes(source), "<text>")
        return Scenario.from_document(_resolve(_parse(text, "<text>"), "<text>", Path.cwd(), ()),
                                      "<text>")
    if isinstance(source, Path) or (isinstance(source, str) and _looks_like_path(source)):
        path = Path(source)
        document = _read(path, ())
        return Scenario.from_document(document, str(path))
    if isinstance(source, str):
        parsed = _parse(source, "<text>")
        if isinstance(parsed, str) and "\n" not in source.strip():
            raise ScenarioError("<text>", [Problem("", (
                f"no scenario file named {show(source.strip())}, and as YAML text it is a "
                "single word, not a mapping of keys to values"))])
        return Scenario.from_document(_resolve(parsed, "<text>", Path.cwd(), ()), "<text>")
    return Scenario.from_document(source, "<input>")


def _looks_like_path(text: str) -> bool:
    if "\n" in text or not text.strip() or len(text) > _MAX_PATH_CHARS:
        return False
    if text.endswith((".yaml", ".yml")):
        return True
    try:
        return Path(text).is_file()
    except (OSError, ValueError):
        return False


def _read(path: Path, chain: tuple[Path, ...]) -> Any:
    document = _read_document(path)
    return _resolve(document, str(path), path.parent, (*chain, _absolute(path)))


def _read_document(path: Path) -> Any:
    """The plain data in a YAML file, read safely; one ScenarioError for any fault."""
    label = str(path)
    if _is_dir(path):
        raise ScenarioError(label, [Problem("", "is a folder, not a file")])
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ScenarioError(label, [Problem("", "file not found")]) from None
    except PermissionError:
        raise ScenarioError(label, [Problem("", "cannot read the file: permission denied")]
                            ) from None
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ScenarioError(label, [Problem("", f"cannot read the file: {reason}")]) from None
    if len(data) > MAX_FILE_BYTES:
        raise ScenarioError(label, [Problem("", f"the file is larger than "
                                                f"{MAX_FILE_BYTES // 2**20} MB; a scenario is a "
                                                "few kilobytes of YAML")])
    return _parse(_decode(data, label), label)


def load_sweep_spec(path: str | Path) -> SweepSpec:
    """Read a sweep file: a ``grid`` of key path -> values, or named ``changes``.

    Raises:
        ScenarioError: Naming the file, the key path and what is allowed.
    """
    source = Path(path)
    return SweepSpec.from_document(_read_document(source), str(source))


def load_exercise(path: str | Path) -> ExerciseSpec:
    """Read a training exercise and the scenarios it refers to.

    ``scenario:`` is a scenario file relative to the exercise, or an inline scenario
    whose ``extends`` is relative to the exercise; an option's ``extends`` builds that
    inline scenario on another file instead (a structure to choose).

    Raises:
        ScenarioError: Naming the file, the key path and what is allowed.
    """
    source = Path(path)

    def read(reference: Any, extends: str | None) -> Scenario:
        return _exercise_scenario(reference, extends, source)

    return ExerciseSpec.from_document(_read_document(source), str(source), read)


def _exercise_scenario(reference: Any, extends: str | None, exercise: Path) -> Scenario:
    """The scenario an exercise names, built on ``extends`` when that is given.

    Problems of the exercise's own text have no source of their own (the exercise
    quotes them at its key path); those of a scenario file name that file.
    """
    label = ""
    if isinstance(reference, str):
        if extends is not None:
            raise ScenarioError(label, [Problem("", (
                "an option with extends needs the exercise's scenario written out with "
                "extends: (it is built on the option's file instead)"))])
        path = exercise.parent / reference
        if not _is_file(path):
            raise ScenarioError(label, [Problem("", f"scenario file {reference!r} not found: "
                                                    f"there is no file {path} (the path is "
                                                    "relative to the exercise)")])
        return Scenario.from_document(_read(path, ()), str(path))
    document = dict(reference)
    if extends is not None:
        if "extends" not in document:
            raise ScenarioError(label, [Problem("", (
                "an option with extends needs the exercise's scenario to have extends: "
                "too (the option replaces it)"))])
        document["extends"] = extends
    return Scenario.from_document(_resolve(document, label, exercise.parent, ()), label)


def load_answer(path: str | Path) -> AnswerSpec:
    """Read a trainee's answer file: ``decisions: [{day, lever, value}, ...]``.

    Raises:
        ScenarioError: Naming the file, the key path and what is allowed.
    """
    source = Path(path)
    return AnswerSpec.from_document(_read_document(source), str(source))


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except (OSError, ValueError):
        return False


def _absolute(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError, ValueError):
        return path.absolute()


def _decode(data: bytes, label: str) -> str:
    if b"\x00" in data:
        raise ScenarioError(label, [Problem("", "this is a binary file, not YAML text")])
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ScenarioError(label, [Problem("", (
            f"line {line}: not UTF-8 text (byte 0x{data[exc.start]:02x} cannot be read); "
            "save the scenario as UTF-8"))]) from None


def _parse(text: str, label: str) -> Any:
    try:
        document = parse_yaml(text)
    except ValueError as exc:
        raise ScenarioError(label, [Problem("", str(exc))]) from None
    if document is None:
        raise ScenarioError(label, [Problem("", "the file is empty; a scenario is a YAML "
                                                 "mapping with keys such as schema_version, "
                                                 "name, calendar, channels, stages")])
    return document


_DIRECTIVES = ("extends", "replace")
"""Loader keys that are not part of the scenario itself."""


def _resolve(document: Any, label: str, base: Path, chain: tuple[Path, ...]) -> Any:
    """Overlay ``document`` on the scenario it ``extends``, recursively.

    ``replace: [teams, ...]`` lists keys (dotted paths for nested ones, e.g.
    ``deal_value.multipliers``) whose value in this file replaces the parent's outright
    instead of being merged into it.
    """
    if not isinstance(document, Mapping):
        return document
    if "extends" not in document:
        if "replace" in document:
            raise ScenarioError(label, [Problem("replace", (
                "only works together with extends: it names keys whose value replaces the "
                "parent scenario's instead of merging with it"))])
        return document
    parent_ref = document["extends"]
    if not isinstance(parent_ref, str) or not parent_ref.strip():
        raise ScenarioError(label, [Problem("extends", (
            "must be the path of the scenario file this one builds on, e.g. "
            f"'extends: regional.yaml'; got {show(parent_ref)}"))])
    child = {k: v for k, v in document.items() if k not in _DIRECTIVES}
    replaced = _replace_paths(document.get("replace", []), child, label)
    parent = _absolute(base / parent_ref)
    if parent in chain:
        cycle = " -> ".join(p.name for p in (*chain, parent))
        raise ScenarioError(label, [Problem("extends", f"goes round in a cycle: {cycle}; "
                                                       "a scenario cannot build on itself")])
    if len(chain) >= MAX_EXTENDS_DEPTH:
        raise ScenarioError(label, [Problem("extends", f"more than {MAX_EXTENDS_DEPTH} levels "
                                                       "of extends; is there a cycle?")])
    try:
        found = parent.is_file()
    except (OSError, ValueError):
        found = False
    if not found:
        raise ScenarioError(label, [Problem("extends", (
            f"parent scenario {parent_ref!r} not found: there is no file {parent} "
            "(the path is relative to the folder of the file that extends it)"))])
    parent_doc = _read(parent, chain)
    if not isinstance(parent_doc, Mapping):
        raise ScenarioError(str(parent), [Problem("", "the scenario must be a mapping of keys "
                                                      "to values")])
    return _overwrite(merge(parent_doc, child), child, replaced)


def _replace_paths(value: Any, child: Mapping[str, Any], label: str) -> list[list[str]]:
    """Check ``replace``: a list of key paths that this file gives."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ScenarioError(label, [Problem("replace", (
            "must be a list of keys whose value replaces the parent's, e.g. "
            f"'replace: [teams]'; got {show(value)}"))])
    paths: list[list[str]] = []
    problems: list[Problem] = []
    for i, dotted in enumerate(value):
        parts = dotted.split(".")
        node: Any = child
        for depth, part in enumerate(parts):
            options = _keys_of(node)
            if part not in options:
                done = ".".join(parts[:depth])
                where = f"under {done} " if done else ""
                problems.append(Problem(f"replace[{i}]", unknown(
                    "key", part, options, f"keys {where}in this file are",
                    f"{where}in this file".strip())))
                break
            node = _child(node, part)
        else:
            paths.append(parts)
    if problems:
        raise ScenarioError(label, problems)
    return paths


def _keys_of(node: Any) -> list[str]:
    if isinstance(node, Mapping):
        return [k for k in node if isinstance(k, str)]
    if isinstance(node, list):
        return [str(item["name"]) for item in node
                if isinstance(item, Mapping) and isinstance(item.get("name"), str)]
    return []


def _child(node: Any, part: str) -> Any:
    if isinstance(node, Mapping):
        return node[part]
    return next(item for item in node if isinstance(item, Mapping) and item.get("name") == part)


def _overwrite(merged: Any, child: Any, paths: list[list[str]]) -> Any:
    """Put the child's own value back at each replaced path of the merged document.

    Named list items keep their place in the parent's order.
    """
    for parts in paths:
        node: Any = merged
        source: Any = child
        for part in parts[:-1]:
            node, source = _child(node, part), _child(source, part)
        value = copy.deepcopy(_child(source, parts[-1]))
        if isinstance(node, dict):
            node[parts[-1]] = value
        else:
            at = next(i for i, item in enumerate(node)
                      if isinstance(item, Mapping) and item.get("name") == parts[-1])
            node[at] = value
    return merged
