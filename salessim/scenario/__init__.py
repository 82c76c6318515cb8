"""Scenario schema, distributions and loading."""

from salessim.scenario.errors import Problem, ScenarioError
from salessim.scenario.loader import load_scenario
from salessim.scenario.schema import Scenario

__all__ = ["Problem", "Scenario", "ScenarioError", "load_scenario"]
