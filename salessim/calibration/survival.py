"""Durations with right-censoring: deals still open at the export are not dropped.

A deal open on the export day has been in its stage *at least* so long; dropping it
keeps the quick deals and loses the slow ones, and counting it as closed that day cuts
the slow ones short. Both make cycles look shorter than they are. Here every duration
carries whether it ended (``observed``) or was cut by the export:

- ``kaplan_meier`` and ``cumulative_incidence`` are the non-parametric estimates
  (lifelines' Kaplan-Meier and Aalen-Johansen fitters), shown in the fit report;
- ``fit_duration`` fits the distributions a scenario can hold (exponential, lognormal,
  gamma) by maximum likelihood with censoring (density for ended durations, survival for
  cut ones) and keeps the one with the lowest AIC. lifelines has no gamma fitter, which is
  why this small fit is here; its interval for the mean is the delta method on the
  numerical Hessian of the log-likelihood.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import optimize, special

FloatArray = NDArray[np.float64]

MIN_DAYS = 0.05
"""Durations shorter than this (about 20 minutes of a working day) count as this long:
a stage entered and left on the same date has a duration of 0, which no positive
distribution has a density for."""

FAMILIES: tuple[str, ...] = ("exponential", "lognormal", "gamma")
"""The scenario distributions a duration is fitted with, compared by AIC."""

Z95 = 1.959963984540054


@dataclass(frozen=True)
class DurationFit:
    """A fitted duration distribution.

    Attributes:
        family: The family chosen (lowest AIC).
        mean: Its mean (days).
        sd: Its standard deviation (days).
        ci_low: Lower end of the 95 % interval of the mean (days).
        ci_high: Upper end (days).
        n: Durations used.
        ended: How many of them ended (the rest were open at the export).
        aic: AIC of each family tried.
        naive_mean: Mean of the ended durations alone (days): what ignoring the open
            deals would say.
    """

    family: str
    mean: float
    sd: float
    ci_low: float
    ci_high: float
    n: int
    ended: int
    aic: dict[str, float]
    naive_mean: float

    def distribution(self, mean: float | None = None) -> dict[str, Any]:
        """The fit as a scenario distribution, optionally moved to another mean (same CV)."""
        m = self.mean if mean is None else mean
        if self.family == "exponential":
            return {"dist": "exponential", "mean": _round(m)}
        return {"dist": self.family, "mean": _round(m), "sd": _round(self.sd * m / self.mean)}


def _round(x: float) -> float:
    return float(f"{x:.4g}")


PARAMETERS = {"exponential": 1, "lognormal": 2, "gamma": 2}
"""Free parameters of each family."""


def _log_parts(family: str, params: FloatArray, t: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Log density and log survival of each duration.

    Written with scipy.special rather than frozen scipy.stats distributions, which cost
    a millisecond each to build: an optimiser calls this thousands of times.
    """
    log_t = np.log(t)
    if family == "exponential":
        rate = math.exp(-params[0])
        return math.log(rate) - rate * t, -rate * t
    if family == "lognormal":
        mu, s = params[0], math.exp(params[1])
        z = (log_t - mu) / s
        return (-log_t - math.log(s) - 0.5 * math.log(2 * math.pi) - 0.5 * z * z,
                special.log_ndtr(-z))
    k, theta = math.exp(params[0]), math.exp(params[1])
    log_pdf = (k - 1) * log_t - t / theta - special.gammaln(k) - k * math.log(theta)
    return log_pdf, np.log(np.maximum(special.gammaincc(k, t / theta), 1e-300))


def _finite(ll: FloatArray) -> float:
    total = float(np.sum(ll))
    return total if math.isfinite(total) else -1e300


def _loglik(family: str, params: FloatArray, t: FloatArray, ended: FloatArray) -> float:
    """Log-likelihood with censoring: log density where ended, log survival where cut."""
    log_pdf, log_sf = _log_parts(family, params, t)
    return _finite(np.where(ended > 0, log_pdf, log_sf))


def _mixture_loglik(family: str, theta: FloatArray, t: FloatArray, code: NDArray[np.int64]
                    ) -> float:
    """Log-likelihood of two kinds of deal, each with durations of its own.

    Those that pass (code 1) and those that are lost (code 2) come in shares p and
    1 - p; a deal still open (code 0) may become either.
    """
    k = PARAMETERS[family]
    a_pdf, a_sf = _log_parts(family, theta[:k], t)
    l_pdf, l_sf = _log_parts(family, theta[k:2 * k], t)
    lp, lq = special.log_expit(theta[-1]), special.log_expit(-theta[-1])
    ll = np.where(code == 1, lp + a_pdf,
                  np.where(code == 2, lq + l_pdf, np.logaddexp(lp + a_sf, lq + l_sf)))
    return _finite(ll)


