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

from importlib.metadata import PackageNotFoundError, version

from salessim.bottlenecks import Bottlenecks, bottlenecks, funnel
from salessim.calibration import Backtest, Calibration, backtest, calibrate, holdout
from salessim.compare import Comparison, compare
from salessim.eventlog import write_event_log
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
    "ReplicationError", "Results", "Scenario", "ScenarioError", "Store", "StoreError", "Sweep",
    "__version__", "backtest", "bottlenecks", "calibrate", "compare", "funnel", "holdout",
    "load_scenario", "run", "run_until", "suggest_warmup", "sweep", "timeseries",
    "write_event_log",
]
