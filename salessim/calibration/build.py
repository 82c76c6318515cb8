"""The calibrated scenario: estimates and stated assumptions put together as a document.

What the data cannot tell is an assumption, written as such: the reps' working time per
stage (a CRM records dates, not hours), marketing cost per lead, payment terms and the
gross margin. Each has a default here, said in ``DEFAULT_ASSUMPTIONS``, and the mapping's
``assumptions`` replace any of them (or anything else, by key path).

How the time in a stage is split: the data give the time from entering a stage to
leaving it; in the model that is the rep's work (the assumed effort, stretched by the
non-selling share), then the customer's delay. The customer's delay is therefore the
fitted time in stage of the deals that pass it, with its mean lowered by the mean work
time (same coefficient of variation); the time of the deals lost there, lowered the
same way, is the stage's ``decline_delay_days`` (how long a "no" takes). Waiting for
a busy rep comes on top in the simulation; the back-test shows whether it matters.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scipy import stats

from salessim.calibration.arrivals import ChannelFit
from salessim.calibration.funnel import StageFit
from salessim.calibration.reps import TeamFit, stage_spread
from salessim.calibration.survival import CompetingFit, DurationFit
from salessim.calibration.values import ValueFit
from salessim.scenario.errors import Problem, ScenarioError
from salessim.scenario.mapping_spec import MappingSpec
from salessim.scenario.schema import Scenario

COUNTED_DAYS = 250.0
"""The calibrated scenario counts one working year after its warm-up."""
DRAIN_DAYS = 250.0
MIN_CUSTOMER_SHARE = 0.1
"""The assumed work may take at most 90 % of a stage's observed time."""

DEFAULT_EFFORT: dict[str, Any] = {"dist": "triangular", "low": 0.5, "mode": 1.0, "high": 2.0}

DEFAULT_ASSUMPTIONS: dict[str, tuple[Any, str]] = {
    "payment.invoice_delay_days": ({"dist": "fixed", "value": 5.0},
                                   "assumed (invented default): invoice 5 days after the win"),
    "payment.payment_days": ({"dist": "gamma", "mean": 30.0, "sd": 10.0},
                             "assumed (invented default): paid about 30 days after the invoice"),
    "money.gross_margin": (1.0, "assumed: margin not in the data, profit = revenue - cost"),
}
"""Key path -> (value, comment) of what no CRM export says; the mapping may replace each."""


@dataclass(frozen=True)
class Pieces:
    """Everything estimated, ready to be written."""

    values: dict[str, list[str]]
    channels: list[ChannelFit]
    deal_value: ValueFit
    stages: list[StageFit]
    teams: TeamFit
    time_to_close: DurationFit


def assumption_comments(mapping: MappingSpec, channels: list[str]) -> dict[str, str]:
    """Key path -> comment for every assumption the scenario carries."""
    notes = {path: comment for path, (_, comment) in DEFAULT_ASSUMPTIONS.items()}
    for s in mapping.stages:
        notes[f"stages.{s.name}.effort_hours"] = (
            "assumed (invented default): rep hours per attempt; a CRM has no working time")
    for ch in channels:
        notes[f"channels.{ch}.cost_per_lead"] = "assumed: marketing cost not in the data"
    for path in mapping.assumptions:
        notes[path] = "assumed in the mapping file"
    return notes