def _moments(family: str, params: FloatArray) -> tuple[float, float]:
    if family == "exponential":
        m = math.exp(params[0])
        return m, m
    if family == "lognormal":
        mu, s = params[0], math.exp(params[1])
        m = math.exp(mu + s * s / 2)
        return m, m * math.sqrt(math.expm1(s * s))
    k, theta = math.exp(params[0]), math.exp(params[1])
    return k * theta, math.sqrt(k) * theta


def _start(family: str, t: FloatArray) -> FloatArray:
    m, v = float(np.mean(t)), float(np.var(t)) + 1e-9
    if family == "exponential":
        return np.array([math.log(m)])
    if family == "lognormal":
        logs = np.log(t)
        return np.array([float(np.mean(logs)), math.log(float(np.std(logs)) + 1e-3)])
    k = max(m * m / v, 0.05)
    return np.array([math.log(k), math.log(m / k)])


def _hessian(f: Callable[[FloatArray], float], x: FloatArray, h: float = 1e-4) -> FloatArray:
    n = len(x)
    out = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            ei, ej = np.eye(n)[i] * h, np.eye(n)[j] * h
            out[i, j] = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)
                         ) / (4 * h * h)
    return out


def _mean_interval(family: str, nll: Callable[[FloatArray], float], x: FloatArray,
                   part: slice) -> tuple[float, float]:
    """95 % interval of a component's mean: delta method on the log of the mean.

    Args:
        family: The distribution family.
        nll: The negative log-likelihood of all parameters.
        x: Its minimum.
        part: Where the component's parameters are in ``x``.
    """
    try:
        cov = np.linalg.inv(_hessian(nll, x))
    except np.linalg.LinAlgError:
        return math.nan, math.nan
    h = 1e-5
    params = x[part]
    grad = np.zeros(len(x))
    grad[part] = [(math.log(_moments(family, params + e)[0])
                   - math.log(_moments(family, params - e)[0])) / (2 * h)
                  for e in np.eye(len(params)) * h]
    var = float(grad @ cov @ grad)
    if not var >= 0:
        return math.nan, math.nan
    m = _moments(family, params)[0]
    half = Z95 * math.sqrt(var)
    return m * math.exp(-half), m * math.exp(half)


def fit_duration(days: FloatArray, ended: NDArray[np.bool_]) -> DurationFit:
    """Fit durations with censoring; the family with the lowest AIC is kept.

    Args:
        days: Durations (days); for a deal still open, the time until the export.
        ended: Whether each duration ended (False: cut by the export).

    Raises:
        ValueError: With no duration that ended (nothing to fit).
    """
    t = np.maximum(np.asarray(days, dtype=np.float64), MIN_DAYS)
    e = np.asarray(ended, dtype=np.float64)
    if not e.any():
        raise ValueError("no duration ended before the export")
    fits: dict[str, tuple[FloatArray, float]] = {}
    for family in FAMILIES:
        res = optimize.minimize(lambda p, fam=family: -_loglik(fam, p, t, e),
                                _start(family, t[e > 0]), method="Nelder-Mead",
                                options={"xatol": 1e-7, "fatol": 1e-9, "maxiter": 4000})
        fits[family] = (np.asarray(res.x), 2 * len(res.x) + 2 * float(res.fun))
    family = min(FAMILIES, key=lambda f: fits[f][1])
    params = fits[family][0]
    mean, sd = _moments(family, params)
    low, high = _mean_interval(family, lambda p: -_loglik(family, p, t, e), params,
                               slice(0, len(params)))
    return DurationFit(family, mean, sd, low, high, len(t), int(e.sum()),
                       {f: fits[f][1] for f in FAMILIES}, float(np.mean(t[e > 0])))


@dataclass(frozen=True)
class CompetingFit:
    """How long deals stay in a stage, for those that pass it and those lost there.

    Attributes:
        passed: Time in stage of the deals that pass (``n``: those that passed or are
            still open; ``ended``: those that passed).
        lost: Time in stage of the deals lost there (``n``: lost or open; ``ended``:
            lost).
        pass_share: The share that passes, with the open deals' chances counted.
    """

    passed: DurationFit
    lost: DurationFit
    pass_share: float


MIN_EACH = 5
"""Below this many passed or lost deals the two are fitted as one population."""


