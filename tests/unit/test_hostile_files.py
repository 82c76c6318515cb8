"""Hostile and careless files: each is refused with exit status 2 and clean lines.

Every file under ``tests/data/bad/`` whose leading comment lines (or a sidecar
``NAME.expect`` next to it, for files that must start with particular bytes) hold
``# expect:`` lines is a case. The header may also say:

* ``# expect: TEXT``: TEXT is in what salessim prints on stderr (one line each);
* ``# not-expect: TEXT``: TEXT is not (a false or misleading line);
* ``# command: exercise check exercise.yaml``: run this command instead of ``validate``,
  with the case file last; ``.yaml`` words are paths relative to the case's folder;
* ``# known-bug: ONE LINE``: salessim is wrong here today; the case is a strict xfail
  until it is fixed (then the header must go).

Every case must give exit status 2, print nothing on stdout, and print only lines that
start with the path given, with none of pydantic's wording or a traceback. Files in
``accepted/`` are awkward but fine (CRLF, BOM, ``010``): they must validate. Files that
cannot be committed (a FIFO, a file over the size limit) are made in a temporary folder
and validated in a subprocess under a generous timeout, which proves there is no hang.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import salessim as ss
from salessim.cli import main
from salessim.scenario.limits import MAX_FILE_BYTES, MAX_ITEMS, MAX_TEXT_CHARS
from salessim.scenario.yaml12 import parse_yaml

ROOT = Path(__file__).resolve().parents[2]
BAD = ROOT / "tests" / "data" / "bad"
ACCEPTED = BAD / "accepted"
EXIT_BAD_INPUT = 2
FORBIDDEN = ("Traceback", "pydantic", "Input should", "validation error", "[key]")
LEGACY = frozenset({
    "a_list.yaml", "a_scalar.yaml", "conversion_above_one.yaml", "duplicate_key.yaml",
    "empty.yaml", "misspelt_key.yaml", "not_yaml.yaml", "only_comment.yaml",
    "python_tag.yaml", "rework_later.yaml",
})
"""The files test_bad_input.py uses: no expectations of their own, left as they are."""
HELPERS = (
    BAD / "base" / "tiny.yaml",
    BAD / "base" / "exercise.yaml",
    BAD / "exercise_check" / "exercise.yaml",
    BAD / "ex_two_structures" / "product.yaml",
)
"""Valid files that cases build on, so that each case fails for its own reason."""


@dataclass(frozen=True)
class Case:
    """A hostile file and what salessim should say about it."""

    path: Path
    expect: tuple[str, ...]
    reject: tuple[str, ...]
    command: tuple[str, ...]
    known_bug: str | None

    @property
    def args(self) -> list[str]:
        words = [str(self.path.parent / w) if w.endswith((".yaml", ".yml")) else w
                 for w in self.command]
        return [*(words or ["validate"]), str(self.path)]


def header_lines(path: Path) -> list[str]:
    """The leading comment lines of a case: of its sidecar ``.expect`` if it has one."""
    sidecar = path.with_suffix(".expect")
    source = sidecar if sidecar.is_file() and sidecar != path else path
    text = source.read_bytes().decode("utf-8-sig", errors="replace")
    lines = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.rstrip("\r"))
    return lines


def read_case(path: Path) -> Case | None:
    """The case in ``path``, or None for a file without expectations."""
    fields: dict[str, list[str]] = {"expect": [], "not-expect": [], "command": [],
                                    "known-bug": []}
    for line in header_lines(path):
        key, sep, value = line.lstrip("#").strip().partition(":")
        if sep and key in fields:
            fields[key].append(value.strip())
    if not fields["expect"]:
        return None
    command = tuple(fields["command"][0].split()) if fields["command"] else ()
    bug = fields["known-bug"][0] if fields["known-bug"] else None
    return Case(path, tuple(fields["expect"]), tuple(fields["not-expect"]), command, bug)


def case_files() -> Iterator[Path]:
    for path in sorted(BAD.rglob("*")):
        if path.is_file() and path.suffix != ".expect" and ACCEPTED not in path.parents:
            yield path


def cases() -> list[Any]:
    params = []
    for path in case_files():
        case = read_case(path)
        if case is None:
            continue
        marks = ([pytest.mark.xfail(strict=True, reason=case.known_bug)]
                 if case.known_bug else [])
        params.append(pytest.param(case, id=str(path.relative_to(BAD)), marks=marks))
    return params


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run the ``salessim`` command in this process; an escaped exception fails the test."""
    try:
        status = main(args)
    except Exception as exc:  # a traceback for the user
        pytest.fail(f"salessim {' '.join(args)} raised {type(exc).__name__}: {exc}")
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def assert_clean_lines(err: str, path: str) -> None:
    lines = err.splitlines()
    assert lines, "nothing on stderr"
    for line in lines:
        assert line.startswith(f"{path}: "), f"line does not name the file:\n{line}"
    for bad in FORBIDDEN:
        assert bad not in err, f"{bad!r} in stderr:\n{err}"


def messages(err: str, path: str) -> str:
    """What the lines say after the path they start with (so no expectation can match it)."""
    return "\n".join(line.removeprefix(f"{path}: ") for line in err.splitlines())


CASES = cases()


@pytest.mark.parametrize("case", CASES)
def test_hostile_file_is_refused_clearly(case: Case, capsys: pytest.CaptureFixture[str]
                                         ) -> None:
    status, out, err = run(case.args, capsys)
    assert status == EXIT_BAD_INPUT, f"exit status {status}\nstdout: {out}\nstderr: {err}"
    assert out == "", f"stdout of a refused file:\n{out}"
    assert_clean_lines(err, str(case.path))
    said = messages(err, str(case.path))
    for text in case.expect:
        assert text in said, f"expected {text!r} in:\n{err}"
    for text in case.reject:
        assert text not in said, f"did not expect {text!r} in:\n{err}"


