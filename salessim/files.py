"""Writing files for the fronts: atomic, so an interrupted write never leaves half a file.

A single file is written to a temporary file beside it and renamed over it. A folder of
results (``salessim run --out DIR``) is written whole into a fresh temporary folder
beside it, made before the run starts (so an unwritable place is found at once), and
renamed into place at the end: the folder never holds parts of two runs, and a run
that is stopped leaves the previous results as they were.

Folders are never created on the way to a file: a path into a folder that does not
exist is an error naming it, not a silent ``mkdir -p``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_umask()
"""Mode of written files: what ``open`` would give (``mkstemp`` makes them 0600)."""
_DIR_MODE = 0o777 & ~_umask()
"""Mode of written folders: what ``mkdir`` would give (``mkdtemp`` makes them 0700)."""
_TEMP = re.compile(r"^\.(?P<name>.+)\.salessim-(?P<pid>\d+)-[^.]+\.tmp$")
"""A temporary folder of ``output_folder``: ``.NAME.salessim-PID-RANDOM.tmp``."""


def write_atomic(path: str | Path, write: Callable[[IO[str]], object]) -> Path:
    """Write a text file via a temporary file in the same folder, then rename it.

    Args:
        path: Final file name; its folder must exist.
        write: Called with the open temporary file to fill it.

    Returns:
        The path written.
    """
    def fill(fd: int) -> None:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())

    return _replace(path, fill)


def write_binary_atomic(path: str | Path, write: Callable[[IO[bytes]], object]) -> Path:
    """Write a binary file (Parquet, PNG...) like ``write_atomic``.

    Args:
        path: Final file name; its folder must exist.
        write: Called with the open temporary file (binary) to fill it.

    Returns:
        The path written.
    """
    def fill(fd: int) -> None:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())

    return _replace(path, fill)


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically."""
    return write_atomic(path, lambda fh: fh.write(text))


def check_writable(path: str | Path) -> None:
    """Fail now, not after a long run, if the file ``path`` cannot be written.

    Makes a temporary file in its folder and removes it again.

    Raises:
        OSError: Naming the path and why it cannot be written (its folder does not
            exist, is a file, is read-only; the path is a folder).
    """
    target = Path(path)
    try:
        if target.is_dir():
            raise IsADirectoryError(21, "it is a folder, not a file")
        _folder_of(target)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        os.close(fd)
        Path(tmp).unlink()
    except OSError as err:
        raise OSError(f"cannot write {path}: {err.strerror or err}") from err


def _folder_of(target: Path) -> Path:
    """The folder ``target`` goes into, which must exist."""
    folder = target.parent
    if not folder.exists():
        raise FileNotFoundError(2, f"the folder {folder} does not exist")
    if not folder.is_dir():
        raise NotADirectoryError(20, f"{folder} is a file, not a folder")
    return folder


def _replace(path: str | Path, fill: Callable[[int], None]) -> Path:
    """Create a temporary file next to ``path``, let ``fill`` write it, rename it over.

    On any failure, including an interrupt, the temporary file is removed and nothing
    appears under the final name.
    """
    target = Path(path)
    try:
        _folder_of(target)
    except OSError as err:
        raise OSError(f"cannot write {path}: {err.strerror or err}") from err
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(fd, _FILE_MODE)
        fill(fd)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


@contextlib.contextmanager
def output_folder(path: str | Path, *, replace: bool = False,
                  marks: tuple[str, ...] = ()) -> Iterator[Path]:
    """A folder of results, written whole: the block fills a fresh temporary folder.

    Enter it before the long work: the checks and the temporary folder are made at
    once. When the block ends normally the temporary folder is renamed to ``path``
    (replacing what was there, if ``replace``); when it ends with an error or an
    interrupt, it is removed and ``path`` is left as it was. Temporary folders left by
    processes that were killed are cleared on the way.

    Args:
        path: The folder to write; its parent must exist.
        replace: Replace a folder that already holds files (else that is an error).
        marks: File names of which one must be in a folder for it to be replaced:
            files that only an earlier run of the same kind writes there, so that
            ``replace`` never deletes a folder of other things.

    Yields:
        The temporary folder to write the files into.

    Raises:
        OSError: Naming the folder, if it is a file, holds files and ``replace`` is
            not given, or its parent does not exist or cannot be written.
    """
    target = Path(path)
    try:
        parent = _folder_of(target)
        _refuse_unless_replacing(target, replace, marks)
        _clear_stale(parent, target.name)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.salessim-{os.getpid()}-",
                                    suffix=".tmp", dir=parent))
        os.chmod(tmp, _DIR_MODE)
    except OSError as err:
        raise OSError(f"cannot write the folder {path}: {err.strerror or err}") from err
    try:
        yield tmp
        _move_into_place(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _refuse_unless_replacing(target: Path, replace: bool, marks: tuple[str, ...]) -> None:
    if not target.exists():
        return
    if not target.is_dir():
        raise NotADirectoryError(20, "it is a file, not a folder")
    held = sorted(p.name for p in target.iterdir())
    if not held:
        return
    shown = ", ".join(held[:5]) + (", ..." if len(held) > 5 else "")
    what = f"{len(held)} file{'s' if len(held) > 1 else ''} ({shown})"
    if not replace:
        raise FileExistsError(17, f"it already holds {what}; give a new folder, or replace "
                                  "what is there (--replace)")
    if not any(name in held for name in marks):
        raise FileExistsError(17, f"it holds {what} that salessim did not write there (no "
                                  f"{' or '.join(marks) or 'results'}); only a folder of "
                                  "earlier results is replaced")


def _move_into_place(tmp: Path, target: Path) -> None:
    """Rename ``tmp`` to ``target``; an existing ``target`` is moved aside, then removed."""
    if target.exists() and any(target.iterdir()):
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.salessim-{os.getpid()}-",
                                    suffix=".tmp", dir=target.parent))
        os.rmdir(old)
        os.rename(target, old)
        os.rename(tmp, target)
        shutil.rmtree(old, ignore_errors=True)
    elif target.exists():
        os.rmdir(target)
        os.rename(tmp, target)
    else:
        os.rename(tmp, target)


def _clear_stale(parent: Path, name: str) -> None:
    """Remove temporary folders for ``name`` whose writing process no longer runs."""
    for entry in parent.iterdir():
        found = _TEMP.match(entry.name)
        if found and found["name"] == name and not _alive(int(found["pid"])):
            shutil.rmtree(entry, ignore_errors=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it runs, as another user
        return True
    return True
