"""Distributions: moments agree with their inverse CDF; bad parameters are refused.

The moment checks draw a large sample by inverse transform, ``ppf(uniforms)``, and
compare the sample mean and variance with ``mean()`` and ``variance()`` within five
standard errors estimated from the same sample (the sample's own second and fourth
central moments), so the tolerance follows the distribution instead of being guessed.
The seed is fixed, so the test is deterministic; with five standard errors a correct
implementation would fail for fewer than one seed in a million.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter
from scipy import stats

import salessim as ss
from salessim.scenario.distributions import DIST_NAMES, Distribution

ROOT = Path(__file__).resolve().parents[2]
BASE = yaml.safe_load((ROOT / "scenarios" / "regional.yaml").read_text(encoding="utf-8"))
ADAPTER: TypeAdapter[Any] = TypeAdapter(Distribution)
N = 400_000
Z = 5.0

CASES: list[dict[str, Any]] = [
    {"dist": "fixed", "value": 0},
    {"dist": "fixed", "value": 3.5},
    {"dist": "uniform", "low": 2, "high": 5},
    {"dist": "uniform", "low": 4, "high": 4},
    {"dist": "triangular", "low": 0.2, "mode": 0.4, "high": 1.0},
    {"dist": "triangular", "low": 1, "mode": 1, "high": 3},
    {"dist": "triangular", "low": 1, "mode": 3, "high": 3},
    {"dist": "triangular", "low": 2, "mode": 2, "high": 2},
    {"dist": "exponential", "mean": 1.5},
    {"dist": "exponential", "mean": 0.01},
    {"dist": "normal", "mean": 10, "sd": 2},  # truncation at 0 barely matters
    {"dist": "normal", "mean": 1, "sd": 2},  # heavily truncated
    {"dist": "normal", "mean": 0, "sd": 1},  # half-normal
    {"dist": "lognormal", "mean": 12000, "sd": 7000},
    {"dist": "lognormal", "mean": 3, "sd": 1.5},
    {"dist": "gamma", "mean": 7, "sd": 3},
    {"dist": "gamma", "mean": 1, "sd": 2},  # shape 0.25: most mass near 0
    {"dist": "empirical", "values": [1, 2, 10]},
    {"dist": "empirical", "values": [0, 5, 7, 7], "weights": [1, 0, 2, 1]},
    {"dist": "empirical", "values": [4]},
]


def ident(case: dict[str, Any]) -> str:
    return "-".join(str(v) for v in case.values())


def build(case: dict[str, Any]) -> Any:
    return ADAPTER.validate_python(case)


def test_every_distribution_is_covered() -> None:
    assert {c["dist"] for c in CASES} == set(DIST_NAMES)


@pytest.mark.parametrize("case", CASES, ids=ident)
def test_mean_and_variance_match_a_large_sample(case: dict[str, Any]) -> None:
    d = build(case)
    u = np.random.default_rng(20240611).random(N)
    x = d.ppf(u)
    assert x.shape == u.shape and np.all(np.isfinite(x))
    mean, var = d.mean(), d.variance()
    centred = x - x.mean()
    m2 = float(np.mean(centred**2))
    m4 = float(np.mean(centred**4))
    if m2 == 0.0:  # a constant: everything must be exact
        assert var == pytest.approx(0.0, abs=1e-12)
        assert x.mean() == pytest.approx(mean, abs=1e-12)
        return
    se_mean = math.sqrt(m2 / N)
    se_var = math.sqrt(max(m4 - m2**2, 0.0) / N)
    assert abs(x.mean() - mean) <= Z * se_mean, (x.mean(), mean, se_mean)
    assert abs(x.var(ddof=1) - var) <= Z * se_var, (x.var(ddof=1), var, se_var)


@pytest.mark.parametrize(
    ("case", "reference"),
    [
        ({"dist": "uniform", "low": 2, "high": 5}, stats.uniform(2, 3)),
        ({"dist": "triangular", "low": 1, "mode": 2, "high": 5}, stats.triang(0.25, 1, 4)),
        ({"dist": "exponential", "mean": 1.5}, stats.expon(scale=1.5)),
        ({"dist": "gamma", "mean": 7, "sd": 3}, stats.gamma(49 / 9, scale=9 / 7)),
        ({"dist": "normal", "mean": 1, "sd": 2}, stats.truncnorm(-0.5, np.inf, 1, 2)),
    ],
    ids=lambda v: v["dist"] if isinstance(v, dict) else "",
)
def test_moments_and_ppf_agree_with_scipy(case: dict[str, Any], reference: Any) -> None:
    d = build(case)
    assert d.mean() == pytest.approx(reference.mean(), rel=1e-9)
    assert d.variance() == pytest.approx(reference.var(), rel=1e-9)
    u = np.linspace(0.001, 0.999, 99)
    assert np.allclose(d.ppf(u), reference.ppf(u), rtol=1e-7)


def test_lognormal_matches_scipy_in_its_own_terms() -> None:
    d = build({"dist": "lognormal", "mean": 3, "sd": 1.5})
    sigma2 = math.log1p((1.5 / 3) ** 2)
    ref = stats.lognorm(math.sqrt(sigma2), scale=math.exp(math.log(3) - sigma2 / 2))
    assert ref.mean() == pytest.approx(3) and ref.std() == pytest.approx(1.5)
    u = np.linspace(0.001, 0.999, 99)
    assert np.allclose(d.ppf(u), ref.ppf(u), rtol=1e-9)


@pytest.mark.parametrize("case", CASES, ids=ident)
def test_ppf_is_monotone_and_non_negative(case: dict[str, Any]) -> None:
    d = build(case)
    u = np.concatenate([[0.0, 1e-12], np.linspace(1e-6, 1 - 1e-6, 20_001), [1 - 1e-12]])
    x = d.ppf(u)
    assert np.all(np.isfinite(x))
    assert np.all(x >= 0)
    assert np.all(np.diff(x) >= -1e-9 * np.maximum(1.0, np.abs(x[1:])))


positive = st.floats(min_value=1e-3, max_value=1e4)


@st.composite
def valid_params(draw: st.DrawFn) -> dict[str, Any]:
    name = draw(st.sampled_from(DIST_NAMES))
    if name == "fixed":
        return {"dist": name, "value": draw(positive)}
    if name in ("uniform", "triangular"):
        a, b, c = sorted(draw(positive) for _ in range(3))
        if name == "uniform":
            return {"dist": name, "low": a, "high": c}
        return {"dist": name, "low": a, "mode": b, "high": c}
    if name == "exponential":
        return {"dist": name, "mean": draw(positive)}
    if name == "empirical":
        values = sorted(draw(st.lists(positive, min_size=1, max_size=6)))
        weights = draw(st.lists(positive, min_size=len(values), max_size=len(values)))
        return {"dist": name, "values": values, "weights": weights}
    mean = draw(positive)
    return {"dist": name, "mean": mean, "sd": mean * draw(st.floats(0.05, 3.0))}


@settings(max_examples=60, deadline=None, database=None, derandomize=True)
@given(valid_params())
def test_random_valid_parameters_give_a_sane_ppf(case: dict[str, Any]) -> None:
    d = build(case)
    x = d.ppf(np.linspace(0.0005, 0.9995, 501))
    assert np.all(np.isfinite(x)) and np.all(x >= 0)
    assert np.all(np.diff(x) >= -1e-9 * np.maximum(1.0, np.abs(x[1:])))
    assert d.mean() >= 0
    # rounding may leave a degenerate distribution's variance a hair below zero (see below)
    assert d.variance() >= -1e-12 * max(1.0, d.mean() ** 2)
    assert math.isfinite(d.mean()) and math.isfinite(d.variance())


def test_triangular_variance_is_never_negative() -> None:
    d = build({"dist": "triangular", "low": 100.16280629545963, "mode": 100.16280629545963,
               "high": 100.16280629545963})
    assert d.variance() >= 0


def test_empirical_ppf_is_monotone_for_unsorted_values() -> None:
    d = build({"dist": "empirical", "values": [5, 1, 3]})
    x = d.ppf(np.linspace(0, 0.999, 1000))
    assert np.all(np.diff(x) >= 0)


# ---- invalid parameters, as a user meets them: inside a scenario -----------------------

INVALID: list[tuple[Any, str, str]] = [
    ({"dist": "fixed", "value": -1}, ".value", "must be 0 or more; got -1"),
    ({"dist": "fixed"}, ".value", "missing; a fixed distribution needs dist, value"),
    ({"dist": "uniform", "low": 5, "high": 2}, "", "uniform distribution: high (2.0) must be "
                                                  "at least low (5.0)"),
    ({"dist": "uniform", "low": -1, "high": 2}, ".low", "must be 0 or more"),
    ({"dist": "triangular", "low": 1, "mode": 5, "high": 3}, "",
     "triangular distribution: needs low <= mode <= high"),
    ({"dist": "exponential", "mean": 0}, ".mean", "must be more than 0; got 0"),
    ({"dist": "exponential", "mean": "soon"}, ".mean",
     "must be a number (more than 0); got 'soon'"),
    ({"dist": "exponential", "rate": 2}, ".rate", "unknown key 'rate'; an exponential "
                                                  "distribution takes: dist, mean"),
    ({"dist": "normal", "mean": 2, "sd": 0}, ".sd", "must be more than 0; got 0"),
    ({"dist": "normal", "mean": -2, "sd": 1}, ".mean", "must be 0 or more; got -2"),
    ({"dist": "lognormal", "mean": 0, "sd": 1}, ".mean", "must be more than 0"),
    ({"dist": "lognormal", "mean": 3, "sd": math.nan}, ".sd", "must be a finite number"),
    ({"dist": "gamma", "mean": 3, "sd": -1}, ".sd", "must be more than 0; got -1"),
    ({"dist": "empirical", "values": []}, ".values", "must have at least 1 item"),
    ({"dist": "empirical", "values": [1, -2]}, ".values[1]", "must be 0 or more; got -2"),
    ({"dist": "empirical", "values": [1, 2], "weights": [1]}, "",
     "empirical distribution: weights has 1 entries but values has 2"),
    ({"dist": "empirical", "values": [1, 2], "weights": [0, 0]}, "",
     "empirical distribution: weights must not all be zero"),
    ({"dist": "poisson", "mean": 2}, "", "unknown distribution 'poisson'; allowed dist values: "
                                         + ", ".join(DIST_NAMES)),
    ({"dist": "Normal", "mean": 2, "sd": 1}, "", "(did you mean 'normal'?)"),
    ({"mean": 2}, "", "needs a 'dist' key naming the distribution"),
    ("exponential", "", "must be a distribution such as {dist: exponential, mean: 2}"),
]


@pytest.mark.parametrize(("value", "suffix", "words"), INVALID,
                         ids=[f"{i}-{w[:30]}" for i, (_, _, w) in enumerate(INVALID)])
def test_invalid_parameters_are_refused_in_a_scenario(value: Any, suffix: str, words: str) -> None:
    doc = copy.deepcopy(BASE)
    doc["stages"][2]["effort_hours"] = value
    with pytest.raises(ss.ScenarioError) as info:
        ss.load_scenario(doc)
    path = "stages[2].effort_hours" + suffix
    lines = [line for line in str(info.value).splitlines()
             if line.startswith(f"<dict>: {path}: ")]
    assert len(lines) == 1, str(info.value)
    assert words in lines[0], lines[0]
