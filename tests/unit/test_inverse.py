"""One uniform converted alone gives the double its column converts to, for every distribution."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray
from pydantic import TypeAdapter

import salessim as ss
from salessim.model.draws import OneLead, deal_values, mix_indices
from salessim.model.inverse import ZERO, Inverse, exponential_gaps, inverse
from salessim.scenario.distributions import Distribution

DISTRIBUTIONS = [
    {"dist": "fixed", "value": 3.0},
    {"dist": "uniform", "low": 25, "high": 45},
    {"dist": "uniform", "low": 2, "high": 2},
    {"dist": "triangular", "low": 0.25, "mode": 0.5, "high": 1},
    {"dist": "triangular", "low": 1, "mode": 1, "high": 4},
    {"dist": "triangular", "low": 1, "mode": 4, "high": 4},
    {"dist": "triangular", "low": 2, "mode": 2, "high": 2},
    {"dist": "exponential", "mean": 5},
    {"dist": "normal", "mean": 3, "sd": 2},
    {"dist": "lognormal", "mean": 20, "sd": 10},
    {"dist": "gamma", "mean": 12, "sd": 5},
    {"dist": "gamma", "mean": 1, "sd": 3},
    {"dist": "empirical", "values": [3, 1, 2], "weights": [1, 2, 1]},
]


def _uniforms() -> NDArray[np.float64]:
    rng = np.random.default_rng(5)
    edges = np.array([0.0, 1e-300, 1e-12, 0.5, 1 - 2**-53, 0.25, 0.75])
    return np.concatenate([edges, rng.random(3000)])


@pytest.mark.parametrize("spec", DISTRIBUTIONS, ids=lambda d: str(list(d.values())))
@pytest.mark.parametrize("divisor", [None, 8.0])
def test_one_uniform_gives_the_columns_double(spec: dict[str, object],
                                              divisor: float | None) -> None:
    dist = TypeAdapter(Distribution).validate_python(spec)
    inv = inverse(dist, divisor)
    u = _uniforms()
    whole = inv(u)
    alone = np.array([inv.one(x) for x in u.tolist()])
    assert whole.tobytes() == alone.tobytes()


@pytest.mark.parametrize("inv", [ZERO, exponential_gaps(4 / 250)])
def test_zero_and_poisson_gaps_alike(inv: Inverse) -> None:
    u = _uniforms()
    assert inv(u).tobytes() == np.array([inv.one(x) for x in u.tolist()]).tobytes()


def test_one_lead_is_drawn_as_the_channels_leads_are() -> None:
    sc = ss.load_scenario("scenarios/lifecycle.yaml")
    one = OneLead(sc)
    u = _uniforms()[:120]
    for c, channel in enumerate(sc.channels):
        attributes: dict[str, NDArray[np.int64]] = {
            str(attr): mix_indices(sc, channel, attr, u) for attr in sc.deal_value.multipliers}
        values = deal_values(sc, attributes, u)
        for k, x in enumerate(u.tolist()):
            row: dict[str, int] = {attr: int(a[k]) for attr, a in attributes.items()}
            assert one.deal_value(row, x) == values[k]
            for attr in ("grade", "region", "product", "segment"):
                drawn = mix_indices(sc, channel, attr, u[k:k + 1])
                assert one.attribute(c, attr, x) == int(drawn[0])


def test_a_costly_first_attempt_column_read_row_by_row_is_the_whole_column() -> None:
    from salessim.model.draws import DeferredColumn, StageLayer, Uniforms, stage_columns
    from salessim.rng import Purpose, stream

    sc = ss.load_scenario("scenarios/regional.yaml")
    stage = next(st for st in sc.stages if st.customer_delay_days.dist == "gamma")
    columns = stage_columns(sc, stage)
    layer = StageLayer(Uniforms(stream(2, 0, Purpose.STAGE, 9), 500, 9, sparse=False),
                       columns, 0)
    assert isinstance(layer.customer_days, DeferredColumn)
    k, inv = columns["customer_days"]
    assert inv is not None
    whole = inv(np.ascontiguousarray(layer.u.full()[:, k]))
    assert [layer.customer_days[r] for r in range(500)] == whole.tolist()
