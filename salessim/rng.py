"""Seeds and named random streams.

There is no global random state. A run is a function of (scenario, seed): replication
``r`` of seed ``s`` draws only from ``SeedSequence(s, spawn_key=(r, ...))`` streams,
which is exactly ``SeedSequence(s).spawn(n)[r]`` extended by a purpose key. Each purpose
(arrivals, attributes, stage draws, payment, the after-sale life of an order or a
customer) has its own stream, and stage draws are
further keyed by channel, stage name and attempt, with one row per lead of the channel.
A given lead therefore sees the same uniforms in two scenarios wherever they agree,
whatever else differs and whatever order events happen in: common random numbers.
"""

from __future__ import annotations

import zlib
from enum import IntEnum

import numpy as np


class Purpose(IntEnum):
    """What a stream is used for; part of its spawn key."""

    ARRIVALS = 1
    ATTRIBUTES = 2
    DEAL_VALUE = 3
    STAGE = 4
    PAYMENT = 5
    STAFF = 6
    JOINT = 7
    PEOPLE = 8
    FOLLOW_UP = 9
    MADE_LEAD = 10
    ORDER = 11
    DELIVERY = 12
    INVOICE = 13
    CHASE = 14
    CUSTOMER = 15


def name_key(name: str) -> int:
    """A stable integer key for a name (the same in every process and Python version)."""
    return zlib.crc32(name.encode("utf-8"))


def stream(seed: int, replication: int, purpose: Purpose, *keys: int) -> np.random.Generator:
    """An independent generator for one purpose of one replication.

    Args:
        seed: The run's root seed (a non-negative integer).
        replication: Replication index, from 0.
        purpose: What the draws are for.
        keys: Further integer keys (see ``name_key``), e.g. channel, stage, attempt.
    """
    seq = np.random.SeedSequence(seed, spawn_key=(replication, int(purpose), *keys))
    return np.random.Generator(np.random.PCG64(seq))


def fresh_seed() -> int:
    """A new root seed from the operating system's entropy, to record and re-use."""
    entropy = np.random.SeedSequence().entropy
    assert isinstance(entropy, int)  # a fresh SeedSequence draws one integer
    return entropy % (2**63)
