"""A broken scenario gets one clear message: the file, the key path, what is allowed.

Every case from the issue is covered here, asserting on the words a user reads; the
property tests at the end feed random and mutated documents to the loader and check that
each one either loads or raises ``ScenarioError`` with a clean message, never anything
else.
"""

from __future__ import annotations

import copy
import math
import pickle
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import salessim as ss
from salessim.scenario.distributions import DIST_NAMES
from salessim.scenario.limits import MAX_EXPECTED_LEADS, MAX_HORIZON_DAYS, MAX_NESTING

ROOT = Path(__file__).resolve().parents[2]
REGIONAL = ROOT / "scenarios" / "regional.yaml"
DATA = ROOT / "tests" / "data"
BAD = DATA / "bad"

FORBIDDEN = (
    "Traceback",
    "pydantic",
    "errors.pydantic.dev",
    "Input should",
    "Value error",
    "validation error",
    "[key]",
    "For further information",
    "Unable to",
)


def base_doc() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(REGIONAL.read_text(encoding="utf-8"))
    return doc


BASE = base_doc()


def assert_clean(err: ss.ScenarioError, source: str) -> str:
    """The message is one line per problem, each naming the source; no internals."""
    text = str(err)
    assert err.source == source
    lines = text.splitlines()
    assert lines, "empty message"
    assert len(lines) == min(len(err.problems), 30) + (len(err.problems) > 30)
    for line in lines:
        assert line.startswith(f"{source}: "), line
    for bad in FORBIDDEN:
        assert bad not in text, f"{bad!r} in message:\n{text}"
    return text


def fails(source: Any, expected_source: str = "<dict>") -> str:
    with pytest.raises(ss.ScenarioError) as info:
        ss.load_scenario(source)
    return assert_clean(info.value, expected_source)


def broken(change: Callable[[dict[str, Any]], object]) -> str:
    """Break one thing in the valid regional document; return the message."""
    doc = copy.deepcopy(BASE)
    change(doc)
    return fails(doc)


def problem_at(text: str, path: str) -> str:
    """The line reporting ``path`` (exactly that path)."""
    for line in text.splitlines():
        if line.split(": ", 2)[1:2] == [path]:
            return line
    raise AssertionError(f"no problem at {path!r} in:\n{text}")


def test_the_valid_base_loads() -> None:
    assert ss.load_scenario(copy.deepcopy(BASE)).name.startswith("Regional")


# ---- files that are not scenarios ----------------------------------------------------


@pytest.mark.parametrize("name", ["empty.yaml", "only_comment.yaml"])
def test_empty_file(name: str) -> None:
    path = BAD / name
    text = fails(path, str(path))
    assert "empty" in text
    assert "schema_version" in text  # says what a scenario looks like


def test_empty_text_and_empty_dict() -> None:
    assert "empty" in fails("", "<text>")
    assert "empty" in fails("   \n# nothing\n", "<text>")
    text = fails({})
    assert "required keys are missing" in text and "calendar" in text


def test_not_yaml_names_line_and_column() -> None:
    path = BAD / "not_yaml.yaml"
    text = fails(path, str(path))
    assert "not valid YAML" in text
    assert re.search(r"line 3, column \d+", text)
    assert "starts on line 2" in text


@pytest.mark.parametrize(
    "text",
    [
        "name: !!python/object/apply:os.system ['echo pwned']\n",
        "name: !!python/name:os.system\n",
        "name: !!python/object/new:collections.OrderedDict [[]]\n",
        "!!python/object:salessim.scenario.schema.Scenario {}\n",
        "name: !custom_tag x\n",
    ],
)
def test_tags_that_build_objects_are_refused(text: str) -> None:
    message = fails(text, "<text>")
    assert "is not allowed" in message and "plain data" in message
    assert "tag:yaml.org" not in message


