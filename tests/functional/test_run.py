"""Runs as a user makes them: determinism, conservation, executors, result tables."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

import salessim as ss
import salessim.runner
from salessim import footprint
from salessim.replications import Replications
from salessim.results import EVENT_LOG_COLUMNS, kpi_names


@pytest.fixture(scope="module")
def res(regional_short: ss.Scenario) -> ss.Results:
    return ss.run(regional_short, replications=4, seed=11)


def test_every_lead_ends_in_exactly_one_state(res: ss.Results) -> None:
    k = res.kpis
    assert (k["leads"] == k["won"] + k["lost"] + k["open"]).all()
    assert (k["leads"] > 0).all()
    counted = res.leads[res.leads["cohort"]]
    per_rep = counted.groupby("replication")["status"].value_counts().unstack(fill_value=0)
    assert (per_rep["won"].to_numpy() == k["won"].to_numpy()).all()


def test_lost_leads_name_their_stage_and_reason(res: ss.Results) -> None:
    lost = res.leads[(res.leads["status"] == "lost") & res.leads["cohort"]]
    stages = {s.name for s in res.scenario.stages}
    assert set(lost["lost_stage"]) <= stages
    assert set(lost["lost_reason"]) <= {"declined", "cold"}
    won = res.leads[res.leads["status"] == "won"]
    assert (won["lost_stage"] == "").all()


def test_same_seed_same_numbers_serial_and_processes(regional_short: ss.Scenario,
                                                      res: ss.Results) -> None:
    again = ss.run(regional_short, replications=4, seed=11, executor="processes", workers=2)
    pd.testing.assert_frame_equal(res.kpis, again.kpis)
    pd.testing.assert_frame_equal(res.events, again.events)


@pytest.mark.slow
def test_any_executor_and_worker_count_gives_the_same_numbers(
    regional_short: ss.Scenario, res: ss.Results
) -> None:
    with ThreadPoolExecutor(max_workers=3) as pool:
        threads = ss.run(regional_short, replications=4, seed=11, executor=pool)
    with ProcessPoolExecutor(max_workers=1) as pool:
        one = ss.run(regional_short, replications=4, seed=11, executor=pool)
    pd.testing.assert_frame_equal(res.kpis, threads.kpis)
    pd.testing.assert_frame_equal(res.kpis, one.kpis)


def test_replication_depends_only_on_its_index(regional_short: ss.Scenario,
                                               res: ss.Results) -> None:
    """Running 2 replications gives the first 2 rows of a 4-replication run."""
    two = ss.run(regional_short, replications=2, seed=11)
    pd.testing.assert_frame_equal(res.kpis.iloc[:2], two.kpis)


def test_different_seeds_differ(regional_short: ss.Scenario, res: ss.Results) -> None:
    other = ss.run(regional_short, replications=4, seed=12)
    assert not np.allclose(res.kpis["revenue"], other.kpis["revenue"])
    assert not res.kpis["leads"].equals(other.kpis["leads"])


def test_replications_differ_from_each_other(res: ss.Results) -> None:
    assert res.kpis["leads"].nunique() > 1


def test_fresh_seed_is_recorded_and_reproduces(regional_short: ss.Scenario) -> None:
    first = ss.run(regional_short, replications=1)
    again = ss.run(regional_short, replications=1, seed=first.seed)
    pd.testing.assert_frame_equal(first.kpis, again.kpis)


def test_kpi_columns_and_summary(res: ss.Results) -> None:
    assert list(res.kpis.columns) == kpi_names(res.scenario)
    s = res.summary()
    assert list(s.columns) == ["mean", "std", "ci_low", "ci_high", "n"]
    assert (s["n"] == 4).all()
    finite = s.dropna()
    assert (finite["ci_low"] <= finite["mean"]).all()
    assert (finite["mean"] <= finite["ci_high"]).all()
    assert s.loc["conversion_rate", "mean"] == pytest.approx(res.kpis["conversion_rate"].mean())


def test_money_kpis_are_consistent(res: ss.Results) -> None:
    k = res.kpis
    sc = res.scenario
    assert np.allclose(k["profit"], sc.money.gross_margin * k["revenue"] - k["cost"])
    assert np.allclose(k["cost_per_won"], k["cost"] / k["won"])
    assert (k["collected"] <= k["revenue"]).all()
    assert np.allclose(k["collection_rate"], k["collected"] / k["revenue"])
    counted = res.leads[res.leads["cohort"] & (res.leads["status"] == "won")]
    revenue = counted.groupby("replication")["deal_value"].sum()
    assert np.allclose(revenue.to_numpy(), k["revenue"].to_numpy())


def test_cost_is_salaries_plus_channel_plus_travel(res: ss.Results) -> None:
    sc = res.scenario
    days = sc.calendar.horizon_days - sc.calendar.warmup_days
    salaries = days * sum(sc.role(role).salary_per_day * g.headcount
                          for t in sc.teams for role, g in t.reps.items())
    leads = res.leads[res.leads["cohort"]]
    per_lead = {c.name: c.cost_per_lead for c in sc.channels}
    channel = leads.groupby("replication")["channel"].apply(lambda c: c.map(per_lead).sum())
    ev = res.events[res.events["cohort"]]
    travel = ev.groupby("replication")["travel_cost"].sum()
    expected = salaries + channel + travel
    assert np.allclose(expected.to_numpy(), res.kpis["cost"].to_numpy())


def test_event_log_schema_and_time_order(res: ss.Results) -> None:
    ev = res.events
    assert list(ev.columns[: len(EVENT_LOG_COLUMNS)]) == list(EVENT_LOG_COLUMNS)
    worked = ev[ev["outcome"] != "cold"]
    assert (worked["enable_time"] <= worked["start_time"]).all()
    assert (worked["start_time"] <= worked["end_time"]).all()
    assert (worked["end_time"] <= worked["decision_time"]).all()
    assert set(ev["activity"]) <= {s.name for s in res.scenario.stages}
    role_of = {s.name: s.role for s in res.scenario.stages}
    assert (ev["activity"].map(role_of) == ev["role"]).all()
    assert worked["resource"].str.len().gt(0).all()


def test_won_leads_pass_every_stage_in_order(res: ss.Results) -> None:
    names = [s.name for s in res.scenario.stages]
    ev = res.events[res.events["replication"] == 0]
    won = set(res.leads.query("replication == 0 and status == 'won'")["case_id"])
    adv = ev[ev["case_id"].isin(won) & (ev["outcome"] == "advanced")]
    for _, g in list(adv.groupby("case_id"))[:50]:
        assert list(dict.fromkeys(g["activity"])) == names


def test_owner_mode_keeps_one_ae_per_lead(res: ss.Results) -> None:
    ev = res.events[(res.events["role"] == "ae") & (res.events["outcome"] != "cold")]
    reps_per_lead = ev.groupby(["replication", "case_id"])["resource"].nunique()
    assert (reps_per_lead == 1).all()


def test_stage_table_counts_match_the_event_log(res: ss.Results) -> None:
    st = res.stages()
    assert list(st.index) == [s.name for s in res.scenario.stages]
    ev = res.events[res.events["cohort"]]
    ev = ev[ev["outcome"] != "follow-up"]  # an attempt's last touch carries its outcome
    entered = ev.groupby("activity").size() / res.replications
    assert np.allclose(st["entered"], entered.reindex(st.index))
    assert np.allclose(st["entered"], st["advanced"] + st["lost"] + st["reworked"]
                       + st["nurtured"])
    # Leads entering the first stage are the counted leads.
    assert st["entered"].iloc[0] == pytest.approx(res.kpis["leads"].mean())


def test_utilisation_is_a_share_and_matches_rep_table(res: ss.Results) -> None:
    reps = res.reps()
    assert reps["utilisation"].between(0, 1).all()
    for role in {r.name for r in res.scenario.roles}:
        mine = reps[reps["role"] == role]
        assert res.kpis[f"utilisation_{role}"].mean() == pytest.approx(
            mine["utilisation"].mean())
    teams = res.teams()
    assert teams["headcount"].sum() == len(reps)


def test_bad_arguments_are_refused(regional_short: ss.Scenario) -> None:
    with pytest.raises(ValueError, match="replications"):
        ss.run(regional_short, replications=0, seed=1)
    with pytest.raises(ValueError, match="seed"):
        ss.run(regional_short, replications=1, seed=-1)
    with pytest.raises(ValueError, match="executor"):
        ss.run(regional_short, replications=1, seed=1, executor="cluster")  # type: ignore[arg-type]


def _memory(monkeypatch: pytest.MonkeyPatch, available: float) -> None:
    monkeypatch.setattr(salessim.runner, "available_memory", lambda: available)


def test_a_run_that_would_not_fit_in_memory_is_refused_before_it_starts(
        regional_short: ss.Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    one = (footprint.RUNNING_BYTES_PER_LEAD * regional_short.expected_leads()
           + footprint.PROCESS_BYTES)
    _memory(monkeypatch, 1.5 * one / footprint.USABLE_SHARE)  # room for one at a time
    with pytest.raises(footprint.MemoryRefused, match=r"2 at once need .* Run with "
                                                      r"workers=1 \(--workers 1\)"):
        ss.run(regional_short, replications=4, seed=1, executor="processes", workers=2)
    _memory(monkeypatch, 0.5 * one / footprint.USABLE_SHARE)
    with pytest.raises(footprint.MemoryRefused, match=r"Even one does not fit: shorten "
                                                      r"calendar\.horizon_days"):
        ss.run(regional_short, replications=1, seed=1, executor="serial")


def test_replications_that_fit_only_as_kpis_are_kept_as_kpis_with_the_same_numbers(
        regional_short: ss.Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    full = ss.run(regional_short, replications=3, seed=2, executor="serial")
    leads = regional_short.expected_leads()
    one = footprint.RUNNING_BYTES_PER_LEAD * leads + footprint.PROCESS_BYTES
    kept = 3 * footprint.KEPT_BYTES_PER_LEAD * leads
    _memory(monkeypatch, (one + kept / 2) / footprint.USABLE_SHARE)
    with pytest.warns(RuntimeWarning, match="each is kept as its KPIs"):
        lean = ss.run(regional_short, replications=3, seed=2, executor="serial")
    assert isinstance(lean.raw, Replications) and lean.raw.replayed == 3
    assert lean.summary().equals(full.summary())
    assert lean.events.equals(full.events)  # simulated again, the same numbers