def fit_competing(days: FloatArray, outcome: NDArray[np.int64]) -> CompetingFit:
    """Fit the time in stage of passing and of lost deals, the open ones censored.

    A deal lost after lingering in a stage says nothing about how long a deal that passes
    takes there: the two are fitted apart, as a mixture whose open deals may still become
    either (``_mixture_loglik``), one family for both by the lowest AIC.

    Args:
        days: Time in the stage (days); for a deal still open, until the export.
        outcome: 1 passed, 2 lost, 0 still open.

    Raises:
        ValueError: With no deal that left the stage.
    """
    t = np.maximum(np.asarray(days, dtype=np.float64), MIN_DAYS)
    code = np.asarray(outcome, dtype=np.int64)
    n_pass, n_lost = int((code == 1).sum()), int((code == 2).sum())
    if min(n_pass, n_lost) < MIN_EACH:
        single = fit_duration(t, code > 0)
        return CompetingFit(single, single, n_pass / max(n_pass + n_lost, 1))
    fits: dict[str, tuple[FloatArray, float]] = {}
    for family in FAMILIES:
        start = np.r_[_start(family, t[code == 1]), _start(family, t[code == 2]),
                      special.logit(n_pass / (n_pass + n_lost))]
        res = optimize.minimize(lambda x, fam=family: -_mixture_loglik(fam, x, t, code), start,
                                method="L-BFGS-B")
        fits[family] = (np.asarray(res.x), 2 * len(res.x) + 2 * float(res.fun))
    family = min(FAMILIES, key=lambda f: fits[f][1])
    x, k = fits[family][0], PARAMETERS[family]
    aic = {f: fits[f][1] for f in FAMILIES}
    open_ = int((code == 0).sum())

    def component(part: slice, code_of: int, ended: int) -> DurationFit:
        mean, sd = _moments(family, x[part])
        low, high = _mean_interval(family, lambda y: -_mixture_loglik(family, y, t, code),
                                   x, part)
        return DurationFit(family, mean, sd, low, high, ended + open_, ended, aic,
                           float(np.mean(t[code == code_of])))

    return CompetingFit(component(slice(0, k), 1, n_pass), component(slice(k, 2 * k), 2, n_lost),
                        float(special.expit(x[-1])))


def _lifelines() -> Any:
    """lifelines, imported when first needed: it takes seconds to import."""
    try:
        import lifelines
    except ImportError:
        raise ImportError("survival curves need lifelines: pip install "
                          "'salessim[calibration]'") from None
    return lifelines


def kaplan_meier(days: FloatArray, ended: NDArray[np.bool_]) -> pd.DataFrame:
    """Kaplan-Meier survival (share still open after so many days) with 95 % bands.

    Returns:
        Columns ``days``, ``survival``, ``ci_low``, ``ci_high``.
    """
    km = _lifelines().KaplanMeierFitter().fit(np.maximum(days, 0.0), event_observed=ended)
    band = km.confidence_interval_survival_function_
    return pd.DataFrame({"days": km.survival_function_.index.to_numpy(dtype=float),
                         "survival": km.survival_function_.iloc[:, 0].to_numpy(),
                         "ci_low": band.iloc[:, 0].to_numpy(),
                         "ci_high": band.iloc[:, 1].to_numpy()})


def cumulative_incidence(days: FloatArray, outcome: NDArray[np.int64]) -> pd.DataFrame:
    """Aalen-Johansen cumulative incidence of won (1) and lost (2) deals; 0 is open.

    The chance of being won by day t, with losing as the competing risk: the curve a
    naive "won / all deals" or "won / closed deals" gets wrong while deals are open.

    Returns:
        Columns ``days``, ``won``, ``lost`` (shares of all deals).
    """
    fitter = _lifelines().AalenJohansenFitter
    t = np.maximum(np.asarray(days, dtype=np.float64), 0.0)
    # Aalen-Johansen needs distinct event times; a jitter far below a minute does it.
    t = t + np.arange(len(t)) * 1e-9
    curves = {}
    for code, name in ((1, "won"), (2, "lost")):
        if not (outcome == code).any():
            curves[name] = pd.Series([0.0], index=[0.0])
            continue
        aj = fitter(calculate_variance=False)
        aj.fit(t, outcome, event_of_interest=code)
        curves[name] = aj.cumulative_density_.iloc[:, 0]
    grid = np.union1d(curves["won"].index.to_numpy(float), curves["lost"].index.to_numpy(float))
    return pd.DataFrame({"days": grid, **{
        k: np.interp(grid, v.index.to_numpy(float), v.to_numpy(float)) for k, v in curves.items()}})


def eventual_share(days: FloatArray, outcome: NDArray[np.int64]) -> float:
    """The share of resolved deals that are won, from the cumulative incidences.

    At the last time a deal closed, won and lost incidences sum to the share closed;
    the deals still open are split in the same proportion (the model's assumption that
    the outcome does not depend on how long a deal took).
    """
    cif = cumulative_incidence(days, outcome)
    won, lost = float(cif["won"].iloc[-1]), float(cif["lost"].iloc[-1])
    return won / (won + lost) if won + lost > 0 else math.nan
