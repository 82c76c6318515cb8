"""Every notebook in notebooks/ has its own test module, which runs it top to bottom.

One module per notebook, so that the test workers (pytest-xdist, a file each) run the
long notebooks side by side.
"""

from __future__ import annotations

from pathlib import Path

from .runner import NOTEBOOKS


def test_every_notebook_has_its_test_module() -> None:
    notebooks = {p.stem.replace("-", "_") for p in NOTEBOOKS.glob("*.ipynb")}
    here = Path(__file__).parent
    assert notebooks, f"no notebooks in {NOTEBOOKS}"
    assert {n for n in notebooks if not (here / f"test_{n}.py").exists()} == set()
