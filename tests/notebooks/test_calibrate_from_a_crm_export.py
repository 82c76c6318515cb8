"""notebooks/calibrate-from-a-crm-export.ipynb runs from top to bottom without an error."""

from __future__ import annotations

import pytest

from .runner import run_notebook

pytestmark = pytest.mark.slow


def test_notebook_runs() -> None:
    run_notebook("calibrate-from-a-crm-export")
