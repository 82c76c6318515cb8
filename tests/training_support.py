"""A small exercise written as a file, quick enough for tests that play many games."""

from __future__ import annotations

from pathlib import Path

from .conftest import SCENARIOS

SMALL_EXERCISE = f"""\
schema_version: 1
title: Small test exercise
level: 1
brief: Contracts queue at legal.
scenario:
  extends: {SCENARIOS / "regional.yaml"}
  name: Short regional year
  calendar: {{horizon_days: 80, warmup_days: 20, drain_limit_days: 100}}
  teams:
    - name: legal
      reps:
        legal: {{headcount: 2}}
  stages:
    - name: contract
      effort_hours: {{dist: fixed, value: 3.6}}
round_days: 20
replications: 2
seed: 5
budget: 30000
levers:
  - name: legal
    label: Contract counsels
    path: teams.legal.legal.headcount
    min: 2
    max: 4
    cost_per_unit: 12000
  - name: se
    label: Solution engineers
    path: teams.solutions.se.headcount
    min: 6
    max: 9
    cost_per_unit: 12000
  - name: dispatch
    label: Which contract legal takes next
    options:
      fifo: {{changes: {{roles.legal.dispatch: fifo}}}}
      value: {{cost: 1000, changes: {{roles.legal.dispatch: value}}}}
  - name: structure
    label: Structure
    only_at_start: true
    options:
      regional: {{extends: {SCENARIOS / "regional.yaml"}}}
      customer: {{extends: {SCENARIOS / "customer.yaml"}, cost: 5000}}
goal:
  conditions: ["cycle_time_p90_days <= 90% of baseline"]
  maximise: profit
  excellent: 103% of baseline
debrief: Legal was the bottleneck.
"""


def small_exercise(folder: Path, text: str = SMALL_EXERCISE, name: str = "small.yaml") -> Path:
    """Write the small exercise (or ``text``) into ``folder``; returns its path."""
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path
