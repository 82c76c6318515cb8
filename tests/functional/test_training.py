"""Training: every shipped exercise is solvable, decisions are refused with what is
allowed, a game played in rounds scores exactly as its answer file, the CLI."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest

import salessim as ss
import salessim.training.scoring
from salessim.cli import main
from salessim.formatting import money
from salessim.scenario import ScenarioError
from salessim.scenario.loader import read_answer
from salessim.training import Decision, Exercise, Score, Session, baseline, check_answer, plan
from salessim.training.debrief import effect_lines, goal_lines, outcome
from salessim.training.session import check_decisions, reference

from ..conftest import EXERCISES
from ..training_support import small_exercise

SENSIBLE: dict[str, list[dict[str, Any]]] = {
    "01-find-the-bottleneck": [{"day": 0, "lever": "legal", "value": 2}],
    "02-fix-a-handoff": [{"day": 0, "lever": "handoff", "value": "iron_triangle"}],
    "03-structure-for-a-new-product-line": [
        {"day": 0, "lever": "structure", "value": "hybrid"}],
    "04-recover-from-a-surge": [
        {"day": 0, "lever": "sdr_dispatch", "value": "grade"},
        {"day": 0, "lever": "ae_dispatch", "value": "grade"}],
    "05-plan-a-years-hiring": [
        {"day": 0, "lever": "ae_north", "value": 10},
        {"day": 0, "lever": "ae_central", "value": 12},
        {"day": 0, "lever": "ae_south", "value": 9}],
    "06-keep-customers-coming-back": [
        {"day": 0, "lever": "kickoff", "value": "confirm_needs"}],
    "07-design-the-quarters-plan": [{"day": 0, "lever": "reviews", "value": "weekly"}],
}
"""A sensible answer to each shipped exercise, as a trainer would write it."""


def test_every_shipped_exercise_has_a_sensible_answer_here() -> None:
    assert sorted(p.stem for p in EXERCISES.glob("*.yaml")) == sorted(SENSIBLE)
    levels = [Exercise.load(EXERCISES / f"{name}.yaml").spec.level for name in sorted(SENSIBLE)]
    assert levels == sorted(levels) and set(levels) == {1, 2, 3, 4, 5}  # easy to hard


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SENSIBLE))
def test_exercise_is_solvable_and_doing_nothing_is_not(name: str) -> None:
    ex = Exercise.load(EXERCISES / f"{name}.yaml")
    base = baseline(ex)
    nothing = check_answer(ex, [], "nothing", base)
    assert not nothing.met
    assert nothing.points < 50
    good = check_answer(ex, [Decision(**d) for d in SENSIBLE[name]], "sensible", base)
    assert good.met, [(c.target.text, c.value, c.bound) for c in good.checks]
    assert good.points >= 60
    assert good.objective_value > good.baseline_value if good.objective.direction == "higher" \
        else good.objective_value < good.baseline_value


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Exercise:
    return Exercise.load(small_exercise(tmp_path_factory.mktemp("ex")))


def test_an_answer_that_changes_nothing_scores_the_baseline_without_running_again(
        small: Exercise, monkeypatch: pytest.MonkeyPatch) -> None:
    base = baseline(small, executor="serial")
    spec = small.spec
    fresh = ss.run(small.scenario, replications=spec.replications, seed=spec.seed,
                   executor="serial", progress=False)
    assert fresh.kpis.equals(base.kpis)  # what a run of the empty answer gives
    runs: list[Any] = []
    monkeypatch.setattr(salessim.training.scoring, "run",
                        lambda *a, **k: runs.append(a) or pytest.fail("ran again"))
    nothing = check_answer(small, [], "nothing.yaml", base)
    assert runs == [] and nothing.spent == 0
    assert nothing.objective_value == nothing.baseline_value


def _refusals(ex: Exercise, decisions: list[dict[str, Any]]) -> list[str]:
    with pytest.raises(ScenarioError) as err:
        plan(ex, [Decision(**d) for d in decisions], "answer.yaml")
    assert str(err.value).startswith("answer.yaml: decisions[")
    return [f"{p.path}: {p.message}" for p in err.value.problems]


def test_refusals_say_what_is_allowed(small: Exercise) -> None:
    problems = _refusals(small, [
        {"day": 0, "lever": "lawyers", "value": 3},
        {"day": 0, "lever": "legal", "value": 5},
        {"day": 0, "lever": "se", "value": 7.5},
        {"day": 10, "lever": "dispatch", "value": "value"},
        {"day": 20, "lever": "structure", "value": "customer"},
        {"day": 0, "lever": "dispatch", "value": "fastest"},
    ])
    assert problems == [
        "decisions[0].lever: unknown lever 'lawyers'; this exercise's levers are: legal, se, "
        "dispatch, structure",
        "decisions[1].value: 5 is outside the bounds of legal (Contract counsels): allowed "
        "2 to 4",
        "decisions[2].value: se (Solution engineers) takes a whole number from 6 to 9; got 7.5",
        "decisions[5].value: unknown option 'fastest'; dispatch (Which contract legal takes "
        "next) can be: fifo, value",
        "decisions[3].day: decisions are made between rounds, on day 0, 20, 40 after the "
        "takeover (a round is 20 days); got day 10",
        "decisions[4].day: structure (Structure) can only be chosen at the start (day 0 "
        "after the takeover); got day 20",
    ]


def test_budget_and_one_value_per_day(small: Exercise) -> None:
    problems = _refusals(small, [{"day": 0, "lever": "legal", "value": 4},
                                 {"day": 20, "lever": "se", "value": 6},
                                 {"day": 20, "lever": "dispatch", "value": "value"},
                                 {"day": 20, "lever": "dispatch", "value": "fifo"}])
    assert problems == [
        "decisions[1]: se = 6 costs 24,000 EUR; with 24,000 EUR already spent that is "
        "48,000 EUR, over the budget of 30,000 EUR",
        "decisions[3]: dispatch is already set on day 20 by decisions[2]; a lever takes one "
        "value per day",
    ]


def test_plan_applies_levers_on_their_days_and_counts_costs(small: Exercise) -> None:
    chosen = plan(small, [Decision(day=20, lever="legal", value=3),
                          Decision(day=0, lever="dispatch", value="value"),
                          Decision(day=0, lever="structure", value="customer")], "a")
    assert chosen.spent == 12000 + 1000 + 5000
    assert "key_accounts" in {t.name for t in chosen.scenario.teams}  # from the first day
    assert chosen.rounds == ((20.0, {"roles.legal.dispatch": "value"}),
                             (40.0, {"teams.legal.legal.headcount": 3}))


@pytest.mark.slow
def test_lever_costs_count_in_cost_and_profit(small: Exercise) -> None:
    base = baseline(small)
    free = check_answer(small, [Decision(day=0, lever="dispatch", value="value")], "a", base)
    chosen = plan(small, [Decision(day=0, lever="dispatch", value="value")], "a")
    raw = ss.run(chosen.scenario, replications=2, seed=5, timeline=chosen.rounds).kpis.mean()
    assert free.table.at["cost", "answer"] == pytest.approx(raw["cost"] + 1000)
    assert free.table.at["profit", "answer"] == pytest.approx(raw["profit"] - 1000)
    assert free.spent == 1000


@pytest.mark.slow
def test_nothing_decided_is_the_baseline(small: Exercise) -> None:
    base = baseline(small)
    same = check_answer(small, [], "nothing", base)
    assert (same.table["diff"].abs() < 1e-9).all()
    assert same.table.at["profit", "diff_ci_low"] == 0


@pytest.mark.slow
def test_session_scores_exactly_as_its_answer_file(small: Exercise, tmp_path: Path) -> None:
    game = Session(small)
    assert (game.round, game.rounds, game.day) == (0, 3, 0.0)
    game.decide({"structure": "customer", "legal": 3})
    game.decide({"legal": 2})  # changed her mind before playing: no decision, no cost
    assert game.pending_cost == 5000
    game.play()
    assert game.round == 1 and game.day == 20 and game.spent == 5000
    pools = game.pools()
    assert "key_accounts" in pools.index.get_level_values("team")
    assert set(game.pipeline().columns) >= {"waiting for a rep"}
    so_far = game.kpis()
    assert 0 < so_far["leads"] < game.results().kpis["leads"].max() + 1
    game.decide({"legal": 3, "dispatch": "value"})
    game.play()
    game.play()
    assert game.finished
    base = baseline(small)
    score = game.score(base)
    file = tmp_path / "answer.yaml"
    file.write_text(game.answer("Ann"), encoding="utf-8")
    answer = read_answer(file)
    assert answer.trainee == "Ann"
    replay = check_answer(small, answer.decisions, str(file), base)
    assert replay.points == score.points
    assert replay.table.equals(score.table)
    assert replay.spent == score.spent == 5000 + 12000 + 1000


@pytest.mark.slow
def test_session_refuses_bad_values_and_keeps_its_state(small: Exercise) -> None:
    game = Session(small)
    game.decide({"legal": 3})
    with pytest.raises(ScenarioError, match=r"^day 0: se: 12 is outside the bounds"):
        game.decide({"se": 12, "dispatch": "value"})
    assert game.values["legal"] == 3 and game.values["dispatch"] == "fifo"
    with pytest.raises(ScenarioError, match="over the budget of 30,000 EUR"):
        game.decide({"se": 6})
    assert game.values["se"] == 8
    game.play()
    game.decide({"structure": "regional", "legal": 3})  # as they are: no decision
    with pytest.raises(ScenarioError, match="can only be chosen at the start"):
        game.decide({"structure": "customer"})
    with pytest.raises(ValueError, match="rounds are left to play"):
        game.score(baseline(small))


@pytest.mark.slow
def test_cli_show_and_check_one_answer(small: Exercise, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["exercise", "show", small.source]) == 0
    shown = capsys.readouterr().out
    assert "Small test exercise (level 1 of 5)" in shown
    assert "- legal: Contract counsels; 2 to 4, 2 at the start; 12.0k EUR per unit moved" \
        in shown
    answer = tmp_path / "a.yaml"
    answer.write_text("decisions: [{day: 0, lever: legal, value: 3}]\n", encoding="utf-8")
    assert main(["exercise", "check", small.source, str(answer)]) == 0
    out = capsys.readouterr().out
    expected = check_answer(small, read_answer(answer).decisions, "a")
    assert f"Score {expected.points}/100" in out
    # One clock named twice: the run's, as the charts count, and the answer file's.
    takeover = f"{small.takeover_day:g}"
    assert (f"day {takeover} of the run (answer file: day 0): Contract counsels: 3 (lever "
            "legal)") in out
    assert f"its day 0 is day {takeover} of the run" in out
    assert "Legal was the bottleneck." in out
    table = out[out.index("Every KPI"):out.index("Debrief:")]
    assert "Utilisation of contract counsels" in table and "Cycle time, 90th percentile" in table
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", table), table  # no KPI by its code name


@pytest.mark.slow
def test_cli_scores_a_folder_and_refuses_bad_answers(small: Exercise, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "answers"
    folder.mkdir()
    (folder / "ann.yaml").write_text("trainee: Ann\ndecisions: [{day: 0, lever: legal, "
                                     "value: 3}]\n", encoding="utf-8")
    (folder / "bob.yaml").write_text("trainee: Bob\ndecisions: []\n", encoding="utf-8")
    (folder / "eve.yaml").write_text("decisions: [{day: 0, lever: legal, value: 9}]\n",
                                     encoding="utf-8")
    status = main(["exercise", "check", small.source, str(folder), "--format", "csv"])
    out, err = capsys.readouterr()
    assert status == 2  # one answer was refused; the others are scored
    assert err.strip() == (f"{folder / 'eve.yaml'}: decisions[0].value: 9 is outside the "
                           "bounds of legal (Contract counsels): allowed 2 to 4")
    lines = out.splitlines()
    assert lines[0] == "answer,trainee,points,goal_met,profit,lever_costs,cycle_time_p90_days"
    assert [line.split(",")[:2] for line in lines[1:]] == [["ann.yaml", "Ann"],
                                                           ["bob.yaml", "Bob"]]
    assert main(["exercise", "check", small.source, str(folder / "ann.yaml"),
                 str(folder / "bob.yaml")]) == 0
    table = capsys.readouterr().out
    assert "2 answers" in table and table.index("Ann") < table.index("Bob")
    header = next(line for line in table.splitlines() if line.startswith("answer"))
    assert "Profit (EUR)" in header and "lever costs (EUR)" in header  # words, with units
    assert "cycle_time" not in table and "lever_costs" not in table


def test_cli_single_bad_answer_is_one_message_per_problem(
        small: Exercise, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    answer = tmp_path / "a.yaml"
    answer.write_text("decisions: [{day: 0, lever: lawyers, value: 3}, "
                      "{day: 0, lever: se, value: 20}]\n", encoding="utf-8")
    assert main(["exercise", "check", small.source, str(answer)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        f"{answer}: decisions[0].lever: unknown lever 'lawyers'; this exercise's levers are: "
        "legal, se, dispatch, structure",
        f"{answer}: decisions[1].value: 20 is outside the bounds of se (Solution engineers): "
        "allowed 6 to 9"]


# ---- what a trainee reads: the goal with its numbers, the points, what the decisions did

@pytest.fixture(scope="module")
def small_base(small: Exercise) -> ss.Results:
    return baseline(small, executor="serial")


@pytest.fixture(scope="module")
def hired(small: Exercise, small_base: ss.Results) -> Score:
    """A counsel more at the start: the goal is not met, profit moves within chance."""
    return check_answer(small, [Decision(day=0, lever="legal", value=3)], "a", small_base,
                        executor="serial")


def test_the_untouched_game_is_the_baseline_and_the_state_before_each_round(
        small: Exercise, small_base: ss.Results) -> None:
    untouched = reference(small)
    assert untouched.baseline.equals(small_base.kpis.mean())  # the goal's numbers
    assert untouched.results.kpis.equals(small_base.kpis)  # what scores a game
    assert len(untouched.so_far) == 3  # one a round, before it is played
    assert untouched.so_far[0].equals(Session(small).kpis())
    assert untouched.so_far[1]["leads"] > untouched.so_far[0]["leads"]


def test_the_goal_is_in_words_with_its_numbers(small: Exercise,
                                               small_base: ss.Results) -> None:
    p90 = small_base.kpis["cycle_time_p90_days"].mean()
    profit = small_base.kpis["profit"].mean()
    lines = goal_lines(small, small_base.kpis.mean())
    assert lines[0] == ("- Cycle time, 90th percentile: at most 90% of the baseline's, i.e. "
                        f"≤ {0.9 * p90:.1f} working days")
    assert lines[1] == ("- Then: Profit as high as you can: full marks at 103% of the "
                        f"baseline's, i.e. {money(1.03 * profit, 'EUR')} (the baseline: "
                        f"{money(profit, 'EUR')})")
    assert goal_lines(small)[0] == ("- Cycle time, 90th percentile: at most 90% of the "
                                    "baseline's")  # before the baseline is known


def test_the_points_are_the_goals_and_the_objectives(small: Exercise, hired: Score) -> None:
    met = sum(c.met for c in hired.checks)
    assert hired.goal_points == 50 * met / len(hired.checks)
    assert hired.points == round(hired.goal_points + hired.objective_points)
    assert hired.decisions == (Decision(day=0, lever="legal", value=3),)
    said = outcome(small, hired)
    assert said.startswith("Goal not met: 0 of 50 points. The conditions share them "
                           "equally; 0 of 1 met:\n- not met: Cycle time, 90th percentile")
    assert "Profit: 0 of 50 points: the objective counts only once every condition is met" \
        in said
    assert "You set Contract counsels from 2 to 3, at the start (12.0k EUR)." in said


def _with_profit_difference(score: Score, low: float, high: float) -> Score:
    table = score.table.copy()
    table.loc["profit", ["diff", "diff_ci_low", "diff_ci_high"]] = [(low + high) / 2, low,
                                                                    high]
    return dataclasses.replace(score, table=table)


def test_the_debrief_says_whether_the_decisions_helped_did_harm_or_nothing(
        small: Exercise, hired: Score) -> None:
    helped = effect_lines(small, _with_profit_difference(hired, 10_000, 30_000))
    harm = effect_lines(small, _with_profit_difference(hired, -30_000, -10_000))
    unclear = effect_lines(small, _with_profit_difference(hired, -30_000, 10_000))
    nothing = effect_lines(small, dataclasses.replace(hired, decisions=()))
    assert "Your decisions helped: profit is clearly better than the baseline's." in helped
    assert "- Profit +20.0k EUR (+10.0k .. +30.0k): clearly better" in helped
    assert "Your decisions did harm: profit is clearly worse than the baseline's." in harm
    assert "- Profit -20.0k EUR (-30.0k .. -10.0k): clearly worse" in harm
    assert unclear[3].startswith("Your decisions made no clear difference to profit")
    assert "- Profit -10.0k EUR (-30.0k .. +10.0k): no clear change" in unclear
    assert nothing[-1].startswith("You changed nothing")
    assert len({tuple(helped), tuple(harm), tuple(unclear), tuple(nothing)}) == 4


def test_the_page_checks_values_as_the_game_does(small: Exercise) -> None:
    assert check_decisions(small, small.start, 0.0, 0.0, {"legal": 3.0, "se": 8.0}) == \
        {"legal": 3}  # a whole number; se as it is is no decision
    with pytest.raises(ScenarioError, match="legal: 9 is outside the bounds"):
        check_decisions(small, small.start, 0.0, 0.0, {"legal": 9})
    with pytest.raises(ScenarioError, match="with 24,000 EUR already spent"):
        check_decisions(small, {**small.start, "legal": 4}, 24_000.0, 20.0, {"se": 7.0})


def test_reprs_are_short_and_their_html_is_a_table_in_words(small: Exercise,
                                                            hired: Score) -> None:
    game = Session(small)
    for shown in (hired, game):
        assert len(repr(shown)) < 300
    assert repr(hired).startswith("<Score 0/100: goal not met; profit ")
    assert repr(game) == ("<Session of 'Small test exercise': round 1 of 3, day 0; "
                          "0 decisions, budget left 30.0k EUR>")
    score_html = hired._repr_html_()
    assert "Cycle time, 90th percentile (working days)" in score_html
    assert "cycle_time" not in score_html and len(score_html) < 10_000
    assert "Leads counted" in game._repr_html_()
