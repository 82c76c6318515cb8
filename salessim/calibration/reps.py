"""Teams, headcounts and rep skill from the deal owners.

- **Teams**: the team of each owner (a ``team`` column or a lookup table); with none,
  everyone is in one team, ``sales``. A team covers the values of the attribute (region,
  product or segment) that best predicts which team has a deal: each value goes to the
  team with most of its deals. ``coverage`` says what share of the deals went to the team
  that covers them.
- **Headcount**: an owner is employed from their first deal created to their last. The
  scenario's headcount per team is the owners with a deal created in the last three
  months of the data; the back-test follows the monthly counts of employed owners.
- **Skill**: per-owner win rates are noisy (five deals say little), so they are shrunk
  towards the team's rate by empirical Bayes: a beta distribution of the owners' true
  win rates is fitted by maximum likelihood to their won and lost counts (beta-binomial),
  and each owner's estimate is its posterior mean. The spread of that beta on the logit
  scale, sqrt(trigamma(a) + trigamma(b)), is the spread of win logits between owners; it
  is brought to one stage's logit (the scenario's ``skill_spread_logit`` acts at every
  stage the role works) by the delta method.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special

from salessim.calibration.tables import CrmData

COVERAGE_ATTRIBUTES: tuple[str, ...] = ("region", "segment", "product")
RECENT_MONTHS = 3
DEFAULT_TEAM = "sales"


@dataclass(frozen=True)
class TeamFit:
    """Teams of the deal owners.

    Attributes:
        teams: Team -> covered values (of ``by``); empty when one team covers all.
        by: The attribute teams are split by (None for one team).
        coverage: Share of deals owned by the team covering them.
        headcount: Team -> owners active in the last months of the data.
        monthly: Owners employed per month: ``month`` (first day), ``day`` (its working
            day), ``team``, ``owners``.
        skill: One row per owner: ``owner``, ``team``, ``won``, ``lost``, ``raw`` (win
            rate), ``shrunk`` (posterior mean) and ``pooled`` (True where the team's owners
            differ no more than chance makes them, so each is at the team's rate).
        spread_win_logit: Spread of the owners' win logits (sd).
    """

    teams: dict[str, list[str]]
    by: str | None
    coverage: float
    headcount: dict[str, int]
    monthly: pd.DataFrame
    skill: pd.DataFrame
    spread_win_logit: float


def team_of(crm: CrmData) -> pd.Series:
    """Each deal's team; ``sales`` for all when the data have no teams.

    A deal whose owner has no team has NaN.
    """
    team = crm.opportunities["team"]
    return team if team.notna().any() else pd.Series(DEFAULT_TEAM, index=team.index)


def fit_teams(crm: CrmData, values: dict[str, list[str]]) -> TeamFit:
    """Teams, their coverage, headcounts and the skill spread."""
    opps = crm.opportunities.assign(team=team_of(crm))
    names = sorted(opps["team"].dropna().unique())
    by, covered, coverage = _coverage(opps, names, values)
    monthly = _monthly_owners(crm, opps)
    export = crm.calendar.date(np.array([crm.export_day]))[0].item()
    recent = crm.calendar.day_of(export - dt.timedelta(days=RECENT_MONTHS * 365 // 12))
    headcount = {t: max(1, int(opps[(opps["team"] == t) & (opps["created"] >= recent)]
                               ["owner"].nunique())) for t in names}
    skill, spread = _skill(opps)
    return TeamFit(covered, by, coverage, headcount, monthly, skill, spread)


def _coverage(opps: pd.DataFrame, names: list[str], values: dict[str, list[str]]
              ) -> tuple[str | None, dict[str, list[str]], float]:
    if len(names) == 1:
        return None, {names[0]: []}, 1.0
    best: tuple[float, str, dict[str, list[str]]] | None = None
    for attr in COVERAGE_ATTRIBUTES:
        if len(values[attr]) < 2 or opps[attr].isna().all():
            continue
        table = pd.crosstab(opps[attr], opps["team"])
        owner_team = table.idxmax(axis=1)
        purity = float(table.max(axis=1).sum() / table.to_numpy().sum())
        covered = {t: sorted(str(v) for v in owner_team.index[owner_team == t]) for t in names}
        if all(covered.values()) and (best is None or purity > best[0]):
            best = (purity, attr, covered)
    if best is None:
        raise ValueError(
            f"the teams {', '.join(names)} cannot be told apart by region, segment or "
            "product: each team must have most of the deals of some value")
    return best[1], best[2], best[0]


def _monthly_owners(crm: CrmData, opps: pd.DataFrame) -> pd.DataFrame:
    """Owners employed per month: between their first and their last deal created."""
    span = opps.groupby(["team", "owner"])["created"].agg(["min", "max"]).reset_index()
    starts = np.unique(crm.calendar.date(np.arange(int(crm.export_day) + 1, dtype=float))
                       .astype("datetime64[M]"))
    rows = []
    for month in starts:
        lo = crm.calendar.day_of(month.astype("datetime64[D]").item())
        hi = crm.calendar.day_of((month + 1).astype("datetime64[D]").item())
        active = span[(span["min"] < hi) & (span["max"] >= lo)]
        for team in sorted(span["team"].unique()):
            rows.append({"month": month.astype("datetime64[D]"), "day": lo, "team": team,
                         "owners": int((active["team"] == team).sum())})
    return pd.DataFrame(rows)


def _skill(opps: pd.DataFrame) -> tuple[pd.DataFrame, float]:
    closed = opps[opps["outcome"] != "open"]
    per = (closed.assign(won=closed["outcome"] == "won")
           .groupby(["owner", "team"])["won"].agg(["sum", "count"]).reset_index())
    per = per.rename(columns={"sum": "won", "count": "n"})
    per["lost"] = per["n"] - per["won"]
    rows = []
    spreads, weights = [], []
    for _team, group in per.groupby("team"):
        a, b = _beta_binomial(group["won"].to_numpy(float), group["n"].to_numpy(float))
        team_rate = group["won"].sum() / group["n"].sum()
        # No spread beyond chance (a + b infinite): every owner is the team's rate.
        shrunk = ((group["won"] + a) / (group["n"] + a + b) if math.isfinite(a)
                  else pd.Series(team_rate, index=group.index))
        rows.append(group.assign(raw=group["won"] / group["n"], shrunk=shrunk,
                                 pooled=not math.isfinite(a)))
        if math.isfinite(a) and len(group) >= 2:
            spreads.append(math.sqrt(special.polygamma(1, a) + special.polygamma(1, b)))
            weights.append(float(group["n"].sum()))
    skill = pd.concat(rows, ignore_index=True)[["owner", "team", "won", "lost", "raw",
                                                "shrunk", "pooled"]]
    spread = float(np.average(spreads, weights=weights)) if spreads else 0.0
    return skill, spread


def _beta_binomial(k: np.ndarray, n: np.ndarray) -> tuple[float, float]:
    """Maximum-likelihood beta(a, b) of true rates behind k successes of n per owner.

    With no spread beyond chance the fit runs to a + b -> infinity: every owner is the
    team's rate, and the spread is 0.
    """
    p = k.sum() / n.sum()
    if p in (0.0, 1.0):
        return math.inf, math.inf

    def nll(theta: np.ndarray) -> float:
        a, b = np.exp(theta)
        return -float(np.sum(special.betaln(k + a, n - k + b) - special.betaln(a, b)))

    concentrations = np.log(np.logspace(-0.5, 5, 23))
    start = min(concentrations, key=lambda c: nll(np.log([p, 1 - p]) + c))
    res = optimize.minimize(nll, np.log([p, 1 - p]) + start, method="Nelder-Mead")
    a, b = np.exp(res.x)
    if a + b > 1e5:
        return math.inf, math.inf
    return float(a), float(b)


def stage_spread(spread_win_logit: float, stage_pass: list[float]) -> float:
    """The spread of one stage's logit that makes the win logits spread as found.

    A skill shift s at every stage moves the win logit by s * sum(1 - p_i) / (1 - p_win)
    to first order (p_i: each stage's pass rate, p_win their product).
    """
    p_win = float(np.prod(stage_pass))
    slope = sum(1 - p for p in stage_pass) / max(1 - p_win, 1e-9)
    return spread_win_logit / slope if slope > 0 else 0.0
