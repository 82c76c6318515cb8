"""Writing files for the fronts: atomic, so an interrupted write never leaves half a file."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_umask()
"""Mode of written files: what ``open`` would give (``mkstemp`` makes them 0600)."""


def write_atomic(path: str | Path, write: Callable[[IO[str]], object]) -> Path:
    """Write a text file via a temporary file in the same folder, then rename it.

    Args:
        path: Final file name.
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
        path: Final file name.
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
    """Fail now, not after a long run, if ``path`` cannot be written.

    Creates the folder if needed and a temporary file in it, then removes the file.

    Raises:
        OSError: Naming the path and why it cannot be written.
    """
    try:
        _replace_probe(Path(path))
    except OSError as err:
        raise OSError(f"cannot write {path}: {err.strerror or err}") from err


def _replace_probe(target: Path) -> None:
    if target.is_dir():
        raise IsADirectoryError(21, "it is a folder")
    for folder in target.parents:
        if folder.exists():
            if not folder.is_dir():
                raise NotADirectoryError(20, f"{folder} is a file, not a folder")
            break
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    Path(tmp).unlink()


def _replace(path: str | Path, fill: Callable[[int], None]) -> Path:
    """Create a temporary file next to ``path``, let ``fill`` write it, rename it over.

    On any failure, including an interrupt, the temporary file is removed and nothing
    appears under the final name.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(fd, _FILE_MODE)
        fill(fd)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
