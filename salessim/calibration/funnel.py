"""Stages: which deals entered each, how many passed, and how long they took there.

From the stage history each deal's visits are read in the process's order: a stage is
left when a later one is entered (passed), or when the deal closed (passed if won, lost
there if lost), or not at all by the export (open: censored). A stage a deal skipped on
its way to a later one counts as passed, with no duration. With no stage history the
whole deal is one stage, from created to closed.

- **Conversion** at each stage: a logistic regression on the deals that left the stage,
  with a base rate per grade and a logit effect per segment, product and channel (each
  against its commonest value), so that the effects add on the logit scale exactly as a
  scenario's ``adjust: {conversion_logit}`` does. A small ridge penalty keeps a value seen
  in a handful of deals from an infinite effect. Intervals come from the inverse Hessian.
  Deals still open at the stage are not counted either way: the model decides a stage's
  outcome independently of its duration, and then the deals that left are an unbiased
  sample of the outcome. ``survival.eventual_share`` gives the overall win rate without
  that assumption, for the report.
- **Time in stage**: of the deals that pass the stage, fitted apart from the deals lost
  there with the open deals censored (``survival.fit_competing``), for all deals and per
  segment; a segment's factor on the customer's delay is the ratio of its fitted mean to
  the commonest segment's. The model gives a stage one time whatever its outcome; it is
  the passing deals' time, because a won deal's cycle is made of them: in many CRMs a
  lost deal lingers in its stage until someone closes it, and counting that time would
  make every won deal look slower. The lost deals' own time is reported beside it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special

from salessim.calibration.estimates import Z95, Estimate
from salessim.calibration.survival import CompetingFit, DurationFit, fit_competing, fit_duration
from salessim.calibration.tables import CrmData

ADVANCED, LOST, OPEN = 1, 2, 0
EFFECTS: tuple[str, ...] = ("segment", "product", "channel")
"""Attributes with a conversion effect per stage (the grade has its own base rate)."""
RIDGE = 0.1
"""Penalty on the squared logit effects (about a prior sd of 3 on the logit scale)."""
MIN_ENDED = 20
"""A segment needs this many ended stage durations for its own delay factor."""


@dataclass(frozen=True)
class StageFit:
    """What the data say about one stage.

    Attributes:
        name: The stage.
        conversion: Grade -> chance of passing, at the commonest segment, product and
            channel.
        effects: Attribute -> value -> logit effect on passing.
        duration: Time in stage of the deals that pass it (days).
        lost_duration: Time in stage of the deals lost there (days).
        delay_scale: Segment -> factor on the time in stage (the commonest has none).
        segment_fits: Segment -> its own fits of passing and lost deals.
        entered: Deals that entered the stage (or skipped it on their way on).
        passed: Deals that passed it.
        lost: Deals lost at it.
        open: Deals open at it on the export day.
    """

    name: str
    conversion: dict[str, float]
    effects: dict[str, dict[str, float]]
    duration: DurationFit
    lost_duration: DurationFit
    delay_scale: dict[str, float]
    segment_fits: dict[str, CompetingFit]
    entered: int
    passed: int
    lost: int
    open: int


def stage_records(crm: CrmData, stages: list[str]) -> pd.DataFrame:
    """One row per deal and stage it reached.

    Returns:
        Columns ``id``, ``stage``, ``entered`` (days; NaN when skipped), ``left`` (days;
        the end of the export day when open), ``event`` (``ADVANCED``, ``LOST`` or ``OPEN``) and the
        deal's ``grade``, ``segment``, ``product``, ``channel``, ``owner``, ``team``.
    """
    opps = crm.opportunities.set_index("id", drop=False)
    if crm.history is None:
        rows = pd.DataFrame({"id": opps["id"], "stage": stages[0], "entered": opps["created"],
                             "left": opps["closed"].fillna(crm.end_day),
                             "event": opps["outcome"].map({"won": ADVANCED, "lost": LOST,
                                                           "open": OPEN})})
    else:
        rows = _from_history(crm, opps, stages)
    cols = ["grade", "segment", "product", "channel", "owner", "team"]
    joined = rows.join(opps[cols], on="id")
    return joined.reset_index(drop=True)


def _from_history(crm: CrmData, opps: pd.DataFrame, stages: list[str]) -> pd.DataFrame:
    assert crm.history is not None
    order = {s: i for i, s in enumerate(stages)}
    first = (crm.history.assign(k=crm.history["stage"].map(order))
             .groupby(["id", "k"], sort=True)["entered"].min().reset_index())
    out: list[tuple[str, str, float, float, int]] = []
    outcomes = opps["outcome"].to_dict()
    closes = opps["closed"].to_dict()
    for key, group in first.groupby("id", sort=True):
        deal = str(key)
        ks, times = group["k"].to_numpy(), group["entered"].to_numpy(dtype=float)
        outcome, closed = str(outcomes[deal]), float(closes[deal])
        end = closed if outcome != "open" else crm.end_day
        for j, (k, t) in enumerate(zip(ks, times, strict=True)):
            if j + 1 < len(ks):
                out.extend((deal, stages[s], math.nan, times[j + 1], ADVANCED)
                           for s in range(k + 1, ks[j + 1]))
                out.append((deal, stages[k], t, max(times[j + 1], t), ADVANCED))
                continue
            event = {"won": ADVANCED, "lost": LOST, "open": OPEN}[outcome]
            out.append((deal, stages[k], t, max(end, t), event))
            if outcome == "won":
                out.extend((deal, stages[s], math.nan, end, ADVANCED)
                           for s in range(k + 1, len(stages)))
    return pd.DataFrame(out, columns=["id", "stage", "entered", "left", "event"])


def fit_stages(records: pd.DataFrame, stages: list[str], grades: list[str]
               ) -> tuple[list[StageFit], list[Estimate]]:
    """Conversion and time in stage of every stage."""
    fits, estimates = [], []
    for stage in stages:
        mine = records[records["stage"] == stage]
        if (mine["event"] != OPEN).sum() == 0 or mine["entered"].notna().sum() == 0:
            raise ValueError(f"no deal left stage {stage} before the export")
        conversion, effects, found = _conversion(mine, stage, grades)
        estimates += found
        timed = mine[mine["entered"].notna()]
        both = _durations(timed)
        duration = both.passed
        scale, seg_fits = _segment_scales(timed)
        for key, what, fit in (("time_in_stage", "deals that pass", both.passed),
                               ("time_to_loss", "deals lost there", both.lost)):
            estimates.append(Estimate(
                f"stages.{stage}.{key}", f"mean days in {stage} of {what}", fit.mean,
                fit.ci_low, fit.ci_high, fit.n,
                f"{fit.family}, passing and lost deals apart, {fit.n - fit.ended} open "
                "censored"))
        fits.append(StageFit(stage, conversion, effects, duration, both.lost, scale, seg_fits,
                             len(mine), int((mine["event"] == ADVANCED).sum()),
                             int((mine["event"] == LOST).sum()),
                             int((mine["event"] == OPEN).sum())))
    return fits, estimates


def _durations(timed: pd.DataFrame) -> CompetingFit:
    return fit_competing((timed["left"] - timed["entered"]).to_numpy(float),
                         timed["event"].to_numpy(np.int64))


def _segment_scales(timed: pd.DataFrame) -> tuple[dict[str, float], dict[str, CompetingFit]]:
    segments = timed["segment"].value_counts()
    fits: dict[str, CompetingFit] = {}
    for seg in segments.index:
        of = timed[timed["segment"] == seg]
        if (of["event"] == ADVANCED).sum() >= MIN_ENDED:
            fits[str(seg)] = _durations(of)
    if len(fits) < 2:
        return {}, fits
    reference = fits[str(segments.index[0])]
    return {s: f.passed.mean / reference.passed.mean for s, f in fits.items()
            if s != str(segments.index[0])}, fits


def _conversion(mine: pd.DataFrame, stage: str, grades: list[str]
                ) -> tuple[dict[str, float], dict[str, dict[str, float]], list[Estimate]]:
    left = mine[mine["event"] != OPEN]
    y = (left["event"] == ADVANCED).to_numpy(dtype=float)
    grade = left["grade"].fillna(grades[0]) if len(grades) == 1 else left["grade"]
    usable = grade.notna().to_numpy()
    columns: list[tuple[str, str]] = [("grade", g) for g in grades]
    blocks = [(grade == g).to_numpy(dtype=float)[:, None] for g in grades]
    for attr in EFFECTS:
        counts = left[attr].value_counts()
        if len(counts) < 2:
            continue
        usable &= left[attr].notna().to_numpy()
        for value in sorted(counts.index[1:]):
            blocks.append((left[attr] == value).to_numpy(dtype=float)[:, None])
            columns.append((attr, str(value)))
    x = np.hstack(blocks)[usable]
    beta, se = _logistic(x, y[usable], len(grades))
    n_by_col = x.sum(axis=0)
    conversion: dict[str, float] = {}
    effects: dict[str, dict[str, float]] = {}
    estimates: list[Estimate] = []
    for (attr, value), b, s, n in zip(columns, beta, se, n_by_col, strict=True):
        if attr == "grade":
            conversion[value] = float(f"{special.expit(b):.4g}") if n > 0 else 0.5
            estimates.append(Estimate(
                f"stages.{stage}.conversion.{value}", f"chance grade {value} passes {stage}",
                float(special.expit(b)), float(special.expit(b - Z95 * s)),
                float(special.expit(b + Z95 * s)), int(n),
                "logistic regression on deals that left the stage"))
        else:
            effects.setdefault(attr, {})[value] = float(f"{b:.3g}")
            estimates.append(Estimate(
                f"stages.{stage}.adjust.{attr}.{value}.conversion_logit",
                f"logit effect of {attr} {value} at {stage}", float(b), float(b - Z95 * s),
                float(b + Z95 * s), int(n), "logistic regression coefficient"))
    return conversion, effects, estimates


def _logistic(x: np.ndarray, y: np.ndarray, free: int) -> tuple[np.ndarray, np.ndarray]:
    """Penalised logistic regression: the first ``free`` columns are not penalised."""
    penalty = np.r_[np.zeros(free), np.full(x.shape[1] - free, RIDGE)]

    def loss(b: np.ndarray) -> tuple[float, np.ndarray]:
        z = x @ b
        ll = float(np.sum(y * z - np.logaddexp(0.0, z)))
        grad = x.T @ (y - special.expit(z))
        return -ll + 0.5 * float(penalty @ (b * b)), -grad + penalty * b

    start = np.zeros(x.shape[1])
    res = optimize.minimize(loss, start, jac=True, method="L-BFGS-B")
    p = special.expit(x @ res.x)
    hess = (x * (p * (1 - p))[:, None]).T @ x + np.diag(penalty + 1e-9)
    cov = np.linalg.pinv(hess)
    return res.x, np.sqrt(np.maximum(np.diag(cov), 0.0))


def time_to_close(crm: CrmData) -> DurationFit:
    """Created to closed for every deal, the open ones censored at the export."""
    opps = crm.opportunities
    closed = opps["outcome"] != "open"
    days = np.where(closed, opps["closed"], crm.end_day) - opps["created"]
    return fit_duration(days.to_numpy(float), closed.to_numpy())
