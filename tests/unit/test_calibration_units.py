"""The calibration's small parts, each against an independent computation.

The working calendar against ``numpy.busday_count`` written out by hand, ``name_of``
against the scenario's name pattern, the commented YAML against the YAML reader, and
the intervals against scipy's exact computations.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter
from scipy import stats

import salessim as ss
from salessim.calibration.cells import name_of
from salessim.calibration.estimates import poisson_rate, wilson
from salessim.calibration.tables import WorkingCalendar
from salessim.scenario.annotated import dump_commented
from salessim.scenario.fields import Name
from salessim.scenario.mapping_spec import CalendarSpec
from salessim.scenario.yaml12 import parse_yaml

ROOT = Path(__file__).resolve().parents[2]
SCENARIO_FILES = sorted((ROOT / "scenarios").glob("*.yaml"))
NAME = TypeAdapter(Name)
MONDAY = dt.date(2024, 7, 1)

# ---- the working calendar ---------------------------------------------------------------

WEEKDAY_SETS = st.lists(st.sampled_from(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]),
                        min_size=1, max_size=7, unique=True)
DAYS = st.dates(dt.date(2023, 1, 1), dt.date(2027, 12, 31))


def calendar(start: dt.date = MONDAY, **spec: Any) -> WorkingCalendar:
    return WorkingCalendar(start, CalendarSpec(**spec))


def days_of(cal: WorkingCalendar, *stamps: str) -> list[float]:
    return list(cal.days(pd.Series(pd.to_datetime(list(stamps)))))


def test_weekends_and_holidays_are_skipped() -> None:
    cal = calendar(holidays=["2024-07-03"])
    # Mon 1 July is day 0; Wed 3 July is a holiday; Sat and Sun count as the next Monday.
    assert days_of(cal, "2024-07-01", "2024-07-02", "2024-07-03", "2024-07-04",
                   "2024-07-05", "2024-07-06", "2024-07-07", "2024-07-08") == [
        0, 1, 2, 2, 3, 4, 4, 4]


def test_the_time_of_day_adds_its_share_of_24_hours() -> None:
    cal = calendar()
    assert days_of(cal, "2024-07-02 12:00", "2024-07-02 06:00", "2024-07-05 18:00") == [
        1.5, 1.25, 4.75]


def test_no_date_is_no_day() -> None:
    out = calendar().days(pd.Series([pd.Timestamp("2024-07-02"), pd.NaT]))
    assert out[0] == 1 and np.isnan(out[1])


@settings(max_examples=200, deadline=None)
@given(start=DAYS, day=DAYS, weekdays=WEEKDAY_SETS,
       holidays=st.lists(DAYS, max_size=20, unique=True),
       seconds=st.integers(0, 86_399))
def test_days_count_the_working_days_between(start: dt.date, day: dt.date,
                                             weekdays: list[str], holidays: list[dt.date],
                                             seconds: int) -> None:
    cal = calendar(start, weekdays=weekdays, holidays=holidays)
    mask = [w in weekdays for w in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")]
    whole = np.busday_count(start, day, weekmask=mask, holidays=holidays)
    stamp = pd.Timestamp(day) + pd.Timedelta(seconds=seconds)
    got = cal.days(pd.Series([stamp]))[0]
    assert got == pytest.approx(whole + seconds / 86_400, abs=1e-9)
    assert cal.day_of(day) == whole


@settings(max_examples=200, deadline=None)
@given(start=DAYS, later=st.integers(0, 1500), weekdays=WEEKDAY_SETS,
       holidays=st.lists(DAYS, max_size=20, unique=True))
def test_date_and_days_round_trip(start: dt.date, later: int, weekdays: list[str],
                                  holidays: list[dt.date]) -> None:
    """From day 0 on (no date of the data is before the first deal's creation)."""
    cal = calendar(start, weekdays=weekdays, holidays=holidays)
    day = start + dt.timedelta(days=later)
    mask = "".join("1" if w in weekdays else "0"
                   for w in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"))
    n = cal.day_of(day)
    back = cal.date(np.array([n + 0.7]))[0].item()  # the time of day is dropped
    working = bool(np.is_busday(day, weekmask=mask, holidays=holidays))
    if working:
        assert back == day
    else:  # a day off belongs to the next working day
        assert back == np.busday_offset(day, 0, roll="forward", weekmask=mask,
                                        holidays=holidays).item()
    assert cal.day_of(back) == n


# ---- names ---------------------------------------------------------------------------


@pytest.mark.parametrize(("label", "name"), [
    ("Trade Show", "trade_show"), ("A", "A"), ("2nd", "v_2nd"), ("web-form", "web-form"),
    ("  North  ", "north"), ("Zürich", "zurich"), ("SMB / Mid-market", "smb_mid_market"),
])
def test_name_of(label: str, name: str) -> None:
    assert name_of(label) == name


def test_labels_with_nothing_to_keep_stay_apart() -> None:
    names = {name_of(label) for label in ("東京", "大阪", "", "!!!", "???")}
    assert len(names) == 5


@given(st.text(max_size=200))
def test_name_of_always_gives_a_scenario_name(label: str) -> None:
    name = name_of(label)
    assert NAME.validate_python(name) == name
    assert re.fullmatch(r"[A-Za-z][A-Za-z0-9_\-]{0,63}", name)
    assert name_of(name) == name  # a name stays itself
    assert name_of(label) == name  # and the same label always gives the same name


# ---- commented YAML ---------------------------------------------------------------------


def key_paths(node: Any, prefix: str = "") -> Iterator[str]:
    """Every key path ``dump_commented`` can comment: items of lists by name or index."""
    if isinstance(node, dict):
        for key, value in node.items():
            path = f"{prefix}{key}"
            yield path
            yield from key_paths(value, path + ".")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            if isinstance(item, dict) and item:
                yield from key_paths(item, f"{prefix}{item.get('name', i)}.")


def documents() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path in SCENARIO_FILES:
        out.append((path.name, parse_yaml(path.read_text(encoding="utf-8"))))
        out.append((f"{path.name} loaded", ss.load_scenario(path).to_document()))
    return out


DOCUMENTS = documents()
COMMENT = st.one_of(
    st.sampled_from(["# not a key: 1", "95% 1.2 to 3.4, n=1,234, 'quoted' \"twice\"", "a: b",
                     "- [x, {y: z}]", "&anchor *alias !tag", "%YAML", "'", '"', "#", ":",
                     "   ", "trailing backslash \\", "€ ü 東京"]),
    st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=40),
)


@pytest.mark.parametrize(("name", "doc"), DOCUMENTS, ids=[n for n, _ in DOCUMENTS])
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_commented_yaml_reads_back_as_the_document(name: str, doc: dict[str, Any],
                                                    data: st.DataObject) -> None:
    paths = sorted(set(key_paths(doc)))
    chosen = data.draw(st.lists(st.sampled_from(paths), max_size=25, unique=True))
    comments = {p: data.draw(COMMENT) for p in chosen}
    header = data.draw(st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")),
                               max_size=60))
    text = dump_commented(doc, comments, header + "\nsecond line: # of the header")
    assert parse_yaml(text) == doc


