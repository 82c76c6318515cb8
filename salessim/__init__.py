"""salessim: discrete-event simulation of sales processes and sales organisations.

>>> import salessim as ss
>>> sc = ss.load_scenario("scenarios/regional.yaml")       # doctest: +SKIP
>>> res = ss.run(sc, replications=20, seed=1)               # doctest: +SKIP
>>> res.summary()                                           # doctest: +SKIP
>>> cmp = ss.compare({"baseline": sc, "more SEs": sc.with_changes(
...     {"teams.solutions.se.headcount": 8})}, replications=30, seed=1)  # doctest: +SKIP
>>> cmp.table()                                             # doctest: +SKIP

Plots are in ``salessim.plots``, the HTML report in ``salessim.report``.
"""

from importlib.metadata import PackageNotFoundError, version

from salessim.compare import Comparison, compare
from salessim.results import Results
from salessim.runner import ReplicationError, run, run_until
from salessim.scenario import Scenario, ScenarioError, load_scenario
from salessim.store import Store, StoreError
from salessim.sweep import Sweep, sweep
from salessim.warmup import suggest_warmup

try:
    __version__ = version("salessim")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = [
    "Comparison", "ReplicationError", "Results", "Scenario", "ScenarioError", "Store",
    "StoreError", "Sweep", "__version__", "compare", "load_scenario", "run", "run_until",
    "suggest_warmup", "sweep",
]
