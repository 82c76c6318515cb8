"""The search: Optuna proposes settings in batches, every proposal a function of its number.

Each setting proposed is a *record*: its number, the batch it belongs to, its values,
what it costs and, once simulated, the means of its KPIs. A setting over the budget is
recorded at once and never simulated; it does not count as a trial. The counted trials
fall into batches by their count alone (trials 0 to ``batch - 1`` are batch 0, and so
on), and the records of a batch are saved together once the batch is simulated.

Proposal ``k`` is made by a sampler seeded from (seed, ``k``), shown every record before
it: the records of earlier batches as they ended, those of its own batch as still
running (the constant liar: the search does not wait for them). So what is proposed
depends on the seed and the records alone, never on where or in how many sessions the
study ran: a study interrupted after any number of trials and resumed proposes what
one uninterrupted study proposes, and every executor gives the same history.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.samplers import BaseSampler, NSGAIISampler, TPESampler
from optuna.storages import BaseStorage, InMemoryStorage, RDBStorage
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState, create_trial

from salessim.kpis import Condition
from salessim.optimise.levers import Lever
from salessim.optimise.spec import Objective, violation
from salessim.rng import name_key

StorageSpec = str | Path | None
"""Where the study is kept: None (in memory), a SQLite file, or a database URL."""
SEARCH_KEY = name_key("salessim.optimise")
"""First key of the seed sequence of every proposal (the replications never use it)."""
MAX_OVER_BUDGET = 200
"""Proposals over the budget in a row after which the search stops (with a warning)."""
BUDGET = "budget"
"""Name of the budget's constraint in the study."""
INVALID = "valid scenario"
"""Name of the constraint a setting that makes no valid scenario misses."""


@dataclass(frozen=True)
class Record:
    """One proposed setting.

    Attributes:
        number: Its proposal number, from 0 (the study's trial number).
        batch: The batch it was proposed in.
        params: Lever path -> value as the search holds it.
        spent: What it costs, for each thing a budget may bound (empty for a setting
            that makes no valid scenario).
        skipped: Why it was not simulated (over the budget, or not a valid scenario);
            empty for a simulated trial.
        kpis: KPI means over the replications (empty when skipped).
        system: What the sampler noted on the proposal (kept for the next ones).
    """

    number: int
    batch: int
    params: dict[str, Any]
    spent: dict[str, float]
    skipped: str = ""
    kpis: dict[str, float] = field(default_factory=dict)
    system: dict[str, Any] = field(default_factory=dict)

    @property
    def over(self) -> bool:
        """Whether it was skipped rather than simulated (it is then no trial)."""
        return bool(self.skipped)