def test_the_corpus_is_large_and_every_new_file_has_expectations() -> None:
    assert len(CASES) >= 90
    top = [p.name for p in BAD.iterdir() if p.is_file() and p.suffix != ".expect"]
    without = sorted(name for name in top if read_case(BAD / name) is None)
    assert without == sorted(LEGACY), "a file in tests/data/bad without # expect: lines"
    for path in BAD.glob("*.expect"):
        assert path.with_suffix(".yaml").is_file(), f"{path.name} has no file beside it"


@pytest.mark.parametrize("path", HELPERS, ids=lambda p: str(p.relative_to(BAD)))
def test_the_files_cases_build_on_are_valid(path: Path, capsys: pytest.CaptureFixture[str]
                                            ) -> None:
    status, out, err = run(["validate", str(path)], capsys)
    assert (status, err) == (0, ""), err
    assert out.startswith(f"ok  {path}: ")


def accepted() -> list[Any]:
    params = []
    for path in sorted(ACCEPTED.glob("*.yaml")):
        bug = next((line.partition(":")[2].strip() for line in header_lines(path)
                    if line.startswith("# known-bug:")), None)
        marks = [pytest.mark.xfail(strict=True, reason=bug)] if bug else []
        params.append(pytest.param(path, id=path.name, marks=marks))
    return params


@pytest.mark.parametrize("path", accepted())
def test_awkward_but_valid_file_is_accepted(path: Path, capsys: pytest.CaptureFixture[str]
                                            ) -> None:
    status, out, err = run(["validate", str(path)], capsys)
    assert (status, err) == (0, ""), err
    assert out.startswith(f"ok  {path}: ")


def test_010_is_ten_and_colon_and_yes_are_text() -> None:
    assert parse_yaml("a: 010\nb: 0o10\nc: 0x10\n") == {"a": 10, "b": 8, "c": 16}
    assert parse_yaml("a: 5:10\nb: yes\nc: no\nd: on\ne: NO\n") == {
        "a": "5:10", "b": "yes", "c": "no", "d": "on", "e": "NO"}
    scenario = ss.load_scenario(ACCEPTED / "octal_headcount.yaml")
    assert scenario.teams[0].reps["ae"].headcount == 10


# ---- files that cannot be committed: made here, validated in a subprocess -----------


@dataclass(frozen=True)
class Made:
    """A file made for the limits run and what salessim must say about it."""

    name: str
    expect: tuple[str, ...]


MADE = (
    Made("pipe.yaml", ("is not a regular file",)),
    Made("extends_pipe.yaml", ("extends: in the parent", "pipe.yaml", "is not a regular file")),
    Made("too_big.yaml", (f"the file has {MAX_FILE_BYTES + 1:,} bytes",
                          f"the limit is {MAX_FILE_BYTES:,}")),
    Made("extends_too_big.yaml", ("extends: in the parent", "too_big.yaml",
                                  f"the limit is {MAX_FILE_BYTES:,}")),
    Made("long_value.yaml", (f"a value of {MAX_TEXT_CHARS + 1:,} characters",
                             f"the limit is {MAX_TEXT_CHARS:,}")),
    Made("many_items.yaml", ("line 2", f"a list of more than {MAX_ITEMS:,} items")),
    Made("a_folder.yaml", ("is a folder, not a file",)),
    Made("missing.yaml", ("file not found",)),
)


@pytest.fixture(scope="module")
def limits_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, str]:
    """``salessim validate`` on every MADE file at once, in a subprocess that must end."""
    folder = tmp_path_factory.mktemp("limits")
    os.mkfifo(folder / "pipe.yaml")
    (folder / "extends_pipe.yaml").write_text("extends: pipe.yaml\nname: Piped\n")
    with (folder / "too_big.yaml").open("wb") as fh:
        fh.write(b"# " + b"x" * (MAX_FILE_BYTES - 2) + b"\n")
    (folder / "extends_too_big.yaml").write_text("extends: too_big.yaml\nname: Big parent\n")
    (folder / "long_value.yaml").write_text(f"name: {'x' * (MAX_TEXT_CHARS + 1)}\n")
    (folder / "many_items.yaml").write_text(
        "name: Many\nregions: [" + ", ".join(["r"] * (MAX_ITEMS + 1)) + "]\n")
    (folder / "a_folder.yaml").mkdir()
    files = [str(folder / m.name) for m in MADE]
    done = subprocess.run([sys.executable, "-m", "salessim.cli", "validate", *files],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.stdout == ""
    return folder, done.returncode, done.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs os.mkfifo")
@pytest.mark.parametrize("made", MADE, ids=lambda m: m.name)
def test_made_file_is_refused_at_once(made: Made, limits_run: tuple[Path, int, str]) -> None:
    folder, status, err = limits_run
    assert status == EXIT_BAD_INPUT
    for bad in FORBIDDEN:
        assert bad not in err, f"{bad!r} in stderr:\n{err}"
    prefix = f"{folder / made.name}: "
    mine = [line for line in err.splitlines() if line.startswith(prefix)]
    assert mine, f"no line for {made.name} in:\n{err}"
    assert all(line.startswith(tuple(f"{folder / m.name}: " for m in MADE))
               for line in err.splitlines()), err
    text = "\n".join(mine)
    for expected in made.expect:
        assert expected in text, f"expected {expected!r} in:\n{text}"
