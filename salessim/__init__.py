"""salessim: discrete-event simulation of sales processes and sales organisations.

>>> import salessim as ss
>>> sc = ss.load_scenario("scenarios/regional.yaml")       # doctest: +SKIP
>>> res = ss.run(sc, replications=20, seed=1)               # doctest: +SKIP
>>> res.summary()                                           # doctest: +SKIP
"""

from importlib.metadata import PackageNotFoundError, version

from salessim.results import Results
from salessim.runner import run
from salessim.scenario import Scenario, ScenarioError, load_scenario

try:
    __version__ = version("salessim")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = ["Results", "Scenario", "ScenarioError", "__version__", "load_scenario", "run"]
