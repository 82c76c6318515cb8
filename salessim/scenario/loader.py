"""Reading scenarios, exercises, answers and sweep files: the only place that opens them.

Every problem names the file the user gave. Where ``extends:`` is involved, a problem
in a parent file is reported under the user's file at ``extends``, naming the parent;
a bad value the merged scenario got from a parent says which file set it.
"""

from __future__ import annotations

import copy
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from salessim.scenario.document import merge, placement_problems, plain_data
from salessim.scenario.errors import Problem, ScenarioError, show, unknown
from salessim.scenario.limits import MAX_FILE_BYTES
from salessim.scenario.schema import Scenario
from salessim.scenario.yaml12 import parse_yaml

if TYPE_CHECKING:
    from salessim.scenario.exercise_spec import AnswerSpec, ExerciseSpec
    from salessim.scenario.mapping_spec import MappingSpec
    from salessim.scenario.sweep_spec import SweepSpec

MAX_EXTENDS_DEPTH = 16
"""Longest chain of ``extends`` accepted."""
_MAX_PATH_CHARS = 4096


@dataclass(frozen=True)
class _Layer:
    """One file of an ``extends`` chain: its label and the keys it gives itself."""

    label: str
    document: Mapping[str, Any]


ScenarioSource = Scenario | str | Path | bytes | Mapping[str, Any]
"""A scenario, a path to a scenario file, YAML text, or a scenario document (dict)."""


