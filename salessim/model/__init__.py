"""The SimPy model of a sales organisation. Knows nothing of files, plots or fronts."""

from salessim.model.process import Timeline, simulate
from salessim.model.records import RawReplication

MODEL_VERSION = 3
"""Bumped whenever the same scenario and seed give different numbers: stored results of
another model version are not reused."""

__all__ = ["MODEL_VERSION", "RawReplication", "Timeline", "simulate"]