@pytest.mark.parametrize("char", ["\n", "\r", "\x85", "\u2028", "\x07", "\uffff"])
def test_a_comment_with_a_line_break_or_control_character(char: str) -> None:
    _, doc = DOCUMENTS[0]
    assert parse_yaml(dump_commented(doc, {"name": f"one{char}two: 3"})) == doc


def test_every_comment_is_written_beside_its_key() -> None:
    _, doc = DOCUMENTS[0]
    paths = sorted(set(key_paths(doc)))
    comments = {p: f"note {i}" for i, p in enumerate(paths)}
    text = dump_commented(doc, comments)
    assert parse_yaml(text) == doc
    # A value written on one line carries its own comment; nested ones are opened up.
    assert sum(f"# note {i}\n" in text + "\n" for i in range(len(paths))) >= len(paths) // 2


# ---- intervals -------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(count=st.integers(0, 100_000), exposure=st.floats(0.01, 1e5))
def test_poisson_rate_is_the_exact_interval(count: int, exposure: float) -> None:
    rate, low, high = poisson_rate(count, exposure)
    assert rate == pytest.approx(count / exposure)
    # Exact (Garwood): the count is just at the 2.5 % tail of each bound's Poisson law.
    assert stats.poisson.cdf(count, high * exposure) == pytest.approx(0.025, rel=1e-6)
    if count == 0:
        assert low == 0.0
    else:
        assert stats.poisson.sf(count - 1, low * exposure) == pytest.approx(0.025, rel=1e-6)
    assert low <= rate <= high


@settings(max_examples=300, deadline=None)
@given(n=st.integers(1, 1_000_000), share=st.floats(0.0, 1.0))
def test_wilson_is_scipys_wilson_interval(n: int, share: float) -> None:
    k = round(share * n)
    p, low, high = wilson(k, n)
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert p == k / n
    assert low == pytest.approx(ci.low, rel=1e-9, abs=1e-12)
    assert high == pytest.approx(ci.high, rel=1e-9, abs=1e-12)


def test_wilson_without_trials_is_no_estimate() -> None:
    assert all(math.isnan(x) for x in wilson(0, 0))
