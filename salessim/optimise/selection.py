"""Choosing the best of a few candidates with a stated confidence: Kim and Nelson's KN.

The search ranks settings on a few replications each, which is not enough to trust
which of the leading few is really best. KN (Kim and Nelson 2001, "A fully sequential
procedure for indifference-zone selection in simulation", ACM TOMACS 11(3)) re-runs the
leading candidates one replication at a time, on common random numbers, and drops a
candidate as soon as another is ahead of it by more than a shrinking allowance. When
one is left it is the best, or within ``indifference`` of the best, with probability at
least ``confidence``, whatever the (normal) noise and its correlation between
candidates. The allowance comes from the variances of the pairwise differences over
the first ``n0`` replications, which is what makes common random numbers pay.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

More = Callable[[Sequence[int], int], Sequence[float]]
"""``more(alive, r)``: replication ``r`` of each candidate in ``alive``, higher is better."""


@dataclass(frozen=True)
class Selection:
    """What the selection step found.

    Attributes:
        chosen: Position of the selected candidate.
        survivors: Candidates still in contention when the procedure stopped (the
            chosen one among them); one when it finished.
        replications: Replications each candidate got, by position.
        finished: Whether one candidate was left before ``max_replications``: only then
            does the confidence statement hold.
        indifference: The indifference zone, in the objective's unit.
        confidence: The stated probability of a correct selection.
    """

    chosen: int
    survivors: tuple[int, ...]
    replications: tuple[int, ...]
    finished: bool
    indifference: float
    confidence: float


def kn_constants(k: int, n0: int, confidence: float) -> tuple[float, float]:
    """KN's ``eta`` and ``h^2`` for ``k`` candidates and ``n0`` first-stage replications.

    ``eta = ((2 alpha / (k - 1))^(-2 / (n0 - 1)) - 1) / 2`` and ``h^2 = 2 eta (n0 - 1)``,
    with ``alpha = 1 - confidence``.
    """
    alpha = 1.0 - confidence
    eta = 0.5 * ((2.0 * alpha / (k - 1)) ** (-2.0 / (n0 - 1)) - 1.0)
    return eta, 2.0 * eta * (n0 - 1)


def kn_select(first: ArrayLike, more: More, *, indifference: float, confidence: float,
              max_replications: int) -> Selection:
    """Select the best candidate by KN, sampling more replications as it goes.

    Args:
        first: First-stage values, one row per candidate and one column per
            replication (the same replication indices for every row: common random
            numbers), higher is better; at least two columns.
        more: Called with the candidates still in contention and the next
            replication index, returns their values of that replication (higher is
            better; NaN counts as the worst).
        indifference: Differences smaller than this do not matter (objective's unit).
        confidence: Probability of a correct selection to guarantee, below 1.
        max_replications: Most replications any candidate gets; the procedure stops
            there if more than one is left (``Selection.finished`` is then False).

    Returns:
        The selection.

    Raises:
        ValueError: For fewer than two first-stage replications, or a bad
            indifference, confidence or limit.
    """
    x = np.asarray(first, dtype=np.float64)
    k, n0 = x.shape
    if n0 < 2 or not 0 < confidence < 1 or not indifference > 0 or max_replications < n0:
        raise ValueError("KN needs at least two first-stage replications, a confidence "
                         "between 0 and 1, an indifference above 0 and max_replications "
                         f"of at least the first stage; got {n0}, {confidence}, "
                         f"{indifference} and {max_replications}")
    counts = [n0] * k
    if k == 1:
        return Selection(0, (0,), tuple(counts), True, indifference, confidence)
    _, h2 = kn_constants(k, n0, confidence)
    diffs = x[:, None, :] - x[None, :, :]
    s2 = diffs.var(axis=2, ddof=1)
    sums = np.where(np.isfinite(x), x, -np.inf).sum(axis=1)
    alive = list(range(k))
    r = n0
    while True:
        alive = _screen(alive, sums / r, s2, h2, indifference, r)
        if len(alive) == 1 or r >= max_replications:
            break
        values = np.asarray(more(alive, r), dtype=np.float64)
        sums[alive] += np.where(np.isfinite(values), values, -np.inf)
        r += 1
        for i in alive:
            counts[i] = r
    chosen = max(alive, key=lambda i: (sums[i], -i))
    return Selection(chosen, tuple(alive), tuple(counts), len(alive) == 1, indifference,
                     confidence)


def _screen(alive: list[int], means: NDArray[np.float64], s2: NDArray[np.float64],
            h2: float, delta: float, r: int) -> list[int]:
    """The candidates no other one in ``alive`` is ahead of by more than its allowance.

    The allowance ``W = max(0, delta / (2 r) (h^2 S^2 / delta^2 - r))`` shrinks to zero
    as ``r`` grows. Two candidates that never differ (``S^2 = 0``, equal means: the
    lever between them changes nothing) are one: the later one goes.
    """
    kept = []
    for i in alive:
        ahead = False
        for j in alive:
            if j == i:
                continue
            w = max(0.0, delta / (2 * r) * (h2 * s2[i, j] / delta**2 - r))
            tied = s2[i, j] == 0 and means[i] == means[j]
            if means[i] < means[j] - w or (tied and i > j):
                ahead = True
                break
        if not ahead:
            kept.append(i)
    return kept
