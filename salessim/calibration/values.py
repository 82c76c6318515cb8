"""Deal values: a base distribution times a factor per product and per segment.

A scenario draws a deal's value from one distribution and multiplies it by the factors
of the deal's attribute values (``deal_value.multipliers``). The calibration fits that
shape: a least-squares regression of log(amount) on product and segment gives the
factors (exp of the coefficients, each against the commonest value, with 95 %
intervals from the regression's standard errors), so an enterprise platform deal is not
counted twice as "large". The amounts divided by their factors are then fitted with the
lognormal and the gamma distribution by maximum likelihood, and the one with the lower
AIC is the base. Deals with no amount (or 0) are left out and counted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from salessim.calibration.estimates import Z95, Estimate
from salessim.calibration.tables import CrmData

VALUE_FACTORS: tuple[str, ...] = ("product", "segment")
"""The attributes deal values get a factor for."""


@dataclass(frozen=True)
class ValueFit:
    """The deal-value model.

    Attributes:
        distribution: The base distribution (a scenario ``deal_value.distribution``).
        multipliers: Attribute -> value -> factor (the commonest value has none).
        family: ``lognormal`` or ``gamma``.
        aic: AIC of each family.
        normalised: The amounts divided by their factors (what the base was fitted to).
        n: Amounts used.
    """

    distribution: dict[str, Any]
    multipliers: dict[str, dict[str, float]]
    family: str
    aic: dict[str, float]
    normalised: np.ndarray
    n: int


def fit_values(crm: CrmData) -> tuple[ValueFit, list[Estimate]]:
    """Fit the deal-value model to the amounts.

    Raises:
        ValueError: If no deal has an amount above 0.
    """
    opps = crm.opportunities
    ok = opps["amount"].notna() & (opps["amount"] > 0)
    used = opps[ok]
    if used.empty:
        raise ValueError("no deal has an amount above 0")
    factors = [a for a in VALUE_FACTORS if a in crm.attributes]
    design, columns = _design(used, factors)
    y = np.log(used["amount"].to_numpy(dtype=float))
    known = ~np.isnan(design).any(axis=1)
    beta, se = _least_squares(design[known], y[known])
    multipliers: dict[str, dict[str, float]] = {}
    estimates = []
    for (attr, value), b, s in zip(columns[1:], beta[1:], se[1:], strict=True):
        multipliers.setdefault(attr, {})[value] = float(f"{math.exp(b):.4g}")
        n = int((used[attr] == value).sum())
        estimates.append(Estimate(
            f"deal_value.multipliers.{attr}.{value}", f"deal value factor of {attr} {value}",
            math.exp(b), math.exp(b - Z95 * s), math.exp(b + Z95 * s), n,
            "exp of the log-amount regression coefficient"))
    offset = np.nan_to_num(design[:, 1:]) @ beta[1:]
    normalised = used["amount"].to_numpy(dtype=float) / np.exp(offset)
    fit, est = _base(normalised)
    estimates.append(est)
    return ValueFit(fit[0], multipliers, fit[1], fit[2], normalised, len(used)), estimates


def _design(used: pd.DataFrame, factors: list[str]) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """Intercept and one dummy per non-reference value; NaN rows where a value is missing."""
    columns: list[tuple[str, str]] = [("", "")]
    blocks = [np.ones((len(used), 1))]
    for attr in factors:
        col = used[attr]
        counts = col.value_counts()
        if len(counts) < 2:
            continue
        for value in sorted(counts.index[1:]):
            block = (col == value).to_numpy(dtype=float)
            block[col.isna().to_numpy()] = np.nan
            blocks.append(block[:, None])
            columns.append((attr, str(value)))
    return np.hstack(blocks), columns


def _least_squares(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ beta
    dof = max(len(y) - x.shape[1], 1)
    sigma2 = float(resid @ resid) / dof
    cov = sigma2 * np.linalg.pinv(x.T @ x)
    return beta, np.sqrt(np.maximum(np.diag(cov), 0.0))


def _base(values: np.ndarray) -> tuple[tuple[dict[str, Any], str, dict[str, float]], Estimate]:
    logs = np.log(values)
    mu, s = float(np.mean(logs)), float(np.std(logs))
    ll_lognormal = float(np.sum(stats.lognorm.logpdf(values, s=s, scale=math.exp(mu))))
    a, _, scale = stats.gamma.fit(values, floc=0)
    ll_gamma = float(np.sum(stats.gamma.logpdf(values, a, scale=scale)))
    aic = {"lognormal": 4 - 2 * ll_lognormal, "gamma": 4 - 2 * ll_gamma}
    if aic["lognormal"] <= aic["gamma"]:
        family, mean, sd = "lognormal", math.exp(mu + s * s / 2), math.exp(mu + s * s / 2) * (
            math.sqrt(math.expm1(s * s)))
    else:
        family, mean, sd = "gamma", a * scale, math.sqrt(a) * scale
    n = len(values)
    half = Z95 * float(np.std(values, ddof=1)) / math.sqrt(n)
    est = Estimate("deal_value.distribution.mean", "mean deal value before factors", mean,
                   mean - half, mean + half, n,
                   f"{family} by maximum likelihood (lower AIC than "
                   f"{'gamma' if family == 'lognormal' else 'lognormal'}), t interval")
    dist = {"dist": family, "mean": float(f"{mean:.4g}"), "sd": float(f"{sd:.4g}")}
    return (dist, family, aic), est
