"""Optimising a plan: which settings of the levers do best, with a statistical guarantee.

``optimise(scenario, levers, objective=..., constraints=..., budget=...)`` searches the
levers with Optuna on common random numbers, re-runs the leading settings until a
ranking-and-selection procedure picks one with a stated confidence, and compares it
with the baseline (``Optimisation``). Needs the ``optimise`` extra:
``pip install 'salessim[optimise]'``.
"""

import importlib.util

if importlib.util.find_spec("optuna") is None:  # pragma: no cover - depends on the install
    raise ImportError("the optimiser needs Optuna: pip install 'salessim[optimise]'")

from salessim.optimise.core import optimise
from salessim.optimise.result import Optimisation, Recommendation

__all__ = ["Optimisation", "Recommendation", "optimise"]
