"""The SimPy model of a sales organisation. Knows nothing of files, plots or fronts."""

from salessim.model.process import simulate
from salessim.model.records import RawReplication

__all__ = ["RawReplication", "simulate"]
