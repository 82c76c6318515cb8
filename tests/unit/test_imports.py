"""What starting up loads: ``import salessim`` and ``salessim validate`` stay light.

The public names of ``salessim`` are imported on first use, and the command line imports
a command's module only when that command runs, so neither ``import salessim`` nor
validating a scenario loads scipy, pandas, matplotlib and the rest (about a second
between them). Each check runs in a fresh interpreter, since this one has loaded
everything already. How long start-up takes is measured by
``benchmarks/bench_import.py``, not here.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import salessim

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("scipy", "pandas", "matplotlib", "jinja2", "pyarrow", "lifelines", "dask", "tqdm")
"""Libraries that take a tenth of a second or more to import, or are optional."""
REPORT = f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
"""Code that prints which of HEAVY the interpreter has loaded."""


def loaded_after(code: str) -> list[str]:
    """Which of HEAVY a fresh interpreter has loaded after running ``code``."""
    done = subprocess.run([sys.executable, "-c", f"{code}\nimport sys\n{REPORT}"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    found: list[str] = ast.literal_eval(done.stdout.splitlines()[-1])
    return found


def test_import_salessim_loads_no_heavy_library() -> None:
    assert loaded_after("import salessim") == []


def test_validating_a_scenario_loads_no_heavy_library() -> None:
    code = ("from salessim.cli import main\n"
            "assert main(['validate', 'scenarios/regional.yaml']) == 0")
    assert loaded_after(code) == []


def test_the_help_loads_no_heavy_library() -> None:
    code = ("from salessim.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit as stop:\n"
            "    assert stop.code == 0")
    assert loaded_after(code) == []


@pytest.mark.parametrize("name", salessim.__all__)
def test_every_public_name_resolves(name: str) -> None:
    assert getattr(salessim, name) is not None
    assert name in dir(salessim)


def test_the_lazy_names_are_the_typed_ones() -> None:
    """The names imported for type checkers come from where ``__getattr__`` finds them."""
    tree = ast.parse((ROOT / "salessim" / "__init__.py").read_text(encoding="utf-8"))
    typed = {alias.name: node.module
             for block in tree.body
             if isinstance(block, ast.If) and isinstance(block.test, ast.Name)
             and block.test.id == "TYPE_CHECKING"
             for node in block.body if isinstance(node, ast.ImportFrom)
             for alias in node.names}
    assert typed == salessim._HOMES
    assert set(typed) | {"__version__"} == set(salessim.__all__)


def test_a_submodule_does_not_hide_the_function_of_its_name() -> None:
    code = ("import salessim.bottlenecks, salessim.compare, salessim.sweep, salessim.timeseries\n"
            "import salessim, types\n"
            "for name in ('bottlenecks', 'compare', 'sweep', 'timeseries'):\n"
            "    assert callable(getattr(salessim, name)), name\n"
            "    assert not isinstance(getattr(salessim, name), types.ModuleType), name")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
