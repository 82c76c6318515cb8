"""The limits and vocabulary every part of the scenario package shares."""

from typing import Literal

Attribute = Literal["grade", "region", "product", "segment"]
"""A lead attribute."""

MAX_HORIZON_DAYS = 2500.0
"""Longest horizon accepted: ten years of 250 working days."""
MAX_EXPECTED_LEADS = 1_000_000.0
"""Largest expected number of leads per replication accepted."""
ATTRIBUTES: tuple[Attribute, ...] = ("grade", "region", "product", "segment")
"""Lead attributes a channel mix draws, in the order they are drawn."""
MIX_TOLERANCE = 1e-6
"""How far from 1 the shares of a mix may sum (rounding in hand-written files)."""
MIN_CYCLE_DAYS = 1.0
"""Shortest repeating cycle of a rate schedule (days)."""