def derived_comments(mapping: MappingSpec, p: Pieces, sc: Scenario) -> dict[str, str]:
    """Key path -> comment for the numbers computed from several estimates."""
    owner = mapping.owner_role.name
    ttc = p.time_to_close
    notes = {
        "calendar.warmup_days": (f"nine in ten deals close within this (90th percentile of the "
                                 f"time to close, {ttc.family} fit, rounded up)"),
        "calendar.horizon_days": "the warm-up plus one counted year of 250 working days",
        "handoff.delay_days": "none added: the time in stage in the data includes any handoff",
        f"roles.{owner}.skill_spread_logit": (
            f"owners' win logits spread {p.teams.spread_win_logit:.2f} (empirical Bayes, "
            f"beta-binomial per team, {len(p.teams.skill)} owners), per stage by the delta "
            "method"),
    }
    for team in p.teams.teams:
        notes[f"teams.{team}.reps.{owner}.headcount"] = (
            "owners with a deal created in the last 3 months of the data")
    for c in p.channels:
        if c.schedule is not None:
            notes[f"channels.{c.name}.schedule"] = (
                f"the calendar months differ (chi-square p={c.seasonality_p:.2g}): each "
                "month's deals per working day against the channel's, repeating yearly")
    for fit in p.stages:
        stage = sc.stages[sc.stage_index(fit.name)]
        both = _base_fits(fit)
        work = both.passed.mean - stage.customer_delay_days.mean()
        for key, d, whose in (("customer_delay_days", both.passed, "passing"),
                              ("decline_delay_days", both.lost, "lost")):
            notes[f"stages.{fit.name}.{key}"] = (
                f"time in stage of {whose} deals {d.mean:.3g} days (95% {d.ci_low:.3g} to "
                f"{d.ci_high:.3g}, {d.ended:,} {whose}, {d.n - d.ended:,} open: {d.family}, "
                f"fitted with censoring) less the rep's work, {work:.2f} days")
        for seg in fit.delay_scale:
            notes[f"stages.{fit.name}.adjust.segment.{seg}.customer_delay_scale"] = (
                f"{seg} deals' time in stage against the others' (censored fits), less work")
    return notes


def scenario_document(mapping: MappingSpec, pieces: Pieces, source: str) -> dict[str, Any]:
    """The calibrated scenario as a document, assumptions applied.

    Raises:
        ScenarioError: If the mapping's assumptions do not fit the scenario (named at
            ``assumptions`` of ``source``) or leave no time for the customer.
    """
    draft = _document(mapping, pieces, {}, source)
    scenario = _with_assumptions(draft, mapping, source)
    effort = {s.name: _work_days(scenario, s.name) for s in scenario.stages}
    final = _document(mapping, pieces, effort, source)
    return _with_assumptions(final, mapping, source).to_document()


def _with_assumptions(document: dict[str, Any], mapping: MappingSpec, source: str) -> Scenario:
    base = Scenario.from_document(document, "<calibrated>")
    changes = {p: v for p, (v, _) in DEFAULT_ASSUMPTIONS.items()} | dict(mapping.assumptions)
    return base.with_changes(changes, source=f"{source} (assumptions)")


def _work_days(sc: Scenario, stage: str) -> float:
    s = sc.stages[sc.stage_index(stage)]
    share = sc.role(s.role).non_selling_share
    return float(s.effort_hours.mean()) / (1 - share) / sc.calendar.hours_per_day


def _document(mapping: MappingSpec, p: Pieces, effort_days: Mapping[str, float],
              source: str) -> dict[str, Any]:
    warmup = _warmup(p.time_to_close)
    return {
        "schema_version": 1,
        "name": mapping.name,
        "description": mapping.description or f"Calibrated from {mapping.opportunities.file}",
        "calendar": {"horizon_days": warmup + COUNTED_DAYS, "warmup_days": warmup,
                     "drain_limit_days": DRAIN_DAYS,
                     "hours_per_day": mapping.calendar.hours_per_day},
        "grades": p.values["grade"], "regions": p.values["region"],
        "products": p.values["product"], "segments": p.values["segment"],
        "channels": [_channel(c) for c in p.channels],
        "deal_value": {"distribution": p.deal_value.distribution,
                       "multipliers": p.deal_value.multipliers},
        "roles": [_role(r, p) for r in mapping.roles],
        "teams": _teams(mapping, p),
        "stages": [_stage(s, f, effort_days, source)
                   for s, f in zip(mapping.stages, p.stages, strict=True)],
        "handoff": {"delay_days": {"dist": "fixed", "value": 0.0}},
        "payment": {"invoice_delay_days": {"dist": "fixed", "value": 0.0},
                    "payment_days": {"dist": "fixed", "value": 0.0}},
        "money": {"currency": mapping.currency},
    }


def _warmup(fit: DurationFit) -> float:
    """Long enough for nine in ten deals to close: the 90th percentile, up to 10 days."""
    dist = fit.distribution()
    if fit.family == "exponential":
        p90 = stats.expon.ppf(0.9, scale=fit.mean)
    elif fit.family == "lognormal":
        s2 = math.log1p((fit.sd / fit.mean) ** 2)
        p90 = stats.lognorm.ppf(0.9, s=math.sqrt(s2), scale=fit.mean * math.exp(-s2 / 2))
    else:
        p90 = stats.gamma.ppf(0.9, (dist["mean"] / dist["sd"]) ** 2,
                              scale=dist["sd"] ** 2 / dist["mean"])
    return float(max(20.0, math.ceil(p90 / 10.0) * 10.0))


