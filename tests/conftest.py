"""Shared fixtures: the shipped scenarios, shortened so tests stay quick."""

from __future__ import annotations

from pathlib import Path

import pytest

import salessim as ss

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"


def short(sc: ss.Scenario, horizon_days: float = 60.0) -> ss.Scenario:
    """The same scenario with a shorter year, for tests that need many runs."""
    return sc.with_changes({"calendar.horizon_days": horizon_days,
                            "calendar.warmup_days": 5.0,
                            "calendar.drain_limit_days": 150.0})


@pytest.fixture(scope="session")
def regional() -> ss.Scenario:
    return ss.load_scenario(SCENARIOS / "regional.yaml")


@pytest.fixture(scope="session")
def regional_short(regional: ss.Scenario) -> ss.Scenario:
    return short(regional)
