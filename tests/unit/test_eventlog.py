"""Event-log export: CSV and Parquet round trips, XES read back by pm4py, atomic writes."""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib.util
import xml.etree.ElementTree as ET
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import salessim as ss
from salessim import eventlog
from salessim.eventlog import event_log_format

from ..conftest import short


@pytest.fixture(scope="module")
def res(regional: ss.Scenario) -> ss.Results:
    return ss.run(short(regional, 25.0), replications=2, seed=4)


def test_csv_round_trip(res: ss.Results, tmp_path: Path) -> None:
    path = ss.write_event_log(res, tmp_path / "log.csv")
    back = pd.read_csv(path)
    text = [c for c in res.events.columns if res.events[c].dtype.kind not in "biuf"]
    back[text] = back[text].fillna("")  # empty names (a lead gone cold has no rep)
    pd.testing.assert_frame_equal(back, res.events, check_dtype=False)


def test_parquet_round_trip(res: ss.Results, tmp_path: Path) -> None:
    path = ss.write_event_log(res, tmp_path / "log.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(path), res.events, check_dtype=False)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Install the optional requirement")
def test_xes_read_by_pm4py_discovers_the_stages(res: ss.Results, tmp_path: Path) -> None:
    pm4py = pytest.importorskip("pm4py")
    path = ss.write_event_log(res, tmp_path / "log.xes")
    log = pm4py.read_xes(str(path))
    stages = {s.name for s in res.scenario.stages}
    assert len(log) == len(res.events)
    assert log["case:concept:name"].nunique() == len(
        res.events.groupby(["replication", "case_id"]))
    dfg, start, _ = pm4py.discover_dfg(log)
    assert {a for pair in dfg for a in pair} == stages
    assert set(start) == {"qualify"}
    net, _, _ = pm4py.discover_petri_net_inductive(log)
    assert {t.label for t in net.transitions if t.label} == stages
    # The activities of each trace come in the order the lead did them.
    first = log[log["case:concept:name"] == "0-0"]
    assert first["time:timestamp"].is_monotonic_increasing
    assert set(log["org:role"]) == {r.name for r in res.scenario.roles}


def _elementtree_xes(res: ss.Results) -> str:
    """The XES text as the ElementTree writer it replaced gave it: the reference."""
    ev = res.events.sort_values(["replication", "case_id"], kind="stable", ignore_index=True)
    stamp = partial(eventlog.timestamps, hours_per_day=res.scenario.calendar.hours_per_day)
    served = ev["resource"] != ""
    iso = {k: np.datetime_as_string(stamp(v.to_numpy(dtype=float)), unit="ms", timezone="UTC")
           for k, v in {"time:timestamp": ev["end_time"].where(served, ev["decision_time"]),
                        "start_timestamp": ev["start_time"], "enable_timestamp": ev["enable_time"],
                        "decision_timestamp": ev["decision_time"]}.items()}

    def put(parent: ET.Element, tag: str, key: str, value: Any) -> None:
        text = {"boolean": lambda: "true" if value else "false",
                "float": lambda: repr(float(value))}.get(tag, lambda: str(value))()
        ET.SubElement(parent, tag, key=key, value=text)

    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<log xes.version="1.0" xes.features='
             '"nested-attributes" xmlns="http://www.xes-standard.org/">']
    lines += [ET.tostring(ET.Element("extension", name=n, prefix=p, uri=u), encoding="unicode")
              for n, p, u in eventlog._XES_EXTENSIONS]
    lines.append('<classifier name="Activity" keys="concept:name"/>')
    head = ET.Element("log")
    put(head, "string", "source", f"salessim: {res.scenario.name}, seed {res.seed}")
    lines.append(ET.tostring(head[0], encoding="unicode"))
    for (rep, case), rows in ev.groupby(["replication", "case_id"], sort=False):
        first, trace = rows.iloc[0], ET.Element("trace")
        put(trace, "string", "concept:name", f"{rep}-{case}")
        put(trace, "int", "replication", rep)
        put(trace, "int", "case_id", case)
        for attr in eventlog._TRACE_ATTRIBUTES:
            put(trace, "string", attr, first[attr])
        put(trace, "float", "deal_value", first["deal_value"])
        put(trace, "boolean", "cohort", first["cohort"])
        for k, row in rows.iterrows():
            event = ET.SubElement(trace, "event")
            put(event, "string", "concept:name", row["activity"])
            put(event, "string", "lifecycle:transition", "complete")
            put(event, "date", "time:timestamp", iso["time:timestamp"][k])
            if served[k]:
                put(event, "string", "org:resource", row["resource"])
                put(event, "string", "org:group", row["team"])
                put(event, "date", "start_timestamp", iso["start_timestamp"][k])
            put(event, "string", "org:role", row["role"])
            for key in ("enable_timestamp", "decision_timestamp"):
                put(event, "date", key, iso[key][k])
            put(event, "string", "outcome", row["outcome"])
            for tag, key in [("int", "attempt"), ("int", "touch"), ("float", "handoff_days"),
                             ("boolean", "info_lost"), ("float", "travel_cost")]:
                put(event, tag, key, row[key])
        lines.append(ET.tostring(trace, encoding="unicode"))
    return "\n".join([*lines, "</log>", ""])