def _channel(c: ChannelFit) -> dict[str, Any]:
    out: dict[str, Any] = {"name": c.name, "leads_per_day": float(f"{c.leads_per_day:.4g}"),
                           "cost_per_lead": 0.0}
    if c.schedule is not None:
        out["schedule"] = c.schedule
    out["mix"] = c.mix
    return out


def _role(r: Any, p: Pieces) -> dict[str, Any]:
    out: dict[str, Any] = {"name": r.name, "title": r.title or r.name,
                           "salary_per_day": r.salary_per_day,
                           "assignment": "owner" if r.owns_deals else "pooled",
                           "non_selling_share": r.non_selling_share}
    if r.owns_deals:
        passes = [_overall_pass(s) for s in p.stages]
        out["skill_spread_logit"] = float(f"{stage_spread(p.teams.spread_win_logit, passes):.3g}")
    return out


def _overall_pass(s: StageFit) -> float:
    left = s.passed + s.lost
    return s.passed / left if left else 0.5


def _teams(mapping: MappingSpec, p: Pieces) -> list[dict[str, Any]]:
    owner = mapping.owner_role.name
    plural = {"region": "regions", "segment": "segments", "product": "products"}
    out = []
    for team, covered in p.teams.teams.items():
        entry: dict[str, Any] = {"name": team}
        if p.teams.by is not None:
            entry[plural[p.teams.by]] = covered
        entry["reps"] = {owner: {"headcount": p.teams.headcount[team]}}
        out.append(entry)
    taken = set(p.teams.teams)
    for r in mapping.roles:
        if not r.owns_deals:
            name = r.name if r.name not in taken else f"{r.name}_team"
            out.append({"name": name, "reps": {r.name: {"headcount": r.headcount}}})
    return out


def _base_fits(fit: StageFit) -> CompetingFit:
    """The fits the stage's base delays are made of: the reference segment's, or all."""
    reference = _reference_segment(fit)
    if reference is not None:
        return fit.segment_fits[reference]
    return CompetingFit(fit.duration, fit.lost_duration, math.nan)


def _stage(spec: Any, fit: StageFit, effort_days: Mapping[str, float], source: str
           ) -> dict[str, Any]:
    work = effort_days.get(spec.name, 0.0)
    both = _base_fits(fit)
    delay_mean = _delay_mean(spec.name, both.passed, work, source)
    adjust: dict[str, dict[str, dict[str, float]]] = {}
    for seg in fit.delay_scale:
        scale = _delay_mean(spec.name, fit.segment_fits[seg].passed, work, source) / delay_mean
        adjust.setdefault("segment", {}).setdefault(seg, {})["customer_delay_scale"] = float(
            f"{scale:.4g}")
    for attr, effects in fit.effects.items():
        for value, logit in effects.items():
            adjust.setdefault(attr, {}).setdefault(value, {})["conversion_logit"] = logit
    out: dict[str, Any] = {
        "name": spec.name, "role": spec.role, "effort_hours": DEFAULT_EFFORT,
        "customer_delay_days": both.passed.distribution(delay_mean),
        "conversion": fit.conversion,
    }
    if both.lost is not both.passed:  # fitted apart: a "no" takes its own time
        decline = max(both.lost.mean - work, MIN_CUSTOMER_SHARE * both.lost.mean)
        out["decline_delay_days"] = both.lost.distribution(decline)
    if adjust:
        out["adjust"] = adjust
    return out


def _delay_mean(stage: str, fit: DurationFit, work: float, source: str) -> float:
    """The customer's mean delay: the time in stage less the rep's work (days)."""
    delay = fit.mean - work
    if delay < MIN_CUSTOMER_SHARE * fit.mean:
        raise ScenarioError(source, [Problem(
            f"assumptions: stages.{stage}.effort_hours",
            f"the assumed work ({work:.2f} days with the non-selling share) is more than "
            f"{1 - MIN_CUSTOMER_SHARE:.0%} of the {fit.mean:.2f} days deals spend in "
            f"{stage}; assume less effort")])
    return delay


def _reference_segment(fit: StageFit) -> str | None:
    """The segment the base delay is for: the one with a fit and no scale of its own."""
    if not fit.delay_scale:
        return None
    return next(s for s in fit.segment_fits if s not in fit.delay_scale)