def test_python_tag_in_file_is_refused_and_not_run(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.yaml"
    path.write_text(f"name: !!python/object/apply:os.system ['touch {marker}']\n")
    text = fails(path, str(path))
    assert "!!python/object/apply:os.system" in text
    assert not marker.exists()
    shipped = BAD / "python_tag.yaml"
    assert "line 1, column 7" in fails(shipped, str(shipped))


def test_duplicate_yaml_keys_refused_with_line_numbers() -> None:
    path = BAD / "duplicate_key.yaml"
    text = fails(path, str(path))
    assert "duplicate key 'horizon_days'" in text
    assert "line 6" in text and "first given on line 4" in text


@pytest.mark.parametrize(
    ("name", "kind"), [("a_list.yaml", "not a list"), ("a_scalar.yaml", "single piece of text")]
)
def test_file_that_is_not_a_mapping(name: str, kind: str) -> None:
    path = BAD / name
    text = fails(path, str(path))
    assert "must be a mapping of keys to values" in text and kind in text


@pytest.mark.parametrize(
    ("text", "kind"), [("42\n", "a number"), ("true\n", "true/false"), ("[1, 2]\n", "a list")]
)
def test_text_that_is_not_a_mapping(text: str, kind: str) -> None:
    assert kind in fails(text, "<text>")


def test_binary_garbage(tmp_path: Path) -> None:
    path = tmp_path / "garbage.yaml"
    path.write_bytes(bytes(range(256)) * 4)
    assert "binary file" in fails(path, str(path))


def test_control_characters_in_utf8_text(tmp_path: Path) -> None:
    path = tmp_path / "control.yaml"
    path.write_text("name: a\x07b\n", encoding="utf-8")
    assert "control character #x0007" in fails(path, str(path))


def test_non_utf8_bytes(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("schema_version: 1\nname: Vertrieb Süd\n".encode("latin-1"))
    text = fails(path, str(path))
    assert "line 2" in text and "not UTF-8" in text and "0xfc" in text


def test_missing_file_and_folder(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    assert "file not found" in fails(missing, str(missing))
    assert "file not found" in fails(str(missing), str(missing))
    assert "is a folder" in fails(tmp_path, str(tmp_path))


def test_a_word_that_is_neither_file_nor_scenario() -> None:
    text = fails("regional", "<text>")
    assert "no scenario file named 'regional'" in text


def test_bytes_are_read_as_text() -> None:
    assert ss.load_scenario(REGIONAL.read_bytes()) == ss.load_scenario(REGIONAL)
    assert "not UTF-8" in fails(b"name: \xff\n", "<text>")


def test_other_python_objects() -> None:
    assert "must be a mapping" in fails([1, 2], "<input>")
    assert "empty" in fails(None, "<input>")


def test_deeply_nested_yaml() -> None:
    text = "a:\n  " + "[" * 600 + "]" * 600 + "\n"
    assert f"nested more than {MAX_NESTING} levels deep" in fails(text, "<text>")


def test_billion_laughs_is_quick_and_short() -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    lines.append("calendar: *i")
    text = fails("\n".join(lines) + "\n", "<text>")
    assert len(text) < 5000
    assert "more than 1,000,000 values (anchors and aliases counted" in text


def test_unhashable_yaml_key() -> None:
    assert "a key must be a single word or number" in fails("? [a, b]\n: 1\n", "<text>")


# ---- unknown keys and wrong types -----------------------------------------------------


def test_unknown_key_did_you_mean_and_allowed_keys() -> None:
    text = broken(lambda d: d["calendar"].update(horizon_dys=100))
    line = problem_at(text, "calendar.horizon_dys")
    assert "unknown key 'horizon_dys'" in line
    assert "did you mean 'horizon_days'?" in line
    assert "allowed keys: horizon_days, warmup_days, drain_limit_days, hours_per_day" in line


def test_unknown_top_level_key() -> None:
    line = problem_at(broken(lambda d: d.update(chanels=[])), "chanels")
    assert "did you mean 'channels'?" in line


def test_misspelt_key_is_not_also_reported_missing() -> None:
    def rename(d: dict[str, Any]) -> None:
        d["stages"][0]["conversoin"] = d["stages"][0].pop("conversion")

    text = broken(rename)
    assert len(text.splitlines()) == 1
    assert "stages[0].conversoin" in text and "did you mean 'conversion'?" in text


def test_misspelt_key_in_a_real_file() -> None:
    path = BAD / "misspelt_key.yaml"
    text = fails(path, str(path))
    assert text.startswith(f"{path}: calendar.horizon_dys: unknown key 'horizon_dys'")
    assert "did you mean 'horizon_days'?" in text


def test_unknown_key_in_a_distribution() -> None:
    line = problem_at(
        broken(lambda d: d["stages"][1].update(
            effort_hours={"dist": "lognormal", "mean": 3, "sdd": 1})),
        "stages[1].effort_hours.sdd",
    )
    assert "did you mean 'sd'?" in line and "a lognormal distribution takes: dist, mean, sd" in line


def test_unknown_mix_attribute() -> None:
    def misspell(d: dict[str, Any]) -> None:
        d["channels"][0]["mix"]["regoin"] = d["channels"][0]["mix"].pop("region")

    text = broken(misspell)
    line = problem_at(text, "channels[0].mix.regoin")
    assert "did you mean 'region'?" in line
    assert "allowed keys: grade, region, product, segment" in line


def test_missing_required_key() -> None:
    line = problem_at(broken(lambda d: d.pop("calendar")), "calendar")
    assert "missing" in line and "required" in line


def test_missing_key_of_a_distribution_names_what_it_needs() -> None:
    line = problem_at(
        broken(lambda d: d["payment"].update(payment_days={"dist": "gamma", "mean": 40})),
        "payment.payment_days.sd",
    )
    assert "a gamma distribution needs dist, mean, sd" in line


@pytest.mark.parametrize(
    ("change", "path", "words"),
    [
        (lambda d: d["calendar"].update(horizon_days="abc"), "calendar.horizon_days",
         "must be a number (more than 0 and at most 2500); got 'abc'"),
        (lambda d: d["teams"][0]["reps"]["ae"].update(headcount=2.5),
         "teams[0].reps.ae.headcount", "must be a whole number (between 0 and 10,000); got 2.5"),
        (lambda d: d["teams"][0]["reps"]["ae"].update(headcount="many"),
         "teams[0].reps.ae.headcount", "must be a whole number"),
        (lambda d: d["stages"][1].update(visit="maybe"), "stages[1].visit",
         "must be true or false; got 'maybe'"),
        (lambda d: d.update(stages="qualify"), "stages", "must be a list"),
        (lambda d: d.update(calendar=None), "calendar",
         "must be a mapping with keys such as horizon_days"),
        (lambda d: d.update(calendar=[250]), "calendar", "must be a mapping"),
        (lambda d: d.update(name=7), "name", "must be text; got 7"),
        (lambda d: d.update(regions=["north", False, "south"]), "regions[1]",
         "put the word in quotes"),
        (lambda d: d.update(grades=[]), "grades", "must have at least 1 item"),
        (lambda d: d["roles"][0].update(name="sales rep"), "roles[0].name",
         "must be a name: a letter, then letters, digits, '_' or '-' (no spaces)"),
        (lambda d: d["roles"][0].update(assignment="own"), "roles[0].assignment",
         "unknown value 'own' (did you mean 'owner'?); allowed: owner, pooled"),
        (lambda d: d["roles"][0].update(dispatch="lifo"), "roles[0].dispatch",
         "allowed: fifo, grade, value"),
        (lambda d: d.update(schema_version=2), "schema_version", "must be 1; got 2"),
        (lambda d: d["calendar"].update({1: 2}), "calendar.1", "keys must be words"),
        (lambda d: d["stages"][0].update(effort_hours=3), "stages[0].effort_hours",
         "must be a distribution such as {dist: exponential, mean: 2}"),
        (lambda d: d["calendar"].update(horizon_days=10**400), "calendar.horizon_days",
         "got a 401-digit number"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_wrong_type(change: Callable[[dict[str, Any]], object], path: str, words: str) -> None:
    line = problem_at(broken(change), path)
    assert words in line, line


def test_yaml_1_2_reads_dates_and_yes_no_as_text() -> None:
    text, replaced = re.subn(r"horizon_days: \d+", "horizon_days: 2024-12-31",
                             REGIONAL.read_text(encoding="utf-8"))
    assert replaced == 1
    assert "calendar.horizon_days: must be a number (more than 0 and at most 2500); got " \
           "'2024-12-31'" in fails(text, "<text>")
    text = REGIONAL.read_text(encoding="utf-8").replace("visit: true", "visit: yes", 1)
    assert "visit: must be true or false; got 'yes'" in fails(text, "<text>")
    doc = copy.deepcopy(BASE)
    doc["regions"] = ["north", "central", "no"]
    for channel in doc["channels"]:
        channel["mix"]["region"]["no"] = channel["mix"]["region"].pop("south")
    doc["teams"][2]["regions"] = ["no"]
    assert ss.load_scenario(yaml.safe_dump(doc).replace("'no'", "no")).regions[2] == "no"


# ---- numbers out of range ------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "path", "words"),
    [
        (lambda d: d["channels"][0].update(leads_per_day=-3), "channels[0].leads_per_day",
         "must be 0 or more; got -3"),
        (lambda d: d["channels"][1].update(cost_per_lead=-0.5), "channels[1].cost_per_lead",
         "must be 0 or more; got -0.5"),
        (lambda d: d["roles"][1].update(salary_per_day=-480), "roles[1].salary_per_day",
         "must be 0 or more"),
        (lambda d: d["stages"][0].update(customer_delay_days={"dist": "exponential", "mean": -1}),
         "stages[0].customer_delay_days.mean", "must be more than 0; got -1"),
        (lambda d: d["stages"][0].update(effort_hours={"dist": "fixed", "value": -2}),
         "stages[0].effort_hours.value", "must be 0 or more; got -2"),
        (lambda d: d["stages"][0].update(sla_days=0), "stages[0].sla_days",
         "must be more than 0; got 0"),
        (lambda d: d["calendar"].update(warmup_days=-1), "calendar.warmup_days",
         "must be 0 or more"),
        (lambda d: d["going_cold"].update(max_wait_days=-5), "going_cold.max_wait_days",
         "must be more than 0"),
        (lambda d: d["teams"][0]["reps"]["ae"].update(headcount=-1),
         "teams[0].reps.ae.headcount", "must be between 0 and 10,000; got -1"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_negative_rate_or_duration(
    change: Callable[[dict[str, Any]], object], path: str, words: str
) -> None:
    line = problem_at(broken(change), path)
    assert words in line, line


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda d: d["stages"][3]["conversion"].update(A=1.4), "stages[3].conversion.A"),
        (lambda d: d["stages"][3]["conversion"].update(B=-0.1), "stages[3].conversion.B"),
        (lambda d: d["channels"][0]["mix"]["region"].update(north=1.5),
         "channels[0].mix.region.north"),
        (lambda d: d["handoff"].update(info_loss_prob=2), "handoff.info_loss_prob"),
        (lambda d: d["payment"].update(bad_debt_prob=-0.01), "payment.bad_debt_prob"),
        (lambda d: d["money"].update(gross_margin=45), "money.gross_margin"),
        (lambda d: d["stages"][3]["failure"].update(rework_share=1.2),
         "stages[3].failure.rework_share"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_probability_outside_0_1(change: Callable[[dict[str, Any]], object], path: str) -> None:
    line = problem_at(broken(change), path)
    assert "must be between 0 and 1" in line, line


def test_probability_in_a_real_file() -> None:
    path = BAD / "conversion_above_one.yaml"
    text = fails(path, str(path))
    assert text == f"{path}: stages[3].conversion.A: must be between 0 and 1; got 1.7"


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_nan_and_infinity(value: float) -> None:
    line = problem_at(broken(lambda d: d["stages"][3]["conversion"].update(A=value)),
                      "stages[3].conversion.A")
    assert "between 0 and 1" in line
    line = problem_at(broken(lambda d: d["calendar"].update(drain_limit_days=value)),
                      "calendar.drain_limit_days")
    assert "between 0 and 2500" in line


def test_logit_out_of_range() -> None:
    line = problem_at(broken(lambda d: d["going_cold"].update(logit_per_day=-50)),
                      "going_cold.logit_per_day")
    assert "must be between -20 and 20; got -50" in line


# ---- cross-section problems ---------------------------------------------------------


def test_mix_not_summing_to_one() -> None:
    line = problem_at(broken(lambda d: d["channels"][0]["mix"]["region"].update(north=0.5)),
                      "channels[0].mix.region")
    assert "shares sum to 1.15; they must sum to 1" in line


def test_mix_with_unknown_value_and_missing_attribute() -> None:
    text = broken(lambda d: d["channels"][1]["mix"]["region"].update(nort=0.0))
    assert "did you mean 'north'?" in problem_at(text, "channels[1].mix.region.nort")
    line = problem_at(broken(lambda d: d["channels"][2]["mix"].pop("segment")),
                      "channels[2].mix.segment")
    assert "missing; give the share of each segment: smb, enterprise" in line


def test_stage_naming_a_role_that_does_not_exist() -> None:
    line = problem_at(broken(lambda d: d["stages"][2].update(role="aes")), "stages[2].role")
    assert "unknown role 'aes' (did you mean 'ae'?); roles are: sdr, ae, se, legal" in line


def test_stage_naming_a_role_no_team_has() -> None:
    def add_role(d: dict[str, Any]) -> None:
        d["roles"].append({"name": "csm", "salary_per_day": 300})
        d["stages"][4]["role"] = "csm"

    line = problem_at(broken(add_role), "stages[4].role")
    assert "no team has reps of role 'csm'" in line and "reps.csm.headcount" in line


def test_stage_role_not_covering_every_lead() -> None:
    def drop_south(d: dict[str, Any]) -> None:
        d["teams"] = [t for t in d["teams"] if t["name"] != "south"]

    line = problem_at(broken(drop_south), "stages[0].role")
    assert "no team with 'sdr' reps covers leads of region='south'" in line


def test_team_with_unknown_role_and_region() -> None:
    text = broken(lambda d: d["teams"][0].update(regions=["nord"], reps={"sdrs": {"headcount": 1}}))
    assert "did you mean 'north'?" in problem_at(text, "teams[0].regions[0]")
    assert "did you mean 'sdr'?" in problem_at(text, "teams[0].reps.sdrs")


def test_conversion_grades() -> None:
    text = broken(lambda d: d["stages"][3].update(conversion={"A": 0.7, "b": 0.6}))
    assert "missing grades B, C" in problem_at(text, "stages[3].conversion")
    assert "did you mean 'B'?" in problem_at(text, "stages[3].conversion.b")


def test_rework_to_a_later_stage() -> None:
    line = problem_at(
        broken(lambda d: d["stages"][2].update(
            failure={"rework_share": 0.2, "rework_to": "contract"})),
        "stages[2].failure.rework_to",
    )
    assert "'contract' comes after 'needs_analysis'" in line
    assert "this or an earlier stage: qualify, first_contact, needs_analysis" in line
    path = BAD / "rework_later.yaml"
    assert "stages[2].failure.rework_to" in fails(path, str(path))


def test_rework_to_an_unknown_stage() -> None:
    line = problem_at(
        broken(lambda d: d["stages"][3]["failure"].update(rework_to="needs_analisys")),
        "stages[3].failure.rework_to",
    )
    assert "did you mean 'needs_analysis'?" in line


def test_failure_shares_and_missing_partners() -> None:
    text = broken(lambda d: d["stages"][3].update(
        failure={"rework_share": 0.8, "nurture_share": 0.5, "rework_to": "qualify"}))
    assert "must sum to at most 1" in problem_at(text, "stages[3].failure")
    assert "nurture_share > 0 needs" in problem_at(text, "stages[3].failure.nurture_days")
    text = broken(lambda d: d["stages"][3].update(failure={"rework_share": 0.3}))
    assert "rework_share > 0 needs" in problem_at(text, "stages[3].failure.rework_to")


@pytest.mark.parametrize(
    ("section", "index", "other"),
    [("stages", 3, 1), ("channels", 2, 0), ("roles", 1, 0), ("teams", 4, 2)],
)
def test_duplicate_names(section: str, index: int, other: int) -> None:
    def dup(d: dict[str, Any]) -> None:
        d[section][index]["name"] = d[section][other]["name"]

    name = BASE[section][other]["name"]
    line = problem_at(broken(dup), f"{section}[{index}].name")
    assert f"duplicate {section[:-1]} name {name!r}, already used at {section}[{other}]" in line


def test_duplicate_values() -> None:
    line = problem_at(broken(lambda d: d.update(regions=["north", "south", "north"])),
                      "regions[2]")
    assert "duplicate region name 'north', already used at regions[0]" in line


def test_warmup_after_horizon() -> None:
    line = problem_at(broken(lambda d: d["calendar"].update(horizon_days=250, warmup_days=300)),
                      "calendar.warmup_days")
    assert "must be less than horizon_days (250); got 300" in line


def test_schedule_problems() -> None:
    def overlap(d: dict[str, Any]) -> None:
        d["channels"][2]["schedule"]["periods"][1]["from_day"] = 40

    assert "overlap periods[0]" in problem_at(broken(overlap),
                                               "channels[2].schedule.periods[1]")

    def outside(d: dict[str, Any]) -> None:
        d["channels"][2]["schedule"]["cycle_days"] = 100

    line = problem_at(broken(outside), "channels[2].schedule.periods[1].to_day")
    assert "after cycle_days (100)" in line

    def backwards(d: dict[str, Any]) -> None:
        d["channels"][2]["schedule"]["periods"][0]["to_day"] = 10

    line = problem_at(broken(backwards), "channels[2].schedule.periods[0].to_day")
    assert "must be after from_day (30); got 10" in line


def test_tiny_schedule_cycle_is_refused_quickly() -> None:
    def tiny(d: dict[str, Any]) -> None:
        d["channels"][2]["schedule"] = {
            "cycle_days": 1e-9, "periods": [{"from_day": 0, "to_day": 1e-10, "multiplier": 2}]}

    line = problem_at(broken(tiny), "channels[2].schedule.cycle_days")
    assert "must be at least 1 day" in line


# ---- stated limits -------------------------------------------------------------------


def test_horizon_past_the_limit() -> None:
    line = problem_at(broken(lambda d: d["calendar"].update(horizon_days=5000)),
                      "calendar.horizon_days")
    assert f"at most {MAX_HORIZON_DAYS:.0f}; got 5000" in line


def test_lead_volume_past_the_limit() -> None:
    line = problem_at(broken(lambda d: d["channels"][0].update(leads_per_day=1e6)), "channels")
    assert f"the limit is {MAX_EXPECTED_LEADS:,.0f}" in line
    assert "lower leads_per_day or calendar.horizon_days" in line


# ---- distributions -------------------------------------------------------------------


def test_unknown_distribution_lists_the_allowed_names() -> None:
    line = problem_at(
        broken(lambda d: d["stages"][0].update(effort_hours={"dist": "exponentail", "mean": 1})),
        "stages[0].effort_hours",
    )
    assert "unknown distribution 'exponentail' (did you mean 'exponential'?)" in line
    assert f"allowed dist values: {', '.join(DIST_NAMES)}" in line


def test_distribution_without_dist() -> None:
    line = problem_at(broken(lambda d: d["handoff"].update(delay_days={"mean": 1})),
                      "handoff.delay_days")
    assert "needs a 'dist' key" in line and ", ".join(DIST_NAMES) in line


def test_distribution_rule_names_the_distribution() -> None:
    line = problem_at(
        broken(lambda d: d["travel"]["zones"][0].update(
            hours={"dist": "triangular", "low": 3, "mode": 1, "high": 2})),
        "travel.zones[0].hours",
    )
    assert line.startswith("<dict>: travel.zones[0].hours: triangular distribution: needs low")


# ---- several problems, one message ----------------------------------------------------


def test_every_problem_is_reported_once_per_line() -> None:
    def many(d: dict[str, Any]) -> None:
        d["calendar"]["horizon_days"] = -1
        d["stages"][3]["conversion"]["A"] = 3
        d["channels"][0]["leads_per_day"] = "lots"

    text = broken(many)
    assert len(text.splitlines()) == 3
    for path in ("calendar.horizon_days", "stages[3].conversion.A", "channels[0].leads_per_day"):
        problem_at(text, path)


def test_long_lists_of_problems_are_cut_short() -> None:
    doc = {f"key{i}": i for i in range(100)}
    with pytest.raises(ss.ScenarioError) as info:
        ss.load_scenario(doc)
    text = str(info.value)
    assert len(info.value.problems) > 100
    assert len(text.splitlines()) == 31
    assert text.splitlines()[-1].startswith("<dict>: ... and ")


def test_error_has_source_and_problems_and_pickles() -> None:
    with pytest.raises(ss.ScenarioError) as info:
        ss.load_scenario(BAD / "rework_later.yaml")
    err = info.value
    assert err.source == str(BAD / "rework_later.yaml")
    assert [p.path for p in err.problems] == ["stages[2].failure.rework_to"]
    assert isinstance(err, ValueError)
    again = pickle.loads(pickle.dumps(err))
    assert str(again) == str(err) and again.problems == err.problems


# ---- the CLI -------------------------------------------------------------------------


def test_cli_validate_exits_2_with_the_message(capsys: pytest.CaptureFixture[str]) -> None:
    from salessim.cli import main

    path = BAD / "misspelt_key.yaml"
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}: calendar.horizon_dys: unknown key" in err
    assert "Traceback" not in err


# ---- property tests ------------------------------------------------------------------

SCHEMA_WORDS = sorted({
    "schema_version", "name", "calendar", "horizon_days", "warmup_days", "channels", "mix",
    "region", "grade", "stages", "role", "conversion", "failure", "rework_to", "rework_share",
    "dist", "mean", "sd", "low", "high", "mode", "value", "values", "weights", "teams", "reps",
    "headcount", "roles", "extends", "replace", "A", "north", "schedule", "periods",
    *DIST_NAMES,
})

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.sampled_from(SCHEMA_WORDS), st.dates(),
)
keys = st.one_of(st.sampled_from(SCHEMA_WORDS), st.text(max_size=8), st.integers(-3, 3))
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(keys, inner, max_size=5)),
    max_leaves=25,
)


def check(source: Any, label: str) -> None:
    """Either it loads, or it raises ScenarioError with a clean message."""
    try:
        ss.load_scenario(source)
    except ss.ScenarioError as err:
        assert_clean(err, label)


PROPERTY = settings(max_examples=80, deadline=None, database=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(documents)
def test_random_documents_load_or_raise_scenario_error(doc: Any) -> None:
    if isinstance(doc, dict) and "extends" in doc:
        doc.pop("extends")  # keep the property off the file system
    label = "<dict>" if isinstance(doc, dict) else "<input>"
    if isinstance(doc, str | bytes):
        return  # strings are paths or YAML text: covered below
    check(doc, label)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out.extend(_paths(v, (*prefix, k)))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.extend(_paths(v, (*prefix, i)))
    return out


BASE_PATHS = _paths(BASE)[1:]
STRANGE_NUMBERS = st.sampled_from(
    [-1, -1e-9, 0, 1e-12, 1e9, 1e308, 10**40, math.nan, math.inf, -math.inf, 2501, 1.0000001])


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    doc = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(BASE_PATHS))
        parent: Any = doc
        try:
            for part in path[:-1]:
                parent = parent[part]
            current = parent[path[-1]]
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed it
        action = draw(st.sampled_from(["delete", "retype", "unknown_key", "number", "misspell"]))
        if action == "delete":
            del parent[path[-1]]
        elif action == "retype":
            parent[path[-1]] = draw(documents)
        elif action == "unknown_key" and isinstance(current, dict):
            current[draw(keys)] = draw(scalars)
        elif action == "misspell" and isinstance(parent, dict):
            key = str(path[-1])
            parent[key[:-1] + key[-1:].upper() + "x"] = parent.pop(path[-1])
        else:
            parent[path[-1]] = draw(STRANGE_NUMBERS)
    return doc


@PROPERTY
@given(mutated())
def test_mutated_regional_documents_load_or_raise_scenario_error(doc: dict[str, Any]) -> None:
    check(doc, "<dict>")


YAML_BITS = st.sampled_from([
    "a", ":", " ", "\n", "  ", "-", "[", "]", "{", "}", ",", "&x", "*x", "!!", "!tag", "? ",
    "'", '"', "#", "|", ">", "<<", "---", "...", "%YAML 1.1", "\t", "1e9", ".nan", "~",
    "calendar", "horizon_days", "stages", "extends", "!!python/object:os.system", "\x00",
    "\u00e9", "\ufeff",
])


@PROPERTY
@given(st.one_of(st.lists(YAML_BITS, max_size=30).map("".join), st.text(max_size=200)))
def test_random_yaml_text_loads_or_raises_scenario_error(text: str) -> None:
    if "extends" in text:
        text = text.replace("extends", "extend")  # keep off the file system
    label = text if ("\n" not in text and text.endswith((".yaml", ".yml"))) else "<text>"
    check(text, label)


@settings(PROPERTY, max_examples=15)
@given(mutated())
def test_mutated_documents_as_yaml_text(doc: dict[str, Any]) -> None:
    # Pure-Python YAML parsing of a whole scenario takes tens of milliseconds: few examples.
    try:
        text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    except yaml.YAMLError:
        return
    check(text, "<text>")
