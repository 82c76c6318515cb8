"""What a comparison says, in words a client reads: the report's executive summary.

Every sentence is worked out from the numbers of ``Comparison.table()`` and of
``bottlenecks``: which scenario is best for each goal, what each alternative gains and
gives up against the baseline, where deals wait, and whether the replications are
enough to tell the differences shown from chance. A difference reads "better" or
"worse" by the KPI's direction (``salessim.kpis.better``) when its paired interval
excludes zero, and "within chance" when it does not.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import yaml

from salessim.bottlenecks import Bottlenecks, days_text
from salessim.formatting import (
    fmt_change,
    fmt_range,
    fmt_value,
    join_words,
    lower_first,
    readable,
)
from salessim.kpis import better
from salessim.plots import Labels, _cell
from salessim.scenario.diff import ABSENT, differences
from salessim.scenario.schema import Scenario

GOALS: tuple[str, ...] = ("profit", "conversion_rate", "cycle_time_p90_days", "cost")
"""The KPIs the summary names a best scenario for, unless told others."""
TRADE_KPIS: tuple[str, ...] = (
    "conversion_rate", "cycle_time_mean_days", "cycle_time_p90_days", "revenue", "collected",
    "cost", "cost_per_won", "profit", "on_time_delivery_rate", "satisfaction_mean",
    "repurchase_rate", "repeat_revenue", "days_sales_outstanding",
)
"""The KPIs a trade-off sentence weighs (those the scenarios have)."""
FEW_REPLICATIONS = 10
"""Fewer replications than this are warned about, whatever the intervals say."""
MOST_REPLICATIONS = 1000
"""The replications needed are not estimated beyond this: the difference is too small."""
NOISE_KEYS = frozenset({"name", "description"})
"""Paths that differ between any two scenarios and say nothing about the organisation."""


@dataclass(frozen=True)
class Verdict:
    """One difference to the baseline, read by the KPI's direction.

    Attributes:
        word: ``better``, ``worse``, ``within chance``, ``same`` (no difference at all)
            or ``""`` (the KPI has no better direction, e.g. utilisation; or no data).
        clear: Whether the paired interval excludes zero.
    """

    word: str
    clear: bool


def verdict(kpi: str, diff: float, low: float, high: float) -> Verdict:
    """Read a paired difference to the baseline: better, worse or within chance."""
    if not math.isfinite(diff):
        return Verdict("", False)
    if not (math.isfinite(low) and math.isfinite(high)):
        return Verdict("same" if diff == 0 else "", False)
    clear = low > 0 or high < 0
    way = better(kpi)
    if way is None:
        return Verdict("", clear)
    if not clear:
        return Verdict("within chance", False)
    return Verdict("better" if (diff > 0) == (way == "higher") else "worse", True)


@dataclass(frozen=True)
class Goal:
    """The scenario best on one goal KPI, and how sure that is.

    Attributes:
        kpi: The goal.
        label: The KPI in words with its unit.
        best: The scenario with the best mean.
        value: Its mean, with the unit.
        change: Its difference to the baseline with the unit and interval (``""`` for
            the baseline itself).
        reading: ``clearly better``, ``better on average, within chance`` or ``the
            baseline: no alternative does better on average``.
    """

    kpi: str
    label: str
    best: str
    value: str
    change: str
    reading: str


def goals(table: pd.DataFrame, baseline: str, kpis: Sequence[str], currency: str,
          labels: Labels) -> list[Goal]:
    """For each goal KPI with a direction, the best scenario by its mean and its reading."""
    names = _scenarios(table)
    out = []
    for kpi in (k for k in kpis if better(k) and k in _kpis(table)):
        means = {n: _cell(table, kpi, n, "mean") for n in names}
        ranked = [n for n in names if math.isfinite(means[n])]
        if not ranked:
            continue
        pick = max if better(kpi) == "higher" else min
        best = pick(ranked, key=means.__getitem__)
        if best == baseline or means[best] == means[baseline]:
            best, change, reading = baseline, "", "the baseline: no alternative does better"
        else:
            v = _verdict(table, kpi, best)
            change = _change(table, kpi, best, currency)
            reading = "clearly better" if v.clear else "better on average, within chance"
        out.append(Goal(kpi, labels.kpi_label(kpi, currency), best,
                        fmt_value(kpi, means[best], currency), change, reading))
    return out


def tradeoffs(table: pd.DataFrame, baseline: str, currency: str, labels: Labels,
              replications: int) -> list[str]:
    """One sentence per alternative: what it clearly gains and gives up against the baseline."""
    kpis = [k for k in TRADE_KPIS if k in _kpis(table)]
    out = []
    for name in (n for n in _scenarios(table) if n != baseline):
        found: dict[str, list[str]] = {"better": [], "worse": []}
        for kpi in kpis:
            v = _verdict(table, kpi, name)
            if v.word in found:
                diff = _cell(table, kpi, name, "diff")
                found[v.word].append(f"{labels.kpi_words(kpi)} ({fmt_change(kpi, diff, currency)})")
        gains, costs = found["better"], found["worse"]
        if not gains and not costs:
            out.append(f"{name}: no KPI differs clearly from the baseline with {replications} "
                       f"replications.")
        elif gains and costs:
            out.append(f"{name}: better on {join_words(gains)}, at the price of "
                       f"{join_words(costs)}.")
        else:
            out.append(f"{name}: {'better' if gains else 'worse'} on "
                       f"{join_words(gains or costs)}; {'worse' if gains else 'better'} on "
                       f"nothing that clearly differs.")
    return out


def bottleneck_sentences(analyses: Mapping[str, Bottlenecks], baseline: str,
                         labels: Mapping[str, Labels]) -> list[str]:
    """Where won deals wait longest for a rep in the baseline, and whether it moves."""
    base = analyses[baseline]
    lab = labels[baseline]
    if base.bottleneck is None:
        return [f"{baseline}: {_no_queue(base, lab)}"]
    row = base.stages.loc[base.bottleneck].to_dict()
    reps = lower_first(lab.role(str(row["role"]), plural=True))
    lines = [f"In {baseline}, won deals wait longest at {lab.stage(base.bottleneck)}: "
             f"{days_text(float(row['wait_days']))} for {reps} on average, "
             f"{float(row['wait_share']):.0%} of the cycle time; {reps} are "
             f"{float(row['utilisation']):.0%} busy."]
    for name, bn in analyses.items():
        if name == baseline:
            continue
        if bn.bottleneck is None:
            lines.append(f"In {name} no stage has a queue left.")
            continue
        wait = days_text(float(bn.stages["wait_days"].to_dict()[bn.bottleneck]))
        where = labels[name].stage(bn.bottleneck)
        lines.append(f"In {name} it stays there ({wait})." if bn.bottleneck == base.bottleneck
                     else f"In {name} it moves to {where} ({wait}).")
    return lines


def _no_queue(bn: Bottlenecks, lab: Labels) -> str:
    busiest = lower_first(lab.role(bn.busiest_role, plural=True))
    busy = float(bn.roles["utilisation"].to_dict()[bn.busiest_role])
    if not math.isfinite(bn.cycle_time_days):
        return f"no deal was won, so no wait to break down; {busiest} are the busiest ({busy:.0%})."
    return f"no stage has a queue; {busiest} are the busiest ({busy:.0%})."


def replication_warning(table: pd.DataFrame, baseline: str, kpis: Sequence[str],
                        replications: int, labels: Labels) -> str:
    """A warning when the replications are too few for the differences shown, else ``""``.

    Too few: fewer than ``FEW_REPLICATIONS``, or a goal KPI whose paired interval is
    wider than the difference it brackets. The replications that would narrow it to
    the difference are estimated from the square-root law of the interval's width.
    """
    wide = []
    for kpi in (k for k in kpis if k in _kpis(table) and better(k)):
        for name in (n for n in _scenarios(table) if n != baseline):
            diff = _cell(table, kpi, name, "diff")
            half = (_cell(table, kpi, name, "diff_ci_high")
                    - _cell(table, kpi, name, "diff_ci_low")) / 2
            if math.isfinite(half) and diff != 0 and half > abs(diff):
                need = math.ceil(replications * (half / abs(diff)) ** 2)
                wide.append((need, f"{labels.kpi_words(kpi)} of {name}"))
    parts = []
    if replications < FEW_REPLICATIONS:
        parts.append(f"Only {replications} replications per scenario: the intervals are wide "
                     f"and a difference can look large by chance; use at least "
                     f"{FEW_REPLICATIONS}.")
    if wide:
        wide.sort()
        shown = [f"{what} ({_replications_text(need)})" for need, what in wide[:4]]
        more = f", and {len(wide) - 4} more" if len(wide) > 4 else ""
        parts.append(f"These differences are smaller than their 95% intervals are wide, so "
                     f"they cannot be told from chance; the replications that would narrow "
                     f"each interval to its difference: {join_words(shown)}{more}.")
    return " ".join(parts)


def _replications_text(need: int) -> str:
    return (f"more than {MOST_REPLICATIONS:,} replications" if need > MOST_REPLICATIONS
            else f"about {need:,} replications")


def change_sentences(scenarios: Mapping[str, Scenario], labels: Labels
                     ) -> dict[str, list[str]]:
    """What each scenario changes against the first, one plain sentence per change.

    Names and descriptions are left out (they always differ); a part only one scenario
    has is said with the values it sets, not its defaults.
    """
    table = _changes(scenarios)
    base = next(iter(scenarios))
    out: dict[str, list[str]] = {}
    for name in list(scenarios)[1:]:
        lines = []
        for path in table.index:
            old, new = table.loc[path, base], table.loc[path, name]
            if old == new:
                continue
            thing = path_words(str(path), labels)
            if _absent(old):
                lines.append(f"{thing}: added ({value_words(new)}).")
            elif _absent(new):
                lines.append(f"{thing}: removed (was {value_words(old)}).")
            else:
                lines.append(f"{thing}: {value_words(new)} instead of {value_words(old)}.")
        out[name] = lines
    return out


def change_yaml(scenarios: Mapping[str, Scenario]) -> dict[str, str]:
    """Per scenario after the first, its changes to the first as a YAML document.

    Keys are key paths as ``Scenario.with_changes`` takes them, so the document applied
    to the first scenario gives the other one.
    """
    table = differences(dict(scenarios))
    base = next(iter(scenarios))
    out = {}
    for name in list(scenarios)[1:]:
        # A folded description ends in a line break, which YAML would quote oddly.
        changed = {str(p): v.strip() if isinstance(v, str) else v
                   for p, v, was in zip(table.index, table[name], table[base], strict=True)
                   if v != was}
        out[name] = yaml.safe_dump(changed, sort_keys=False, allow_unicode=True, width=88)
    return out


def _changes(scenarios: Mapping[str, Scenario]) -> pd.DataFrame:
    table = differences(dict(scenarios))
    return table.loc[[p for p in table.index if str(p).split(".")[0] not in NOISE_KEYS]]


KINDS = {"stages": "stage", "teams": "team", "roles": "role", "channels": "channel"}
"""Lists of named items, and what one item is called in a sentence."""


def path_words(path: str, labels: Labels) -> str:
    """A key path as words.

    ``teams.solutions.reps.se.headcount`` -> ``Team Solutions, solution engineers,
    headcount``.
    """
    parts = path.split(".")
    words: list[str] = []
    if parts[0] in KINDS and len(parts) > 1:
        kind, item = parts[0], parts[1]
        name = {"stages": labels.stage, "teams": labels.team, "roles": labels.role}.get(
            kind, readable)(item)
        words.append(f"{KINDS[kind].capitalize()} {name}")
        parts = parts[2:]
    while parts:
        if parts[0] == "reps" and len(parts) > 1:
            parts = parts[1:]  # a team's reps of a role, written with or without "reps"
        if parts[0] in labels.roles and len(parts) > 1:
            words.append(lower_first(labels.role(parts[0], plural=True)))
            parts = parts[1:]
            continue
        words.append(_field_words(parts[0]))
        parts = parts[1:]
    text = ", ".join(words)
    return text[:1].upper() + text[1:]


def _field_words(key: str) -> str:
    for suffix, unit in (("_days", "days"), ("_hours", "hours"), ("_per_day", "a day")):
        if key.endswith(suffix) and key != suffix.lstrip("_"):
            return f"{readable(key.removesuffix(suffix)).lower()} ({unit})"
    return readable(key).lower()


def value_words(value: Any) -> str:
    """A scenario value as words: a distribution by its parameters, a part by what it sets."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return f"{value:,g}"
    if isinstance(value, Mapping):
        kept = {k: v for k, v in value.items() if not _noise(str(k), v)}
        if "dist" in kept:
            params = [f"{_field_words(str(k))} {value_words(v)}" for k, v in kept.items()
                      if k != "dist"]
            return f"{kept['dist']}" + (f" with {join_words(params)}" if params else "")
        text = ", ".join(f"{_field_words(str(k))} {value_words(v)}" for k, v in kept.items())
        return _clip(text or "defaults only")
    if isinstance(value, list | tuple):
        return _clip(join_words([value_words(v) for v in value])) if value else "none"
    return _clip(str(value))


