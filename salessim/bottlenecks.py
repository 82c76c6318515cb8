"""Where deals queue and where the funnel leaks: bottleneck and leak analysis.

Time of won leads is split into the phases of ``salessim.intervals`` (handoff, nurture,
wait for a rep, work, customer) per stage, so the phase days of all stages add up to
the mean cycle time. The bottleneck is the stage where won leads wait longest for a
rep. Counted leads only, averaged over replications like ``Results.kpis``; the
time-average work in progress is over the measurement window [warm-up, horizon) and
counts every lead there, as the organisation sees it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from salessim.intervals import PHASES, Phases, phases
from salessim.model.leads import LOST, WON

if TYPE_CHECKING:
    from salessim.results import Results

DEFAULT_CONVERSION_ALERT = 0.5
"""Stages converting less than this share of their attempts are flagged."""
NO_QUEUE_DAYS = 0.005
"""A wait shorter than this (days, about 2 minutes of an 8-hour day) is no queue."""


@dataclass(frozen=True)
class Bottlenecks:
    """Bottleneck and leak analysis of a run.

    Attributes:
        stages: Per stage: ``role``; ``<phase>_days`` for each phase (mean days a won
            lead spends there in that phase) and their sum ``days``; ``<phase>_share``
            and ``share`` (the same as shares of the mean cycle time; all phase shares
            of all stages sum to 1); ``wip_mean`` and ``queue_mean`` (time-average
            leads at the stage and waiting for a rep there); ``conversion``
            (advanced / attempts) and ``low_conversion`` (below the alert threshold);
            ``utilisation`` of the stage's role.
        roles: The same phase days and shares per role (its stages summed), with
            ``headcount`` and ``utilisation``.
        cycle_time_days: Mean cycle time of won leads (days).
        bottleneck: The stage where won leads wait longest for a rep, or None when no
            stage has a queue (or no lead was won).
        most_wip: The stage with the highest time-average work in progress.
        low_conversion: Stages converting below ``conversion_alert``, in process order.
        busiest_role: The role with the highest utilisation.
        conversion_alert: The alert threshold (a share of attempts).
        sentence: One plain sentence naming the bottleneck, from the numbers above.
    """

    stages: pd.DataFrame
    roles: pd.DataFrame
    cycle_time_days: float
    bottleneck: str | None
    most_wip: str
    low_conversion: tuple[str, ...]
    busiest_role: str
    conversion_alert: float
    sentence: str

    def __str__(self) -> str:
        return self.sentence


def bottlenecks(res: Results, conversion_alert: float = DEFAULT_CONVERSION_ALERT
                ) -> Bottlenecks:
    """Analyse where won leads' time goes, where work piles up and where leads leak.

    Args:
        res: Results of a run.
        conversion_alert: Stages whose conversion (advanced / attempts) is below this
            share are flagged in ``low_conversion``.

    Raises:
        ValueError: If ``conversion_alert`` is not in [0, 1].
    """
    if not 0 <= conversion_alert <= 1:
        raise ValueError(f"conversion_alert must be a share in [0, 1], got {conversion_alert}")
    sc = res.scenario
    names = [s.name for s in sc.stages]
    days, cycle, load = _phase_days(res)
    table = days.copy()
    table.insert(0, "role", [s.role for s in sc.stages])
    table["days"] = days.sum(axis=1)
    for p in PHASES:
        table[f"{p}_share"] = days[f"{p}_days"] / cycle
    table["share"] = table["days"] / cycle
    table["wip_mean"], table["queue_mean"] = load[0], load[1]
    table["conversion"] = res.stages()["conversion"].reindex(names)
    table["low_conversion"] = table["conversion"] < conversion_alert
    utilisation = {r.name: float(res.kpis[f"utilisation_{r.name}"].mean()) for r in sc.roles}
    table["utilisation"] = table["role"].map(utilisation)
    table.index.name = "stage"
    roles = _per_role(table, res, utilisation)

    waits = table["wait_days"]
    bottleneck = (str(waits.idxmax()) if waits.notna().any() and waits.max() >= NO_QUEUE_DAYS
                  else None)
    busiest = str(roles["utilisation"].idxmax())
    return Bottlenecks(
        stages=table, roles=roles, cycle_time_days=cycle, bottleneck=bottleneck,
        most_wip=str(table["wip_mean"].idxmax()),
        low_conversion=tuple(str(s) for s in table.index[table["low_conversion"]]),
        busiest_role=busiest, conversion_alert=conversion_alert,
        sentence=_sentence(table, roles, cycle, bottleneck, busiest, res),
    )


def funnel(res: Results) -> pd.DataFrame:
    """How many counted leads reach each stage and where they leak, per replication mean.

    Returns:
        Per stage (in process order): ``reached`` (distinct leads with at least one
        attempt there), ``reached_share`` (of all counted leads), ``lost`` (leads lost
        there, declined or gone cold), ``passed_share`` (share of the leads that
        reached the stage that reached the next one; for the last stage, that were
        won) and ``conversion`` (advanced / attempts, as in ``Results.stages()``).
    """
    sc = res.scenario
    n = len(sc.stages)
    reached, lost, leads, won = [], [], [], []
    for raw in res.raw:
        L, E = raw.leads, raw.events
        cohort = L["cohort"]
        rows = cohort[E["case"]]
        pairs = np.unique(np.stack([E["stage"][rows], E["case"][rows]]), axis=1)
        reached.append(np.bincount(pairs[0], minlength=n))
        gone = cohort & (L["status"] == LOST)
        lost.append(np.bincount(L["lost_stage"][gone], minlength=n))
        leads.append(int(cohort.sum()))
        won.append(int((cohort & (L["status"] == WON)).sum()))
    table = pd.DataFrame({"reached": np.mean(reached, axis=0)},
                         index=pd.Index([s.name for s in sc.stages], name="stage"))
    table["reached_share"] = table["reached"] / np.mean(leads)
    table["lost"] = np.mean(lost, axis=0)
    after = np.append(table["reached"].to_numpy()[1:], np.mean(won))
    table["passed_share"] = after / table["reached"]
    table["conversion"] = res.stages()["conversion"].reindex(table.index)
    return table


def _phase_days(res: Results) -> tuple[pd.DataFrame, float, NDArray[np.float64]]:
    """Days per won lead by (stage, phase), mean cycle time, and the window's load.

    Returns:
        The days table (stage x ``<phase>_days``; NaN if no lead was won), the mean
        cycle time of won leads (days), and the time-average work in progress and
        queue length per stage (shape ``(2, n_stages)``), all averaged over
        replications (the first two over those that won a lead).
    """
    sc = res.scenario
    n = len(sc.stages)
    window = sc.calendar.warmup_days, sc.calendar.horizon_days
    won_days, cycles, loads = [], [], []
    for raw in res.raw:
        ph = phases(raw)
        loads.append(_window_load(ph, n, *window))
        L = raw.leads
        won = (L["status"] == WON) & L["cohort"]
        if won.any():
            rows = won[ph.case]
            won_days.append(np.column_stack([
                np.bincount(ph.stage[rows], weights=ph.days(p)[rows], minlength=n)
                for p in PHASES]) / won.sum())
            cycles.append(float((L["close_time"][won] - L["arrival_time"][won]).mean()))
    columns = [f"{p}_days" for p in PHASES]
    index = pd.Index([s.name for s in sc.stages])
    if not won_days:
        return pd.DataFrame(np.nan, index=index, columns=columns), np.nan, np.mean(loads, 0)
    return (pd.DataFrame(np.mean(won_days, axis=0), index=index, columns=columns),
            float(np.mean(cycles)), np.mean(loads, axis=0))


def _window_load(ph: Phases, n_stages: int, start: float, stop: float) -> NDArray[np.float64]:
    """Time-average leads at each stage, and waiting for a rep there, in [start, stop).

    This is Little's L: the total time the intervals spend inside the window over
    the window's length (days / days).
    """
    wip = (ph.bounds["wait"][0], ph.bounds["customer"][1])
    out = []
    for lo, hi in (wip, ph.bounds["wait"]):
        inside = np.clip(hi, start, stop) - np.clip(lo, start, stop)
        out.append(np.bincount(ph.stage, weights=inside, minlength=n_stages) / (stop - start))
    return np.stack(out)


def _per_role(table: pd.DataFrame, res: Results, utilisation: dict[str, float]
              ) -> pd.DataFrame:
    """The stage table's phase days and shares summed per role, with headcount."""
    cols = [f"{p}_days" for p in PHASES] + ["days"] + [f"{p}_share" for p in PHASES] + ["share"]
    roles = [r.name for r in res.scenario.roles]
    out = table.groupby("role", sort=False)[cols].sum().reindex(roles, fill_value=0.0)
    headcount = dict.fromkeys(roles, 0)
    for team in res.scenario.teams:
        for role, group in team.reps.items():
            headcount[role] += group.headcount
    out.insert(0, "headcount", [headcount[r] for r in roles])
    out["utilisation"] = [utilisation[r] for r in roles]
    out.index.name = "role"
    return out


