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
MAX_AMOUNT = 1e12
"""Largest number a scenario may give for an amount of money, a duration or a factor.

A trillion is far above any real value, and it keeps every sum the model forms (a
million leads, ten thousand reps, ten years) finite in double precision."""
MIN_SCALE = 1e-9
"""Smallest mean or spread of a distribution: keeps ratios such as (mean / sd)^2 finite."""
MAX_ATTRIBUTE_VALUES = 500
"""Most values of one lead attribute (grades, regions, products, segments)."""
MAX_LEAD_KINDS = 50_000
"""Most kinds of lead: grades x regions x (products + bundles) x segments."""
MAX_EXPECTED_ATTEMPTS = 100
"""Most stage attempts a lead may make on average (rework and nurture loops counted)."""
MAX_ATTEMPTS_PER_STAGE = 1_000
"""A run stops with an error when one lead attempts one stage this often: its loop of
rework or nurture does not end (conversion effects pushed the chance of leaving it to
almost nothing)."""
MAX_FOLLOW_UPS = 50
"""Most follow-up touches per stage attempt (a deal chased every week for a year)."""
MAX_NAMED_ITEMS = 1_000
"""Most channels, roles, teams or stages in a scenario."""

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
