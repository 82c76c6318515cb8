"""Exercise and answer files: a bad one gets one line per problem with file, key path and
what is allowed; the engine-level checks (lever paths, what may change during a run,
goal KPIs) name the exercise's key path too."""

from __future__ import annotations

from pathlib import Path

import pytest

from salessim.scenario import ScenarioError
from salessim.scenario.loader import read_answer, read_exercise_spec
from salessim.training import Exercise

from ..training_support import SMALL_EXERCISE, small_exercise


def _problems(err: pytest.ExceptionInfo[ScenarioError]) -> list[str]:
    return [f"{p.path}: {p.message}" for p in err.value.problems]


def test_small_exercise_loads_with_resolved_scenarios(tmp_path: Path) -> None:
    ex = Exercise.load(small_exercise(tmp_path))
    assert ex.scenario.name == "Short regional year"
    assert ex.start == {"legal": 2, "se": 8, "dispatch": "fifo", "structure": "regional"}
    customer = ex.lever("structure").options["customer"].scenario  # type: ignore[index]
    assert customer is not None and {t.name for t in customer.teams} >= {"key_accounts"}
    # The option's structure carries the exercise's own changes (calendar, contract effort).
    assert customer.calendar.horizon_days == 80
    assert customer.stages[-1].effort_hours.mean() == pytest.approx(3.6)
    assert ex.round_starts == (0.0, 20.0, 40.0)
    assert [t.text for t in ex.targets] == ["cycle_time_p90_days <= 90% of baseline"]


@pytest.mark.parametrize(("old", "new", "path", "words"), [
    ("title: Small test exercise", "titel: Small", "titel", "did you mean 'title'"),
    ("replications: 2", "replications: 1", "replications", "between 2 and 100"),
    ("    min: 2\n    max: 4\n    cost_per_unit: 12000\n  - name: se",
     "    min: 5\n    max: 4\n    cost_per_unit: 12000\n  - name: se",
     "levers[0].max", "must be at least min"),
    ("  - name: se\n", "  - name: legal\n", "levers[1].name", "duplicate lever name"),
    ("maximise: profit", "maximise: cost", "goal.maximise", "use minimise: cost"),
    ("maximise: profit", "maximise: proft", "goal.maximise", "did you mean 'profit'"),
    ('["cycle_time_p90_days <= 90% of baseline"]', '["cycle time below 40"]',
     "goal.conditions[0]", "cannot read the condition"),
    ("excellent: 103% of baseline", "excellent: 97% of baseline", "goal.excellent",
     "not better than the baseline"),
    ("round_days: 20", "round_days: 70", "round_days", "at most the counted year"),
])
def test_bad_exercise_names_key_path(tmp_path: Path, old: str, new: str, path: str,
                                     words: str) -> None:
    assert old in SMALL_EXERCISE
    file = small_exercise(tmp_path, SMALL_EXERCISE.replace(old, new, 1))
    with pytest.raises(ScenarioError) as err:
        Exercise.load(file)
    assert str(err.value).startswith(str(file))
    assert any(p.startswith(f"{path}: ") and words in p for p in _problems(err)), _problems(err)


def test_lever_on_what_is_fixed_during_a_run_is_refused(tmp_path: Path) -> None:
    text = SMALL_EXERCISE.replace("path: teams.solutions.se.headcount",
                                  "path: channels.web.leads_per_day").replace(
        "    min: 6\n    max: 9", "    min: 10\n    max: 30")
    with pytest.raises(ScenarioError) as err:
        Exercise.load(small_exercise(tmp_path, text))
    assert any(p.startswith("levers[1].max: channels") and "cannot change during a run" in p
               and "only_at_start: true" in p for p in _problems(err)), _problems(err)


def test_lever_path_that_does_not_exist_says_which_step(tmp_path: Path) -> None:
    text = SMALL_EXERCISE.replace("path: teams.solutions.se.headcount",
                                  "path: teams.solution.se.headcount")
    with pytest.raises(ScenarioError) as err:
        Exercise.load(small_exercise(tmp_path, text))
    assert any(p.startswith("levers[1].path: ") and "did you mean 'solutions'" in p
               for p in _problems(err)), _problems(err)


def test_choice_lever_needs_one_option_that_leaves_the_scenario_as_it_is(tmp_path: Path
                                                                         ) -> None:
    text = SMALL_EXERCISE.replace("fifo: {changes: {roles.legal.dispatch: fifo}}",
                                  "grade: {changes: {roles.legal.dispatch: grade}}")
    with pytest.raises(ScenarioError) as err:
        Exercise.load(small_exercise(tmp_path, text))
    assert any(p.startswith("levers[2].options: exactly one option must leave the scenario")
               for p in _problems(err)), _problems(err)


def test_structure_option_must_be_chosen_at_the_start(tmp_path: Path) -> None:
    text = SMALL_EXERCISE.replace("    only_at_start: true\n", "")
    with pytest.raises(ScenarioError) as err:
        read_exercise_spec(small_exercise(tmp_path, text))
    assert any(p.startswith("levers[3].options.regional.extends: a whole structure")
               for p in _problems(err)), _problems(err)


def test_missing_scenario_file_and_bad_inline_scenario(tmp_path: Path) -> None:
    start = SMALL_EXERCISE.index("scenario:\n")
    end = SMALL_EXERCISE.index("round_days:")
    missing = SMALL_EXERCISE[:start] + "scenario: ../nowhere.yaml\n" + SMALL_EXERCISE[end:]
    with pytest.raises(ScenarioError) as err:
        read_exercise_spec(small_exercise(tmp_path, missing))
    assert _problems(err)[0].startswith("scenario: scenario file '../nowhere.yaml' not found")
    bad = SMALL_EXERCISE.replace("horizon_days: 80", "horizon_days: -80")
    with pytest.raises(ScenarioError) as err:
        read_exercise_spec(small_exercise(tmp_path, bad))
    assert any(p.startswith("scenario: calendar.horizon_days: ") for p in _problems(err))


@pytest.mark.parametrize(("text", "path", "words"), [
    ("- a list", "", "an answer file is a mapping"),
    ("decisions: [{day: 0, lever: legal, value: true}]", "decisions[0].value",
     "put an option's name in quotes"),
    ("decisions: [{day: 0, lever: legal, valeu: 3}]", "decisions[0].valeu",
     "did you mean 'value'"),
    ("decisions: [{day: -1, lever: legal, value: 3}]", "decisions[0].day", "0 or more"),
    ("trainee: Ann\ndecisions: [{day: 0, lever: legal, value: [3]}]", "decisions[0].value",
     "must be a number or an option's name"),
])
def test_malformed_answer_file(tmp_path: Path, text: str, path: str, words: str) -> None:
    file = tmp_path / "answer.yaml"
    file.write_text(text + "\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        read_answer(file)
    assert str(err.value).startswith(f"{file}: ")
    assert any(p.startswith(f"{path}: " if path else ": ") and words in p
               for p in _problems(err)), _problems(err)


def test_answer_file_reads_numbers_and_option_names(tmp_path: Path) -> None:
    file = tmp_path / "answer.yaml"
    file.write_text("trainee: Ann\ndecisions:\n  - {day: 20, lever: legal, value: 3}\n"
                    "  - {day: 0, lever: dispatch, value: value}\n", encoding="utf-8")
    answer = read_answer(file)
    assert answer.trainee == "Ann"
    assert [(d.day, d.lever, d.value) for d in answer.decisions] == [
        (20.0, "legal", 3), (0.0, "dispatch", "value")]
    assert isinstance(answer.decisions[0].value, int)