def load_scenario(source: ScenarioSource) -> Scenario:
    """Load and validate a scenario.

    Args:
        source: A path to a YAML file, YAML text (``str`` or UTF-8 ``bytes``), or a
            document (dict); a Scenario is returned as it is.
            A string without a line break that ends in
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
    if isinstance(source, Scenario):
        return source
    if isinstance(source, Mapping):
        return _scenario(_plain(source, "<dict>"), "<dict>", Path.cwd())
    if isinstance(source, bytes | bytearray):
        return _scenario(_parse(_decode(bytes(source), "<text>"), "<text>"), "<text>", Path.cwd())
    if isinstance(source, Path) or (isinstance(source, str) and _looks_like_path(source)):
        path = Path(source)
        return _scenario(_read_document(path), str(path), path.parent, (_absolute(path),))
    if isinstance(source, str):
        parsed = _parse(source, "<text>")
        if isinstance(parsed, str) and "\n" not in source.strip():
            raise ScenarioError("<text>", [Problem("", (
                f"no scenario file named {show(source.strip())}, and as YAML text it is a "
                "single word, not a mapping of keys to values"))])
        return _scenario(parsed, "<text>", Path.cwd())
    return Scenario.from_document(source, "<input>")


def _plain(document: Mapping[str, Any], label: str) -> Any:
    try:
        plain, problems = plain_data(document)
    except RecursionError:
        raise ScenarioError(label, [Problem("", "the document refers to itself or is "
                                                "nested too deeply")]) from None
    if problems:
        raise ScenarioError(label, problems)
    return plain


def _scenario(document: Any, label: str, base: Path, chain: tuple[Path, ...] = ()
              ) -> Scenario:
    """Resolve ``extends`` and validate; bad values from a parent name that parent."""
    layers: list[_Layer] = []
    merged = _resolve(document, label, base, chain, layers)
    try:
        return Scenario.from_document(merged, label)
    except ScenarioError as err:
        if len(layers) < 2:
            raise
        raise ScenarioError(err.source, [_with_origin(p, merged, layers)
                                         for p in err.problems]) from None


def _looks_like_path(text: str) -> bool:
    if "\n" in text or not text.strip() or len(text) > _MAX_PATH_CHARS:
        return False
    if text.endswith((".yaml", ".yml")):
        return True
    try:
        return Path(text).exists()
    except (OSError, ValueError):
        return False


def _read_document(path: Path) -> Any:
    """The plain data in a YAML file, read safely; one ScenarioError for any fault."""
    label = str(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ScenarioError(label, [Problem("", "file not found")]) from None
    except (OSError, ValueError) as exc:
        raise ScenarioError(label, [Problem("", f"cannot read the file: {_reason(exc)}")]
                            ) from None
    if stat.S_ISDIR(info.st_mode):
        raise ScenarioError(label, [Problem("", "is a folder, not a file")])
    if not stat.S_ISREG(info.st_mode):
        # Opening a pipe or a device would wait for a writer or read without end.
        raise ScenarioError(label, [Problem("", "is not a regular file (a pipe, socket or "
                                                "device); give the path of a YAML file")])
    if info.st_size > MAX_FILE_BYTES:
        raise ScenarioError(label, [_too_large(info.st_size)])
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except PermissionError:
        raise ScenarioError(label, [Problem("", "cannot read the file: permission denied")]
                            ) from None
    except (OSError, ValueError) as exc:
        raise ScenarioError(label, [Problem("", f"cannot read the file: {_reason(exc)}")]
                            ) from None
    if len(data) > MAX_FILE_BYTES:
        raise ScenarioError(label, [_too_large(len(data))])
    return _parse(_decode(data, label), label)


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc)


def _too_large(size: int) -> Problem:
    return Problem("", f"the file has {size:,} bytes; the limit is {MAX_FILE_BYTES:,} "
                       "(a scenario is a few kilobytes of YAML)")


def read_sweep_spec(path: str | Path) -> SweepSpec:
    """Read a sweep file: a ``grid`` of key path -> values, or named ``changes``.

    Raises:
        ScenarioError: Naming the file, the key path and what is allowed.
    """
    # The other kinds of file are imported when one is read: building their pydantic
    # models takes a few hundredths of a second, which loading a scenario does not need.
    from salessim.scenario.sweep_spec import SweepSpec

    source = Path(path)
    return SweepSpec.from_document(_read_document(source), str(source))


def read_mapping(path: str | Path) -> MappingSpec:
    """Read a calibration mapping: where a CRM export is and what its columns mean.

    The data files it names are read by ``salessim.calibration``, relative to the
    mapping file.

    Raises:
        ScenarioError: Naming the file, the key path and what is allowed.
    """
    from salessim.scenario.mapping_spec import MappingSpec  # see read_sweep_spec

    source = Path(path)
    return MappingSpec.from_document(_read_document(source), str(source))


def read_exercise_spec(path: str | Path) -> ExerciseSpec:
    """Read a training exercise file and the scenarios it refers to.

    ``scenario:`` is a scenario file relative to the exercise, or an inline scenario
    whose ``extends`` is relative to the exercise; an option's ``extends`` builds that
    inline scenario on another file instead (a structure to choose).
    ``salessim.training.Exercise.load`` builds on this to check the exercise against
    the engine.

    Raises:
        ScenarioError: Naming the file, the key path and what is allowed.
    """
    from salessim.scenario.exercise_spec import ExerciseSpec  # see read_sweep_spec

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
        if not _exists(path):
            raise ScenarioError(label, [Problem("", f"scenario file {reference!r} not found: "
                                                    f"there is no file {path} (the path is "
                                                    "relative to the exercise)")])
        return _scenario(_read_document(path), str(path), path.parent, (_absolute(path),))
    document = dict(reference)
    if extends is not None:
        if "extends" not in document:
            raise ScenarioError(label, [Problem("", (
                "an option with extends needs the exercise's scenario to have extends: "
                "too (the option replaces it)"))])
        document["extends"] = extends
    return _scenario(document, label, exercise.parent)


def read_answer(path: str | Path) -> AnswerSpec:
    """Read a trainee's answer file: ``decisions: [{day, lever, value}, ...]``.

    Raises:
        ScenarioError: Naming the file, the key path and what is allowed.
    """
    from salessim.scenario.exercise_spec import AnswerSpec  # see read_sweep_spec

    source = Path(path)
    return AnswerSpec.from_document(_read_document(source), str(source))


def read_document(path: str | Path) -> Any:
    """The plain data of any salessim file, read and parsed with the usual checks.

    Raises:
        ScenarioError: Naming the file, for a file that cannot be read or is not YAML.
    """
    return _read_document(Path(path))


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except (OSError, ValueError):
        return False


def _absolute(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError, ValueError):
        return path.absolute()


_OTHER_ENCODINGS = ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"),
                    (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16"))
"""Byte-order marks of the Unicode encodings other than UTF-8 (UTF-32 first: its mark
begins with UTF-16's)."""


def _decode(data: bytes, label: str) -> str:
    if len(data) > MAX_FILE_BYTES:
        raise ScenarioError(label, [_too_large(len(data))])
    for bom, name in _OTHER_ENCODINGS:
        if data.startswith(bom):
            raise ScenarioError(label, [Problem("", f"this is {name} text; save the file as "
                                                     "UTF-8")])
    if b"\x00" in data:
        raise ScenarioError(label, [Problem("", "this is a binary file, not YAML text")])
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ScenarioError(label, [Problem("", (
            f"line {line}: not UTF-8 text (byte 0x{data[exc.start]:02x} cannot be read); "
            "save the file as UTF-8"))]) from None


def _parse(text: str, label: str) -> Any:
    if len(text) > MAX_FILE_BYTES:
        raise ScenarioError(label, [_too_large(len(text.encode("utf-8", "replace")))])
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


def _resolve(document: Any, label: str, base: Path, chain: tuple[Path, ...],
             layers: list[_Layer]) -> Any:
    """Overlay ``document`` on the scenario it ``extends``, recursively.

    ``replace: [teams, ...]`` lists keys (dotted paths for nested ones, e.g.
    ``deal_value.multipliers``) whose value in this file replaces the parent's outright
    instead of being merged into it. ``layers`` receives each file of the chain, this
    one first.
    """
    if not isinstance(document, Mapping):
        return document
    layers.append(_Layer(label, document))
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
    if not _exists(parent):
        raise ScenarioError(label, [Problem("extends", (
            f"parent scenario {parent_ref!r} not found: there is no file {parent} "
            "(the path is relative to the folder of the file that extends it)"))])
    try:
        parent_doc = _resolve(_read_document(parent), str(parent), parent.parent,
                              (*chain, parent), layers)
        if not isinstance(parent_doc, Mapping):
            raise ScenarioError(str(parent), [Problem("", "the scenario must be a mapping of "
                                                          "keys to values")])
    except ScenarioError as err:
        raise ScenarioError(label, [Problem("extends", f"in the parent {err.source}: {p}")
                                    for p in err.problems]) from None
    placement = placement_problems(parent_doc, child)
    if placement:
        raise ScenarioError(label, placement)
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


_STEP = re.compile(r"\[(\d+)\]|([^.\[\]]+)")


def _with_origin(problem: Problem, merged: Any, layers: list[_Layer]) -> Problem:
    """The problem, saying which parent file set the value when the user's file did not.

    ``layers`` are the files of the ``extends`` chain, the user's first.
    """
    steps: list[str | int] = [int(i) if i else key for i, key in _STEP.findall(problem.path)]
    if not steps or problem.about_references or not _sets(merged, merged, steps):
        return problem  # no single value at the path is at fault, or there is none
    for layer in layers:
        if _sets(layer.document, merged, steps):
            if layer is layers[0]:
                return problem
            return Problem(problem.path, f"{problem.message} (set in {layer.label})")
    return problem


def _sets(document: Any, merged: Any, steps: list[str | int]) -> bool:
    """Whether ``document`` gives the value at ``steps`` of the merged document.

    A list position in the merged document is an item's name in a file that lists
    named items (files overlay named items by name).
    """
    node, full = document, merged
    for step in steps:
        if isinstance(step, int):
            if not (isinstance(full, list) and isinstance(node, list) and step < len(full)):
                return False
            name = full[step].get("name") if isinstance(full[step], Mapping) else None
            if name is None:
                if step >= len(node):
                    return False
                node = node[step]
            else:
                named = [item for item in node
                         if isinstance(item, Mapping) and item.get("name") == name]
                if not named:
                    return False
                node = named[0]
            full = full[step]
        else:
            if not isinstance(node, Mapping) or step not in node:
                return False
            node = node[step]
            full = full.get(step) if isinstance(full, Mapping) else None
    return True