def _noise(key: str, value: Any) -> bool:
    """A value that only restates a default: empty, absent or zero (``skill_logit: 0.0``)."""
    if key == "headcount":
        return False
    return value is None or value == "" or value is False or (
        not isinstance(value, bool) and isinstance(value, int | float) and value == 0) or (
        isinstance(value, Mapping | list | tuple) and not value)


def _clip(text: str, most: int = 240) -> str:
    return text if len(text) <= most else text[:most - 1].rstrip(" ,") + "…"


def _absent(value: Any) -> bool:
    return isinstance(value, str) and value == ABSENT


def _scenarios(table: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(table.index.get_level_values("scenario").astype(str)))


def _kpis(table: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(table.index.get_level_values("kpi").astype(str)))


def _verdict(table: pd.DataFrame, kpi: str, name: str) -> Verdict:
    return verdict(kpi, *(_cell(table, kpi, name, c)
                          for c in ("diff", "diff_ci_low", "diff_ci_high")))


def _change(table: pd.DataFrame, kpi: str, name: str, currency: str) -> str:
    """``+215k EUR (-141k .. +571k)``: a difference with its unit and paired interval."""
    low, high = (_cell(table, kpi, name, c) for c in ("diff_ci_low", "diff_ci_high"))
    interval = fmt_range(kpi, low, high, sign=True)
    return f"{fmt_change(kpi, _cell(table, kpi, name, 'diff'), currency)} ({interval})"


def headline(table: pd.DataFrame, name: str, currency: str, replications: int) -> str:
    """One run's headline numbers in a sentence, each with its unit."""
    def value(kpi: str) -> str:
        return fmt_value(kpi, _cell(table, kpi, name, "mean"), currency)

    low, high = (_cell(table, "profit", name, c) for c in ("ci_low", "ci_high"))
    return (f"Over {replications} replications: {value('won')} won of "
            f"{value('leads')} (conversion {value('conversion_rate')}), a cycle time of "
            f"{value('cycle_time_mean_days')} on average and {value('cycle_time_p90_days')} "
            f"at the 90th percentile, revenue {value('revenue')}, cost {value('cost')} and "
            f"profit {value('profit')} (95% interval {fmt_range('profit', low, high)}).")
