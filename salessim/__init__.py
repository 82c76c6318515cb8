"""salessim: discrete-event simulation of sales processes and sales organisations.

>>> import salessim as ss
>>> sc = ss.load_scenario("scenarios/regional.yaml")       # doctest: +SKIP
>>> res = ss.run(sc, replications=20, seed=1)               # doctest: +SKIP
>>> res.summary()                                           # doctest: +SKIP
>>> cmp = ss.compare({"baseline": sc, "more SEs": sc.with_changes(
...     {"teams.solutions.se.headcount": 8})}, replications=30, seed=1)  # doctest: +SKIP
>>> cmp.table()                                             # doctest: +SKIP

A scenario from a CRM export: ``cal = ss.calibrate("mapping.yaml")``, then
``ss.backtest(cal)`` and ``ss.holdout(cal)`` set its simulation beside the history.

Analysis of a run: ``ss.bottlenecks(res)``, ``ss.funnel(res)``, ``ss.timeseries(res)``;
``ss.write_event_log(res, "events.xes")`` exports it for process mining. Plots are in
``salessim.plots``, the HTML report in ``salessim.report``.
"""

from __future__ import annotations

import importlib
import sys
import types
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from salessim.bottlenecks import Bottlenecks, bottlenecks, funnel
    from salessim.calibration import Backtest, Calibration, backtest, calibrate, holdout
    from salessim.compare import Comparison, compare
    from salessim.eventlog import write_event_log
    from salessim.optimise import Optimisation, optimise
    from salessim.results import Results
    from salessim.runner import DEFAULT_REPLICATIONS, ReplicationError, run, run_until
    from salessim.scenario import Scenario, ScenarioError, load_scenario
    from salessim.store import Store, StoreError
    from salessim.sweep import Sweep, sweep
    from salessim.timeseries import timeseries
    from salessim.warmup import suggest_warmup

try:
    __version__ = version("salessim")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = [
    "DEFAULT_REPLICATIONS", "Backtest", "Bottlenecks", "Calibration", "Comparison",
    "Optimisation", "ReplicationError", "Results", "Scenario", "ScenarioError", "Store",
    "StoreError", "Sweep", "__version__", "backtest", "bottlenecks", "calibrate", "compare",
    "funnel", "holdout", "load_scenario", "optimise", "run", "run_until", "suggest_warmup",
    "sweep", "timeseries", "write_event_log",
]

# The public names are imported on first use (PEP 562), not here: between them they load
# scipy, pandas, SimPy and pydantic's schemas, about a second, which ``import salessim``,
# ``salessim --help`` and ``salessim validate`` should not pay.
_HOMES: dict[str, str] = {
    "Bottlenecks": "salessim.bottlenecks", "bottlenecks": "salessim.bottlenecks",
    "funnel": "salessim.bottlenecks",
    "Backtest": "salessim.calibration", "Calibration": "salessim.calibration",
    "backtest": "salessim.calibration", "calibrate": "salessim.calibration",
    "holdout": "salessim.calibration",
    "Comparison": "salessim.compare", "compare": "salessim.compare",
    "write_event_log": "salessim.eventlog",
    "Optimisation": "salessim.optimise", "optimise": "salessim.optimise",
    "Results": "salessim.results",
    "DEFAULT_REPLICATIONS": "salessim.runner", "ReplicationError": "salessim.runner",
    "run": "salessim.runner", "run_until": "salessim.runner",
    "Scenario": "salessim.scenario", "ScenarioError": "salessim.scenario",
    "load_scenario": "salessim.scenario",
    "Store": "salessim.store", "StoreError": "salessim.store",
    "Sweep": "salessim.sweep", "sweep": "salessim.sweep",
    "timeseries": "salessim.timeseries",
    "suggest_warmup": "salessim.warmup",
}
"""The module each public name (``__all__`` but ``__version__``) is imported from."""


if not TYPE_CHECKING:  # mypy reads the imports above; a __getattr__ would make any name Any

    def __getattr__(name: str) -> Any:
        """A public name, imported from its module on first use."""
        home = _HOMES.get(name)
        if home is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home), name)
        globals()[name] = value  # later look-ups are plain attribute reads
        return value


def __dir__() -> list[str]:
    """The module's names, the public ones not imported yet included."""
    return sorted({*globals(), *_HOMES})


class _Package(types.ModuleType):
    """This package's module type: a submodule never hides the public name it shares.

    ``salessim.compare``, ``salessim.sweep``, ``salessim.timeseries`` and
    ``salessim.bottlenecks`` are each a submodule and a function of that name. Importing
    a submodule makes it an attribute of its package, which, before the function was
    first asked for, would make ``salessim.compare`` the module instead of the function.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _HOMES and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
