"""Every plot speaks the vocabulary: no code names in any text, nothing under 9 points."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text

import salessim as ss
from salessim import plots

from ..conftest import short

CODE = re.compile(r"_|\b(?:sdr|ae|se|north|central|south|solutions)\b")
"""What only code writes: underscores (``first_contact``, ``utilisation_ae``), role codes
and team names in lower case (``north.ae.10``, ``legal / legal`` would show as these)."""


@pytest.fixture(scope="module")
def cmp(regional: ss.Scenario) -> ss.Comparison:
    base = short(regional, 30.0)
    return ss.compare({"Today": base,
                       "One more SE": base.with_changes({"teams.solutions.se.headcount": 9})},
                      replications=2, seed=4, executor="serial", progress=False)


def _figures(cmp: ss.Comparison) -> dict[str, Callable[[], Figure]]:
    """Every plot function of ``salessim.plots``, called on real results."""
    res = cmp.results["Today"]
    table = cmp.table()
    lab = plots.Labels.of(res.scenario)
    return {
        "funnel": lambda: plots.funnel(res),
        "funnels": lambda: plots.funnels(cmp.results),
        "flow": lambda: plots.flow(res),
        "cycle_time": lambda: plots.cycle_time(res),
        "wip_over_time": lambda: plots.wip_over_time(res),
        "utilisation_role": lambda: plots.utilisation(res, "role"),
        "utilisation_team": lambda: plots.utilisation(res, "team"),
        "utilisation_rep": lambda: plots.utilisation(res, "rep"),
        "time_breakdown": lambda: plots.time_breakdown(res),
        "time_breakdowns": lambda: plots.time_breakdowns(cmp.results),
        "breakdown_team": lambda: plots.breakdown(res.breakdown("team"), "revenue"),
        "forest": lambda: plots.forest(table, labels=lab),
        "tradeoff": lambda: plots.tradeoff(table, "cycle_time_p90_days", "profit"),
        "tradeoff_diff": lambda: plots.tradeoff(table, "cost", "conversion_rate", "diff"),
    }


NAMES = ("funnel", "funnels", "flow", "cycle_time", "wip_over_time", "utilisation_role",
         "utilisation_team", "utilisation_rep", "time_breakdown", "time_breakdowns",
         "breakdown_team", "forest", "tradeoff", "tradeoff_diff")


def _texts(fig: Figure) -> list[Text]:
    fig.draw_without_rendering()  # tick labels exist once the figure is laid out
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


def test_every_plot_function_is_checked() -> None:
    public = {n for n, f in vars(plots).items() if inspect.isfunction(f)
              and f.__module__ == "salessim.plots" and not n.startswith("_")}
    called = {n.removesuffix("_role").removesuffix("_team").removesuffix("_rep")
              .removesuffix("_diff") for n in NAMES} - {"breakdown_team"} | {"breakdown"}
    assert public - {"figures", "scenario_colour", "flow_counts"} == called


@pytest.mark.parametrize("name", NAMES)
def test_plot_text_uses_the_vocabulary(cmp: ss.Comparison, name: str) -> None:
    _assert_plain(_texts(_figures(cmp)[name]()))


def _assert_plain(texts: list[Text]) -> str:
    """Check that no text is a code name or under ``SMALL_PT``; all the words, joined."""
    words = " | ".join(t.get_text() for t in texts)
    assert not [t.get_text() for t in texts if CODE.search(t.get_text())], words
    assert min(float(t.get_fontsize()) for t in texts) >= plots.SMALL_PT, words
    return words


def test_stage_and_role_labels_come_from_the_scenario(cmp: ss.Comparison) -> None:
    res = cmp.results["Today"]
    words = " | ".join(t.get_text() for t in _texts(plots.time_breakdown(res)))
    assert "First contact" in words and "Needs analysis" in words
    words = " | ".join(t.get_text() for t in _texts(plots.utilisation(res, "team")))
    assert "North: account executives" in words and "Legal: contract counsels" in words
    lab = plots.Labels.of(res.scenario)
    assert lab.kpi("utilisation_se") == "Utilisation of solution engineers"
    assert plots.Labels().role("sdr", plural=True) == "Sdrs"  # no title: the name in words


@pytest.fixture(scope="module")
def plan(regional: ss.Scenario) -> Any:
    """A tiny search over a headcount, a choice and a number, with two objectives."""
    from salessim.optimise import optimise

    return optimise(short(regional, 30.0),
                    {"teams.north.ae.headcount": range(6, 9),
                     "roles.ae.assignment": ["owner", "pooled"],
                     "stages.contract.effort_hours.value": {"low": 2.0, "high": 4.0}},
                    objective=["profit", "cycle_time_p90_days"], trials=6, replications=2,
                    seed=1, executor="serial", first_stage=2, candidates=2,
                    max_replications=4, progress=False)


@pytest.mark.parametrize("name", ["tornado", "progress", "frontier"])
def test_optimiser_plots_use_the_vocabulary(plan: Any, name: str) -> None:
    from salessim.optimise import plots as optimise_plots

    fig = {"tornado": lambda: optimise_plots.tornado(plan),
           "progress": lambda: optimise_plots.progress(plan),
           "frontier": lambda: optimise_plots.frontier(plan, "profit", "cycle_time_p90_days"),
           }[name]()
    words = _assert_plain(_texts(fig))
    if name == "tornado":  # levers by their words: role, team and field, not key paths
        assert "Account executives in North (headcount): 7 → " in words, words
        assert "Account executive assignment: " in words, words


def test_a_lever_path_reads_as_words(regional: ss.Scenario) -> None:
    from salessim.optimise.plots import lever_words

    lab = plots.Labels.of(regional)
    assert lever_words("teams.solutions.reps.se.headcount", lab) == (
        "Solution engineers in Solutions (headcount)")
    assert lever_words("roles.se.dispatch", lab) == "Solution engineer dispatch"
    assert lever_words("stages.contract.effort_hours.value", lab) == (
        "Stage Contract, effort (hours)")
