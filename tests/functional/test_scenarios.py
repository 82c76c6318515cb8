"""Every shipped scenario validates, runs, and keeps its accounting."""

from __future__ import annotations

from pathlib import Path

import pytest

import salessim as ss

from ..conftest import SCENARIOS, scenario_files, short

FILES = scenario_files()


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(SCENARIOS)) for p in FILES])
def test_scenario_runs(path: Path) -> None:
    sc = short(ss.load_scenario(path), 40.0)
    res = ss.run(sc, replications=2, seed=3)
    k = res.kpis
    assert (k["leads"] == k["won"] + k["lost"] + k["open"]).all()
    assert (k["won"] > 0).all(), "a shipped scenario should win some deals"
    for role in sc.roles:
        assert k[f"utilisation_{role.name}"].between(0, 1).all()


def test_there_are_example_scenarios() -> None:
    names = {p.name for p in FILES}
    assert {"regional.yaml", "product.yaml", "customer.yaml"} <= names