@dataclass(frozen=True)
class Space:
    """What the study searches and how it scores a record.

    Attributes:
        levers: The levers.
        objectives: The objectives, the first ranks the recommendation.
        constraints: Conditions on KPI means.
        budget: Limits on what a setting costs.
    """

    levers: tuple[Lever, ...]
    objectives: tuple[Objective, ...]
    constraints: tuple[Condition, ...]
    budget: Mapping[str, float]

    def distributions(self) -> dict[str, BaseDistribution]:
        """The levers as Optuna distributions (a choice by the position of its values)."""
        out: dict[str, BaseDistribution] = {}
        for lv in self.levers:
            if lv.kind == "int":
                out[lv.path] = IntDistribution(int(lv.low), int(lv.high), step=lv.step)
            elif lv.kind == "float":
                out[lv.path] = FloatDistribution(lv.low, lv.high, log=lv.log)
            else:
                out[lv.path] = CategoricalDistribution(list(range(len(lv.choices))))
        return out

    def decode(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Lever path -> scenario value, from the search's values."""
        return {lv.path: lv.from_search(params[lv.path]) for lv in self.levers}

    def directions(self) -> list[StudyDirection]:
        """Optuna's direction of each objective."""
        return [StudyDirection.MAXIMIZE if o.direction == "higher" else StudyDirection.MINIMIZE
                for o in self.objectives]

    def values(self, record: Record) -> list[float] | None:
        """The objectives' means of a simulated record; None if one has no value."""
        values = [record.kpis.get(o.kpi, math.nan) for o in self.objectives]
        return values if all(math.isfinite(v) for v in values) else None

    def violations(self, record: Record) -> dict[str, float]:
        """How far the record is from meeting each constraint (0 or less: met)."""
        out = {str(c): violation(c, record.kpis.get(c.kpi, math.nan))
               for c in self.constraints} if not record.over else {}
        if not record.spent:
            out[INVALID] = 1.0
        elif self.budget:
            out[BUDGET] = max((record.spent[k] - limit) / limit
                              for k, limit in self.budget.items())
        return out

    def feasible(self, record: Record) -> bool:
        """Whether a simulated record meets every constraint (on its means)."""
        return (not record.over and self.values(record) is not None
                and all(c.holds(record.kpis.get(c.kpi, math.nan)) for c in self.constraints))

    def frozen(self, record: Record, running: bool) -> FrozenTrial:
        """The record as an Optuna trial (``running``: as if still being simulated)."""
        common: dict[str, Any] = {
            "params": record.params, "distributions": self.distributions(),
            "user_attrs": {"batch": record.batch, "spent": record.spent, "kpis": record.kpis,
                           "skipped": record.skipped, "system": record.system},
            "system_attrs": dict(record.system)}
        if running:
            return create_trial(state=TrialState.RUNNING, **common)
        values = None if record.over else self.values(record)
        state = (TrialState.PRUNED if record.over else
                 TrialState.FAIL if values is None else TrialState.COMPLETE)
        return create_trial(state=state, values=values, constraints=self.violations(record),
                            **common)


def study_name(identity: Mapping[str, Any]) -> str:
    """A name for the study that changes with anything that changes what it proposes."""
    text = json.dumps(identity, sort_keys=True, default=str)
    return "salessim-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def open_storage(storage: StorageSpec) -> BaseStorage:
    """The study's storage: in memory, a SQLite file (its folder must exist) or a URL.

    Raises:
        ValueError: If the file's folder does not exist.
    """
    if storage is None:
        return InMemoryStorage()
    if isinstance(storage, str) and "://" in storage:
        return RDBStorage(storage)
    path = Path(storage)
    if not path.parent.is_dir():
        raise ValueError(f"cannot keep the study in {path}: the folder {path.parent} does not "
                         "exist")
    if path.is_dir():
        raise ValueError(f"cannot keep the study in {path}: it is a folder, not a file")
    return RDBStorage(f"sqlite:///{path.resolve()}")


def load_records(storage: BaseStorage, name: str, space: Space) -> tuple[optuna.Study,
                                                                         list[Record]]:
    """The study's records so far (none for a new study)."""
    study = optuna.create_study(storage=storage, study_name=name, load_if_exists=True,
                                directions=space.directions())
    records = []
    for t in sorted(study.get_trials(deepcopy=False), key=lambda t: t.number):
        if not t.state.is_finished():
            continue  # written by a session stopped between two trials of a batch
        attrs = t.user_attrs
        records.append(Record(t.number, int(attrs["batch"]), dict(t.params),
                              dict(attrs["spent"]), str(attrs["skipped"]), dict(attrs["kpis"]),
                              dict(attrs["system"])))
    return study, records


def sampler(space: Space, seed: int, number: int, batch: int) -> BaseSampler:
    """The sampler of proposal ``number``: TPE for one objective, NSGA-II for more."""
    state = np.random.SeedSequence(seed, spawn_key=(SEARCH_KEY, number)).generate_state(1)
    own = int(state[0])
    if len(space.objectives) == 1:
        return TPESampler(seed=own, multivariate=True, constant_liar=True)
    return NSGAIISampler(seed=own, population_size=max(2 * batch, 10))


@dataclass
class Proposer:
    """Makes proposals for one batch from the records before it.

    Args:
        space: What is searched.
        seed: The study's seed.
        batch_size: Counted trials per batch.
        start: Lever path -> search value of the scenario as it is, proposed first when
            it lies within the levers' ranges (None otherwise).
    """

    space: Space
    seed: int
    batch_size: int
    start: dict[str, Any] | None
    _shadow: optuna.Study | None = None
    _last: optuna.Trial | None = None

    def begin(self, records: Sequence[Record], batch: int) -> None:
        """Show the sampler every record: earlier batches as ended, this one as running."""
        shadow = optuna.create_study(storage=InMemoryStorage(),
                                     directions=self.space.directions())
        shadow.add_trials([self.space.frozen(r, running=r.batch == batch and not r.over)
                           for r in records])
        self._shadow = shadow

    def propose(self, number: int) -> tuple[dict[str, Any], dict[str, Any]]:
        """Proposal ``number``: lever path -> search value, and what the sampler noted."""
        shadow = self._shadow
        assert shadow is not None, "begin() a batch first"
        shadow.sampler = sampler(self.space, self.seed, number, self.batch_size)
        if number == 0 and self.start is not None:
            shadow.enqueue_trial(self.start)
        trial = self._last = shadow.ask(self.space.distributions())
        noted = shadow.get_trials(deepcopy=False)[-1].system_attrs
        return dict(trial.params), dict(noted)

    def over_budget(self, record: Record) -> None:
        """Show the sampler that the last proposal was over the budget (as it is saved)."""
        assert self._shadow is not None and self._last is not None
        for key, value in self.space.violations(record).items():
            self._last.set_constraint(key, value)
        self._shadow.tell(self._last, state=TrialState.PRUNED)
