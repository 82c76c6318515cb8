"""One estimated number and where it came from: the provenance written beside it.

Every number the calibration writes into a scenario is an ``Estimate`` (from the data,
with its sample size, interval and method) or an assumption (from the mapping, or the
calibration's stated default, for what the data cannot tell).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
from scipy import stats

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Estimate:
    """A number estimated from the data.

    Attributes:
        path: Its key path in the scenario (``channels.web.leads_per_day``).
        what: What it is, in words.
        value: The estimate, in the unit of the key.
        ci_low: Lower end of its 95 % interval (NaN where there is none).
        ci_high: Upper end.
        n: How many deals (or days, or durations) it rests on.
        method: How it was estimated.
    """

    path: str
    what: str
    value: float
    ci_low: float
    ci_high: float
    n: int
    method: str

    def comment(self) -> str:
        """The YAML comment: value's interval, n and method."""
        interval = ("" if math.isnan(self.ci_low)
                    else f"95% {_fmt(self.ci_low)} to {_fmt(self.ci_high)}, ")
        return f"{interval}n={self.n:,}, {self.method}"


def _fmt(x: float) -> str:
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:,.0f}"


def table(estimates: list[Estimate]) -> pd.DataFrame:
    """Estimates as a DataFrame indexed by key path."""
    df = pd.DataFrame([e.__dict__ for e in estimates],
                      columns=["path", "what", "value", "ci_low", "ci_high", "n", "method"])
    return df.set_index("path")


def poisson_rate(count: int, exposure: float) -> tuple[float, float, float]:
    """Rate per unit of exposure with its exact (Garwood) 95 % interval."""
    low = stats.chi2.ppf(0.025, 2 * count) / 2 if count > 0 else 0.0
    high = stats.chi2.ppf(0.975, 2 * count + 2) / 2
    return count / exposure, float(low) / exposure, float(high) / exposure


def wilson(successes: float, n: float) -> tuple[float, float, float]:
    """A share with its Wilson 95 % interval."""
    if n <= 0:
        return math.nan, math.nan, math.nan
    p = successes / n
    z2 = Z95 * Z95
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return p, max(0.0, centre - half), min(1.0, centre + half)