def _sentence(stages: pd.DataFrame, roles: pd.DataFrame, cycle: float,
              bottleneck: str | None, busiest: str, res: Results) -> str:
    """One sentence naming the bottleneck, every number taken from the tables."""
    busy = roles["utilisation"].to_dict()[busiest]
    if not np.isfinite(cycle):
        return (f"No lead was won, so there is no cycle time to break down; the busiest "
                f"role is {busiest} at {busy:.0%} utilisation.")
    if bottleneck is None:
        return (f"No stage has a queue: won leads wait less than {NO_QUEUE_DAYS} days for "
                f"a rep at every stage; the busiest role is {busiest} at {busy:.0%} "
                f"utilisation.")
    row = stages.loc[bottleneck].to_dict()
    role, wait, share, utilisation = (row[k] for k in ("role", "wait_days", "wait_share",
                                                       "utilisation"))
    return (f"The bottleneck is {bottleneck} (role {role}): won leads wait "
            f"{days_text(wait)} for {_a(_title(res, role))} there on average, "
            f"{share:.0%} of their cycle time; {role} utilisation is {utilisation:.0%}.")


def days_text(days: float) -> str:
    """A number of days as people read it: ``2.3 days``, ``0.45 days``, ``1 day``."""
    text = f"{days:.1f}" if days >= 1 else f"{days:.2f}"
    return f"{text} day" if text in ("1.0", "1") else f"{text} days"


def _title(res: Results, role: str) -> str:
    title = res.scenario.role(role).title
    return title[:1].lower() + title[1:] if title else f"{role} rep"


def _a(noun: str) -> str:
    return f"an {noun}" if noun[:1].lower() in "aeiou" else f"a {noun}"
