"""Reading scenarios: the only place that opens scenario files."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from salessim.scenario.document import merge, parse_yaml
from salessim.scenario.errors import Problem, ScenarioError
from salessim.scenario.schema import Scenario

MAX_EXTENDS_DEPTH = 16


def load_scenario(source: str | Path | Mapping[str, Any]) -> Scenario:
    """Load and validate a scenario.

    Args:
        source: A path to a YAML file, YAML text, or a document (dict). A string
            without a line break that ends in ``.yaml``/``.yml`` or names an existing
            file is read as a path. ``extends: parent.yaml`` is resolved relative to the
            file (or the working directory for text and dicts); the file's keys are
            overlaid on the parent's.

    Returns:
        The frozen, validated scenario.

    Raises:
        ScenarioError: One message naming the file, each bad key path and what is
            allowed. Never any other exception for bad input.
    """
    if isinstance(source, Mapping):
        document = _resolve(dict(source), "<dict>", Path.cwd(), ())
        return Scenario.from_document(document, "<dict>")
    if isinstance(source, Path) or _looks_like_path(source):
        path = Path(source)
        document = _read(path, ())
        return Scenario.from_document(document, str(path))
    parsed = _parse(source, "<text>")
    return Scenario.from_document(_resolve(parsed, "<text>", Path.cwd(), ()), "<text>")


def _looks_like_path(text: str) -> bool:
    if "\n" in text:
        return False
    return text.endswith((".yaml", ".yml")) or Path(text).is_file()


def _read(path: Path, chain: tuple[Path, ...]) -> Any:
    label = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(label, [Problem("", "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(label, [Problem("", f"cannot read the file: {exc}")]) from None
    document = _parse(text, label)
    return _resolve(document, label, path.parent, (*chain, path.resolve()))


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


def _resolve(document: Any, label: str, base: Path, chain: tuple[Path, ...]) -> Any:
    """Overlay ``document`` on the scenario it ``extends``, recursively."""
    if not isinstance(document, Mapping) or "extends" not in document:
        return document
    parent_ref = document["extends"]
    if not isinstance(parent_ref, str) or not parent_ref:
        raise ScenarioError(label, [Problem("extends", "must be the path of a scenario file")])
    parent = (base / parent_ref).resolve()
    if parent in chain:
        cycle = " -> ".join(p.name for p in (*chain, parent))
        raise ScenarioError(label, [Problem("extends", f"extends cycle: {cycle}")])
    if len(chain) >= MAX_EXTENDS_DEPTH:
        raise ScenarioError(label, [Problem("extends", f"more than {MAX_EXTENDS_DEPTH} levels")])
    if not parent.is_file():
        raise ScenarioError(label, [Problem("extends", f"parent file {parent_ref!r} not found "
                                                       f"(looked in {base})")])
    parent_doc = _read(parent, chain)
    if not isinstance(parent_doc, Mapping):
        raise ScenarioError(str(parent), [Problem("", "the scenario must be a mapping")])
    child = {k: v for k, v in document.items() if k != "extends"}
    return merge(parent_doc, child)
