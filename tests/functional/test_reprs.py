"""Results, comparisons and sweeps print as a line and show in a notebook as a small table."""

from __future__ import annotations

import math
import re

import pytest

import salessim as ss

from ..conftest import SCENARIOS

SHORT = {"calendar.horizon_days": 40, "calendar.warmup_days": 10,
         "calendar.drain_limit_days": 40}
"""A month of the regional organisation: enough leads for every headline KPI."""


@pytest.fixture(scope="module")
def sweep() -> ss.Sweep:
    base = ss.load_scenario(SCENARIOS / "regional.yaml").with_changes(SHORT)
    return ss.sweep(base, grid={"teams.solutions.se.headcount": [6, 7, 9, 10, 11, 12],
                                "teams.legal.legal.headcount": [1, 2]},
                    replications=2, seed=4, executor="serial", progress=False)


def test_reprs_are_one_short_line(sweep: ss.Sweep) -> None:
    cmp = sweep.comparison
    for shown in (cmp.results["baseline"], cmp, sweep):
        text = repr(shown)
        assert "\n" not in text and len(text) < 1000, text
    assert repr(sweep) == ("<Sweep of 12 points over teams.solutions.se.headcount, "
                           "teams.legal.legal.headcount, seed 4, 2 replications>")
    assert repr(cmp).startswith("<Comparison of 13 scenarios, seed 4, 2 replications: "
                                "baseline 'baseline' against ")
    assert repr(cmp).endswith(" and 7 more>")


def _cells(table: str) -> list[str]:
    return re.findall(r"<t[dh][^>]*>([^<]*)</t[dh]>", table)


def test_results_show_their_headline_kpis_in_words_with_intervals(sweep: ss.Sweep) -> None:
    res = sweep.comparison.results["baseline"]
    table = res._repr_html_()
    cells = _cells(table)
    summary = res.summary()
    assert cells[:3] == ["KPI", "mean", "95% interval"]
    won = cells.index("Deals won")
    assert cells[won + 1] == str(math.floor(summary.at["won", "mean"] + 0.5))  # whole deals
    assert "Cycle time, 90th percentile (working days)" in cells
    revenue = cells[cells.index("Revenue (EUR)") + 2]
    assert re.fullmatch(r"-?[\d.]+[kM]? \.\. -?[\d.]+[kM]?", revenue), revenue
    assert "_" not in "".join(cells)  # no code names


def test_a_comparison_shows_its_first_scenarios_against_the_baseline(sweep: ss.Sweep) -> None:
    table = sweep._repr_html_()
    cells = _cells(table)
    assert "Sweep of 12 points against the base: 2 replications, seed 4 (7 more not shown)" \
        in table
    header = cells[:cells.index("Leads counted")]
    assert header[:2] == ["KPI", "baseline"] and len(header) == 7  # 6 scenarios
    cost = cells[cells.index("Cost (EUR)") + 2]  # the first point beside the baseline
    assert re.fullmatch(r"[\d.]+[kM], [+-][\d.,]+[kM]? \([+-][\d.,]+[kM]? \.\. "
                        r"[+-][\d.,]+[kM]?\)", cost), cost
