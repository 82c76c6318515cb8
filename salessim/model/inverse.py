"""Inverse CDFs for a whole column of uniforms or for one uniform, bit for bit alike.

A column of draws is converted whole (vectorised, by the distribution's own ``ppf``) when
most of its rows are read, and one row at a time when few are. Calling ``ppf`` on a
one-element array costs several numpy calls (tens of microseconds) for one value, which
made the rows read sparsely (later attempts, follow-ups, after-sale work, leads made
during the run) a quarter of a long replication. ``Inverse.one`` computes the same value
from a Python float: the same arithmetic in the same order, with numpy's and scipy's own
ufuncs where the result could depend on the implementation (``log1p``, ``exp``,
``ndtri``, ``gammaincinv`` on a scalar run the loop a one-element array runs), and
``math.sqrt`` where it cannot (a square root is correctly rounded everywhere).
Distributions without a scalar form here (the truncated normal, empirical) convert a
one-element array, as before.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from salessim.scenario.distributions import (
    Distribution,
    Exponential,
    Fixed,
    Gamma,
    LogNormal,
    Normal,
    Triangular,
    Uniform,
)

FloatArray = NDArray[np.float64]
One = Callable[[float], float]


class Inverse:
    """Uniforms to values, element by element: ``inv(u)`` for an array, ``inv.one(u)``.

    Args:
        whole: The conversion of an array of uniforms.
        one: The same conversion of one uniform, giving the same double.
    """

    __slots__ = ("_whole", "costly", "one")

    def __init__(self, whole: Callable[[FloatArray], FloatArray], one: One,
                 costly: bool = False) -> None:
        self._whole = whole
        self.one = one
        self.costly = costly
        """Whether a value costs much more than a few arithmetic operations (an iterative
        inverse CDF: gamma, truncated normal), so that converting rows never read costs
        more than converting the ones read one by one."""

    def __call__(self, u: FloatArray) -> FloatArray:
        """The values of the uniforms ``u``."""
        return self._whole(u)


def inverse(dist: Distribution, divisor: float | None = None) -> Inverse:
    """The inverse CDF of ``dist``, its values divided by ``divisor`` if given (hours to days)."""
    one = _one(dist)
    costly = isinstance(dist, Gamma | Normal)
    if divisor is None:
        return Inverse(dist.ppf, one, costly)
    return Inverse(lambda u: dist.ppf(u) / divisor, lambda u: one(u) / divisor, costly)


ZERO = Inverse(np.zeros_like, lambda _: 0.0)
"""Zero for every uniform (a column a scenario does not use)."""


def exponential_gaps(rate: float) -> Inverse:
    """Uniforms to exponential gaps (days) of a Poisson process of ``rate`` per day."""
    return Inverse(lambda u: -np.log1p(-u) / rate, lambda u: -float(np.log1p(-u)) / rate)


def _one(dist: Distribution) -> One:
    """``dist.ppf`` of one uniform, written out for the distributions that allow it."""
    if isinstance(dist, Fixed):
        value = dist.value
        return lambda _: value
    if isinstance(dist, Uniform):
        low, span = dist.low, dist.high - dist.low
        return lambda u: low + span * u
    if isinstance(dist, Triangular):
        return _triangular(dist.low, dist.mode, dist.high)
    if isinstance(dist, Exponential):
        scale = -dist.mean_
        return lambda u: scale * float(np.log1p(-u))
    # scipy is imported where it is used, as in ``salessim.scenario.distributions``:
    # importing the model should not pay for it.
    from scipy import special

    if isinstance(dist, LogNormal):
        mu, sigma = dist._log_params()  # the parameters its ``ppf`` uses
        return lambda u: float(np.exp(mu + sigma * float(special.ndtri(u))))
    if isinstance(dist, Gamma):
        shape, scale = (dist.mean_ / dist.sd) ** 2, dist.sd ** 2 / dist.mean_
        return lambda u: scale * float(special.gammaincinv(shape, u))
    return lambda u: float(dist.ppf(np.array([u]))[0])


def _triangular(a: float, c: float, b: float) -> One:
    """``Triangular.ppf`` of one uniform (its ``np.where`` picks one side per element)."""
    if b == a:
        return lambda _: a
    cut = (c - a) / (b - a)

    def one(u: float) -> float:
        if u < cut:
            return a + math.sqrt(u * (b - a) * (c - a))
        return b - math.sqrt((1 - u) * (b - a) * (b - c))

    return one
