"""The report's summary in words: verdicts by direction, changes as sentences, warnings."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import salessim as ss
from salessim import briefing
from salessim.formatting import fmt_range
from salessim.plots import Labels

from ..conftest import SCENARIOS


@pytest.mark.parametrize("kpi, diff, low, high, word", [
    ("profit", 10.0, 2.0, 18.0, "better"),
    ("profit", -10.0, -18.0, -2.0, "worse"),
    ("cost", -10.0, -18.0, -2.0, "better"),  # less cost is better: the sign does not decide
    ("cost", 10.0, 2.0, 18.0, "worse"),
    ("cycle_time_p90_days", -1.0, -3.0, 1.0, "within chance"),
    ("utilisation_ae", 0.05, 0.01, 0.09, ""),  # no better direction
    ("profit", 0.0, math.nan, math.nan, "same"),  # the baseline itself
])
def test_verdict_follows_the_kpis_direction(kpi: str, diff: float, low: float, high: float,
                                             word: str) -> None:
    said = briefing.verdict(kpi, diff, low, high)
    assert said.word == word
    assert said.clear == (word in ("better", "worse") or kpi.startswith("utilisation"))


def _table(rows: dict[tuple[str, str], tuple[float, float, float]]) -> pd.DataFrame:
    """A comparison table from (kpi, scenario) -> (mean, diff low, diff high)."""
    records = []
    for (kpi, name), (mean, low, high) in rows.items():
        base = math.isnan(low)
        records.append({"kpi": kpi, "scenario": name, "mean": mean, "ci_low": mean - 1,
                        "ci_high": mean + 1, "diff": 0.0 if base else (low + high) / 2,
                        "diff_ci_low": low, "diff_ci_high": high})
    return pd.DataFrame(records).set_index(["kpi", "scenario"])


def test_goals_tradeoffs_and_the_warning_are_read_from_the_table() -> None:
    nan = np.nan
    table = _table({("profit", "A"): (100.0, nan, nan), ("profit", "B"): (130.0, 10.0, 50.0),
                    ("cost", "A"): (50.0, nan, nan), ("cost", "B"): (60.0, 5.0, 15.0),
                    ("conversion_rate", "A"): (0.03, nan, nan),
                    ("conversion_rate", "B"): (0.031, -0.002, 0.004)})
    lab = Labels()
    goals = briefing.goals(table, "A", ["profit", "cost", "conversion_rate"], "EUR", lab)
    assert [(g.kpi, g.best, g.reading) for g in goals] == [
        ("profit", "B", "clearly better"),
        ("cost", "A", "the baseline: no alternative does better"),
        ("conversion_rate", "B", "better on average, within chance")]
    assert goals[0].change == "+30 EUR (+10 .. +50)"
    assert briefing.tradeoffs(table, "A", "EUR", lab, 20) == [
        "B: better on profit (+30 EUR), at the price of cost (+10 EUR)."]
    warning = briefing.replication_warning(table, "A", ["conversion_rate", "profit"], 20, lab)
    # Half width 0.003 around 0.001: (0.003 / 0.001)^2 = 9 times the 20 replications.
    assert "conversion rate of B (about 180 replications)" in warning
    assert "profit" not in warning and "Only" not in warning
    assert briefing.replication_warning(table, "A", ["profit"], 5, lab).startswith(
        "Only 5 replications per scenario")


def test_changes_are_plain_sentences_without_names_or_defaults() -> None:
    base = ss.load_scenario(SCENARIOS / "regional.yaml")
    scenarios = {"Today": base,
                 "More SEs": ss.load_scenario(SCENARIOS / "changes/one-more-se.yaml"),
                 "Pre-review": ss.load_scenario(SCENARIOS / "changes/contract-pre-review.yaml")}
    said = briefing.change_sentences(scenarios, Labels.of(base))
    assert said == {
        "More SEs": ["Team Solutions, solution engineers, headcount: 9 instead of 8."],
        "Pre-review": ["Stage Contract, customer delay (days), mean: 2 instead of 7.",
                       "Stage Contract, customer delay (days), sd: 1 instead of 2.5."]}
    yaml_text = briefing.change_yaml(scenarios)["More SEs"]
    assert "teams.solutions.reps.se.headcount: 9" in yaml_text
    assert base.with_changes({"teams.solutions.reps.se.headcount": 9}).to_document()[
        "teams"] == scenarios["More SEs"].to_document()["teams"]


def test_a_whole_part_is_said_by_what_it_sets() -> None:
    group = {"headcount": 3, "skill_logit": 0.0, "plan": [], "hires": None,
             "ramp": {"dist": "gamma", "mean": 2, "sd": 1}}
    assert briefing.value_words(group) == "headcount 3, ramp gamma with mean 2 and sd 1"
    assert briefing.path_words("roles.ae.salary_per_day", Labels()) == (
        "Role Ae, salary (a day)")


def test_an_interval_of_days_has_one_precision() -> None:
    assert fmt_range("cycle_time_p90_days", -16.6, -7.26, sign=True) == "-16.6 .. -7.3"
    assert fmt_range("response_time_mean_days", -0.004, 0.0021, sign=True) == (
        "-0.004 .. +0.002")
    assert fmt_range("cycle_time_mean_days", 63.71, 67.24) == "63.7 .. 67.2"
    assert fmt_range("profit", -141_340.0, 571_176.0, sign=True) == "-141k .. +571k"


def test_a_lever_path_reads_the_same_with_or_without_reps() -> None:
    lab = Labels.of(ss.load_scenario(SCENARIOS / "regional.yaml"))
    for path in ("teams.north.ae.headcount", "teams.north.reps.ae.headcount"):
        assert briefing.path_words(path, lab) == "Team North, account executives, headcount"
