"""Shared fixtures: the shipped scenarios, shortened so tests stay quick."""

from __future__ import annotations

from pathlib import Path

import pytest

import salessim as ss

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
EXERCISES = SCENARIOS / "exercises"
CRM = SCENARIOS / "crm"
LEVERS = SCENARIOS / "levers"


def scenario_files() -> list[Path]:
    """The shipped scenario files; training exercises are not scenarios (they name one),
    nor is the example CRM export's calibration mapping, nor a levers file."""
    return sorted(p for p in SCENARIOS.rglob("*.yaml")
                  if not {EXERCISES, CRM, LEVERS} & set(p.parents))


def short(sc: ss.Scenario, horizon_days: float = 60.0) -> ss.Scenario:
    """The same scenario with a shorter year, for tests that need many runs.

    The drain is long: an enterprise deal nurtured twice can take over a year to close.
    """
    return sc.with_changes({"calendar.horizon_days": horizon_days,
                            "calendar.warmup_days": 5.0,
                            "calendar.drain_limit_days": 400.0})


@pytest.fixture(scope="session")
def regional() -> ss.Scenario:
    return ss.load_scenario(SCENARIOS / "regional.yaml")


@pytest.fixture(scope="session")
def regional_short(regional: ss.Scenario) -> ss.Scenario:
    return short(regional)


@pytest.fixture(scope="session")
def small_file(tmp_path_factory: pytest.TempPathFactory, regional: ss.Scenario) -> Path:
    """A short regional scenario written as a file, as a user would have one."""
    path = tmp_path_factory.mktemp("sc") / "small.yaml"
    path.write_text(short(regional, 30.0).to_yaml(), encoding="utf-8")
    return path
