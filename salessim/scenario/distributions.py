"""Probability distributions declared as data.

Every distribution a scenario names (efforts, delays, deal values, travel) is one of
the classes below, selected by its ``dist`` key. They are plain validated values: no
scenario text is ever evaluated. Each knows its own moments and samples by inverse
transform (``ppf``) from uniforms the caller provides, which is what lets two scenarios
share random numbers lead by lead: the uniform stays the same when only the
distribution changes.

All distributions here are non-negative, because every quantity they describe
(a duration in hours or days, a deal value in currency) is. Their parameters lie in
[``MIN_SCALE``, ``MAX_AMOUNT``] (a mean or spread) or [0, ``MAX_AMOUNT``], which keeps
every moment and every sample finite in double precision.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, model_validator

from salessim.scenario.limits import MAX_AMOUNT, MIN_SCALE

if TYPE_CHECKING:
    from scipy import stats

FloatArray = NDArray[np.float64]

# Bounded so that every moment and every sample stays finite in double precision.
NonNegative = Annotated[float, Field(ge=0.0, le=MAX_AMOUNT, allow_inf_nan=False)]
Positive = Annotated[float, Field(ge=MIN_SCALE, le=MAX_AMOUNT, allow_inf_nan=False)]


class _Dist(BaseModel):
    """Common behaviour: frozen, no unknown keys, moments and inverse CDF."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    def mean(self) -> float:
        """Expected value, in the unit of the quantity described."""
        raise NotImplementedError

    def variance(self) -> float:
        """Variance, in the unit of the quantity described, squared."""
        raise NotImplementedError

    def ppf(self, u: FloatArray) -> FloatArray:
        """Map uniforms in [0, 1) to samples (inverse cumulative distribution)."""
        raise NotImplementedError


class Fixed(_Dist):
    """Always the same value."""

    dist: Literal["fixed"]
    value: NonNegative

    def mean(self) -> float:
        """Expected value."""
        return self.value

    def variance(self) -> float:
        """Variance (zero)."""
        return 0.0

    def ppf(self, u: FloatArray) -> FloatArray:
        """Constant samples."""
        return np.full(u.shape, self.value)


class Uniform(_Dist):
    """Uniform between ``low`` and ``high``."""

    dist: Literal["uniform"]
    low: NonNegative
    high: NonNegative

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high < self.low:
            raise ValueError(f"high ({self.high}) must be at least low ({self.low})")
        return self

    def mean(self) -> float:
        """Expected value."""
        return (self.low + self.high) / 2

    def variance(self) -> float:
        """Variance."""
        return (self.high - self.low) ** 2 / 12

    def ppf(self, u: FloatArray) -> FloatArray:
        """Inverse CDF."""
        return self.low + (self.high - self.low) * u


class Triangular(_Dist):
    """Triangular with ``low`` <= ``mode`` <= ``high``: the planner's three-point estimate."""

    dist: Literal["triangular"]
    low: NonNegative
    mode: NonNegative
    high: NonNegative

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not self.low <= self.mode <= self.high:
            raise ValueError(
                f"needs low <= mode <= high, got {self.low}, {self.mode}, {self.high}"
            )
        return self

    def mean(self) -> float:
        """Expected value."""
        return (self.low + self.mode + self.high) / 3

    def variance(self) -> float:
        """Variance."""
        a, c, b = self.low, self.mode, self.high
        # The textbook (a^2+b^2+c^2-ab-ac-bc)/18 cancels to a tiny negative number when
        # a == b == c; the same quantity as a sum of squares cannot.
        return ((a - b) ** 2 + (a - c) ** 2 + (b - c) ** 2) / 36

    def ppf(self, u: FloatArray) -> FloatArray:
        """Inverse CDF."""
        a, c, b = self.low, self.mode, self.high
        if b == a:
            return np.full(u.shape, a)
        cut = (c - a) / (b - a)
        left = a + np.sqrt(u * (b - a) * (c - a))
        right = b - np.sqrt((1 - u) * (b - a) * (b - c))
        return np.where(u < cut, left, right)


class Exponential(_Dist):
    """Exponential with the given mean (memoryless: the M in M/M/c)."""

    dist: Literal["exponential"]
    mean_: Positive = Field(alias="mean")

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, strict=True)

    def mean(self) -> float:
        """Expected value."""
        return self.mean_

    def variance(self) -> float:
        """Variance."""
        return self.mean_**2

    def ppf(self, u: FloatArray) -> FloatArray:
        """Inverse CDF."""
        return -self.mean_ * np.log1p(-u)


