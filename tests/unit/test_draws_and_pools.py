"""Draws made where read, and the least loaded owner found from a heap: exact equivalents.

Sparse uniforms must be the very numbers a whole ``rng.random((n, c))`` gives, and the
owner heap must pick the rep a scan of every rep picks, after any sequence of changes.
A finished run's draws are freed before its tables are built, and its activity records
as they are converted.
"""

from __future__ import annotations

import math
import weakref

import numpy as np
import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

import salessim as ss
from salessim.model import records as records_module
from salessim.model.draws import Uniforms, packed
from salessim.model.leads import OPEN
from salessim.model.process import Replication
from salessim.model.records import EVENT_FIELDS, EVENT_ROW, RawReplication, record_columns
from salessim.model.reps import Rep, RepPool
from salessim.rng import Purpose, stream


@pytest.mark.parametrize("chunk", [1, 7, 128])
def test_sparse_uniforms_are_the_whole_matrix_bit_for_bit(chunk: int) -> None:
    n, c = 1_000, 8
    whole = stream(3, 1, Purpose.STAGE, 11, 2).random((n, c))
    sparse = Uniforms(stream(3, 1, Purpose.STAGE, 11, 2), n, c, sparse=True)
    rows = [999, 0, 517, 516, 3, 998, 517]
    for row in rows:
        for k in range(c):
            assert sparse.value(row, k, chunk) == whole[row, k]
    assert np.array_equal(sparse.full(), whole)
    # Split into columns, released and read again: rows jump from where the matrix left
    # the stream, and a released column is made again, the same numbers.
    assert np.array_equal(sparse.column(5), whole[:, 5])
    for k in range(c):
        sparse.release(k)
    for row in rows:
        assert sparse.value(row, 2, chunk) == whole[row, 2]
    assert np.array_equal(sparse.column(2), whole[:, 2])
    dense = Uniforms(stream(3, 1, Purpose.STAGE, 11, 2), n, c, sparse=False)
    assert dense.value(10, 5, chunk) == whole[10, 5]
    assert np.array_equal(dense.column(7), whole[:, 7]) and dense.column(7).flags.c_contiguous


def test_packed_values_are_the_same_doubles() -> None:
    x = stream(1, 0, Purpose.STAGE).random(1_000) * 1e6
    assert packed(x).tolist() == x.tolist()


class _NoEffect:
    def __getitem__(self, key: tuple[int, int, int, int], /) -> float:
        return 0.0


def _pool(reps: list[Rep]) -> RepPool:
    return RepPool(simpy.Environment(), "t", "ae", reps, owner=True, dispatch="fifo",
                   max_wait_days=None, travel=-1, travel_cost=0.0, effect=_NoEffect(),
                   max_open=None, window=(0.0, math.inf))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["open", "close", "hire", "leave"]),
                          st.integers(0, 10_000)), max_size=300))
def test_the_owner_of_a_new_lead_is_the_least_loaded_rep_lowest_index_first(
        steps: list[tuple[str, int]]) -> None:
    pool = _pool([Rep(i, "t", "ae") for i in range(4)])
    next_index, next_lead = 4, 0
    for action, pick in steps:
        if action == "open" or (not pool.owners and action == "close"):
            expected = min(pool.reps, key=lambda r: (r.owned, r.index))
            assert pool._owner_of(next_lead) is expected
            next_lead += 1
        elif action == "close":
            leads = sorted(pool.owners)
            pool.forget(leads[pick % len(leads)])
        elif action == "hire":
            pool.hire(Rep(next_index, "t", "ae"))
            next_index += 1
        elif len(pool.reps) > 1:
            pool.dismiss(pool.reps[pick % len(pool.reps)])
        assert all(r.owned == sum(o is r for o in pool.owners.values()) for r in pool.reps)


def test_a_finished_run_frees_its_draws_before_it_builds_its_tables(
        regional_short: ss.Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    # Leads still open at the end held their source's layers in their generators, so the
    # draws stayed while the tables were built, when a replication holds the most.
    sc = regional_short.with_changes({"calendar.drain_limit_days": 0.0})
    run = Replication(sc, 1, 0)
    run.start()
    run.advance(sc.calendar.horizon_days / 2)
    layers = [weakref.ref(layer) for source in run.layers for stage in source
              for layer in stage]
    assert layers and run._live  # leads under way, holding their draws
    alive: list[int] = []
    collect = Replication.collect

    def counting(self: Replication, *, consume_events: bool = False) -> RawReplication:
        alive.append(sum(ref() is not None for ref in layers))
        return collect(self, consume_events=consume_events)

    monkeypatch.setattr(Replication, "collect", counting)
    raw = run.finish()
    assert alive == [0]
    assert (raw.leads["status"] == OPEN).any()  # some leads were still open at the end


@pytest.mark.parametrize("at_once", [1, 7, 65_536])
def test_records_converted_as_they_go_are_the_records_converted_whole(
        at_once: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(5)
    rows = [(int(rng.integers(0, 2**31 - 1)), int(rng.integers(0, 9)), 0, -1,
             *rng.random(4).tolist(), int(rng.integers(0, 6)), float(rng.random()),
             bool(rng.random() < 0.5), math.nan, int(rng.integers(0, 3)), 2)
            for _ in range(50)]
    records = bytearray(b"".join(EVENT_ROW.pack(*row) for row in rows))
    whole = record_columns(records)
    assert len(records) == 50 * EVENT_ROW.size  # read, not consumed
    monkeypatch.setattr(records_module, "RECORDS_AT_ONCE", at_once)
    gone = record_columns(records, consume=True)
    assert len(records) == 0
    for k, name in enumerate(EVENT_FIELDS):
        np.testing.assert_array_equal(whole[name], [row[k] for row in rows])
        np.testing.assert_array_equal(gone[name], whole[name])
        assert gone[name].dtype == whole[name].dtype