def _awkward_names(res: ss.Results) -> ss.Results:
    """The same results with every name holding what XML must escape, and non-ASCII."""
    awkward = ' & <"Zoë\'s">\t\r\n'
    renamed = dataclasses.replace(
        res, scenario=res.scenario.with_changes({"name": f"Regional{awkward}"}))
    ev = res.events.copy()
    for col in ["activity", "role", "resource", "team", "outcome", *eventlog._TRACE_ATTRIBUTES]:
        ev[col] = ev[col].where(ev[col] == "", ev[col] + awkward)  # no resource stays none
    renamed.__dict__["events"] = ev  # the cached property, as if the run had these names
    return renamed


@pytest.mark.parametrize("names", ["plain", "awkward"])
def test_xes_is_byte_for_byte_what_elementtree_wrote(res: ss.Results, tmp_path: Path,
                                                     names: str) -> None:
    if names == "awkward":
        res = _awkward_names(res)
    path = ss.write_event_log(res, tmp_path / "log.xes")
    # ElementTree's own escaping: '&' before the entities, '\t' as '&#09;'.
    assert path.read_bytes() == _elementtree_xes(res).encode("utf-8")


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Install the optional requirement")
def test_pm4py_reads_the_xes_as_it_read_elementtrees(res: ss.Results, tmp_path: Path) -> None:
    pm4py = pytest.importorskip("pm4py")
    res = _awkward_names(res)
    reference = tmp_path / "reference.xes"
    reference.write_text(_elementtree_xes(res), encoding="utf-8", newline="")
    log = pm4py.read_xes(str(ss.write_event_log(res, tmp_path / "log.xes")))
    pd.testing.assert_frame_equal(log, pm4py.read_xes(str(reference)))
    assert len(log) == len(res.events)
    assert set(log["org:resource"].dropna()) == set(res.events["resource"]) - {""}


def test_timestamps_map_working_days_onto_business_days() -> None:
    days = np.array([0.0, 0.5, 4.25, 5.0, np.nan])
    stamps = eventlog.timestamps(days, 8.0, start=dt.date(2026, 1, 2), day_start_hour=9)
    # 2026-01-02 is a Friday: day 1 is the Monday after, day 5 the Friday after that.
    assert [str(s) for s in stamps[:4]] == [
        "2026-01-02T09:00:00.000", "2026-01-02T13:00:00.000", "2026-01-08T11:00:00.000",
        "2026-01-09T09:00:00.000"]
    assert np.isnat(stamps[4])


def test_unknown_format_names_the_known_ones(res: ss.Results, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"unknown event-log format '\.json'.*"
                                         r"known formats: \.csv, \.parquet, \.xes"):
        ss.write_event_log(res, tmp_path / "log.json")
    with pytest.raises(ValueError, match="'\\(no suffix\\)'"):
        ss.write_event_log(res, tmp_path / "log")
    assert not list(tmp_path.iterdir())


def test_unwritable_path_is_one_clear_error(res: ss.Results, tmp_path: Path) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with pytest.raises(OSError, match=r"cannot write .*a_file/log\.csv: .*a_file is a file, "
                                      r"not a folder"):
        ss.write_event_log(res, blocker / "log.csv")


def test_a_path_into_a_missing_folder_is_refused_before_anything_is_built(
        res: ss.Results, tmp_path: Path) -> None:
    with pytest.raises(OSError, match=r"cannot write .*nowhere/dir/log\.csv: the folder "
                                      r".*nowhere/dir does not exist"):
        ss.write_event_log(res, tmp_path / "nowhere" / "dir" / "log.csv")
    assert list(tmp_path.iterdir()) == []  # no folder made on the way


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_interrupted_table_export_leaves_no_file(res: ss.Results, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 suffix: str) -> None:
    def write_half_then_fail(events: pd.DataFrame, fh: Any) -> None:
        fh.write(b"PAR1" if suffix == ".parquet" else "case_id,activity\n0,qual")
        raise KeyboardInterrupt

    monkeypatch.setattr(eventlog, f"_{suffix[1:]}", write_half_then_fail)
    with pytest.raises(KeyboardInterrupt):
        ss.write_event_log(res, tmp_path / f"log{suffix}")
    assert list(tmp_path.iterdir()) == []


def test_interrupted_xes_export_leaves_no_file(res: ss.Results, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    real, written = eventlog._trace, []

    def trace_then_fail(*args: Any) -> Any:
        if len(written) == 3:
            raise KeyboardInterrupt
        written.append(1)
        return real(*args)

    monkeypatch.setattr(eventlog, "_trace", trace_then_fail)
    with pytest.raises(KeyboardInterrupt):
        ss.write_event_log(res, tmp_path / "log.xes")
    assert written and list(tmp_path.iterdir()) == []


def test_parquet_without_pyarrow_is_refused_by_name_before_anything_is_written(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "pyarrow" else real(name, *a))
    with pytest.raises(ValueError, match=r"needs pyarrow: pip install 'salessim\[parquet\]'"):
        event_log_format(tmp_path / "events.parquet")
    assert event_log_format(tmp_path / "events.csv") == ".csv"