class Normal(_Dist):
    """Normal with ``mean`` and ``sd`` of the untruncated curve, truncated at zero."""

    dist: Literal["normal"]
    mean_: NonNegative = Field(alias="mean")
    sd: Positive

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, strict=True)

    def _frozen(self) -> stats.rv_continuous:
        # scipy is imported where it is used: scipy.stats alone takes about half a second
        # to import, which loading and validating a scenario should not pay.
        from scipy import stats

        return stats.truncnorm(a=-self.mean_ / self.sd, b=np.inf, loc=self.mean_, scale=self.sd)

    def mean(self) -> float:
        """Expected value of the truncated distribution."""
        return float(self._frozen().mean())

    def variance(self) -> float:
        """Variance of the truncated distribution."""
        return float(self._frozen().var())

    def ppf(self, u: FloatArray) -> FloatArray:
        """Inverse CDF of the truncated distribution."""
        return np.asarray(self._frozen().ppf(u), dtype=np.float64)


class LogNormal(_Dist):
    """Log-normal given by the ``mean`` and ``sd`` of the quantity itself (not of its log)."""

    dist: Literal["lognormal"]
    mean_: Positive = Field(alias="mean")
    sd: Positive

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, strict=True)

    def _log_params(self) -> tuple[float, float]:
        sigma2 = math.log1p((self.sd / self.mean_) ** 2)
        return math.log(self.mean_) - sigma2 / 2, math.sqrt(sigma2)

    def mean(self) -> float:
        """Expected value."""
        return self.mean_

    def variance(self) -> float:
        """Variance."""
        return self.sd**2

    def ppf(self, u: FloatArray) -> FloatArray:
        """Inverse CDF."""
        from scipy import special  # see Normal._frozen; once imported, this costs < 1 µs

        mu, sigma = self._log_params()
        return np.exp(mu + sigma * np.asarray(special.ndtri(u), dtype=np.float64))


class Gamma(_Dist):
    """Gamma given by ``mean`` and ``sd`` (shape = (mean/sd)^2)."""

    dist: Literal["gamma"]
    mean_: Positive = Field(alias="mean")
    sd: Positive

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, strict=True)

    def mean(self) -> float:
        """Expected value."""
        return self.mean_

    def variance(self) -> float:
        """Variance."""
        return self.sd**2

    def ppf(self, u: FloatArray) -> FloatArray:
        """Inverse CDF."""
        from scipy import special  # see Normal._frozen

        shape = (self.mean_ / self.sd) ** 2
        scale = self.sd**2 / self.mean_
        return scale * np.asarray(special.gammaincinv(shape, u), dtype=np.float64)


class Empirical(_Dist):
    """Observed values, drawn with the given weights (equal weights when omitted)."""

    dist: Literal["empirical"]
    values: tuple[NonNegative, ...] = Field(min_length=1, strict=False)
    weights: tuple[NonNegative, ...] | None = Field(default=None, strict=False)

    @model_validator(mode="after")
    def _weights_match(self) -> Empirical:
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError(
                    f"weights has {len(self.weights)} entries but values has {len(self.values)}"
                )
            if sum(self.weights) <= 0:
                raise ValueError("weights must not all be zero")
        return self

    def _probabilities(self) -> FloatArray:
        w = np.ones(len(self.values)) if self.weights is None else np.asarray(self.weights)
        return np.asarray(w / w.sum(), dtype=np.float64)

    def _sorted(self) -> tuple[FloatArray, FloatArray]:
        """Values in increasing order with their probabilities (an inverse CDF needs order)."""
        order = np.argsort(self.values, kind="stable")
        return np.asarray(self.values, dtype=np.float64)[order], self._probabilities()[order]

    def mean(self) -> float:
        """Expected value."""
        return float(np.dot(self._probabilities(), self.values))

    def variance(self) -> float:
        """Variance."""
        p, v = self._probabilities(), np.asarray(self.values)
        return float(np.dot(p, (v - np.dot(p, v)) ** 2))

    def ppf(self, u: FloatArray) -> FloatArray:
        """Inverse CDF of the discrete distribution."""
        values, p = self._sorted()
        idx = np.searchsorted(np.cumsum(p), u, side="right")
        return values[np.minimum(idx, len(values) - 1)]


Distribution = Annotated[
    Fixed | Uniform | Triangular | Exponential | Normal | LogNormal | Gamma | Empirical,
    Field(discriminator="dist"),
]
"""Any distribution, chosen by its ``dist`` key."""

DIST_NAMES: tuple[str, ...] = (
    "fixed", "uniform", "triangular", "exponential", "normal", "lognormal", "gamma", "empirical"
)
