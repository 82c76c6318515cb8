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

# ---- what a file may hold: limits that keep a small file from taking the memory or the
# time of a large one; each message that refuses a file says the limit it passed.

MAX_FILE_BYTES = 4 * 1024 * 1024
"""Largest file read (bytes); real scenarios are a few kilobytes of YAML."""
MAX_NESTING = 32
"""Deepest nesting of lists and mappings; a scenario needs about eight levels."""
MAX_ITEMS = 100_000
"""Most items in one list or mapping."""
MAX_DOCUMENT_VALUES = 1_000_000
"""Most values in a file, anchors and aliases counted as often as they are used."""
MAX_TEXT_CHARS = 100_000
"""Longest single value (characters)."""
