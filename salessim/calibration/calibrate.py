"""``calibrate``: a CRM export in, a scenario out, with where every number came from."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from salessim.calibration.arrivals import channel_names, fit_arrivals
from salessim.calibration.build import (
    Pieces,
    assumption_comments,
    derived_comments,
    scenario_document,
)
from salessim.calibration.estimates import Estimate, table, wilson
from salessim.calibration.funnel import fit_stages, stage_records, time_to_close
from salessim.calibration.reps import fit_teams
from salessim.calibration.survival import eventual_share
from salessim.calibration.tables import CrmData, read_crm
from salessim.calibration.values import fit_values
from salessim.scenario.annotated import dump_commented
from salessim.scenario.document import apply_changes
from salessim.scenario.errors import Problem, ScenarioError
from salessim.scenario.loader import read_mapping
from salessim.scenario.mapping_spec import MappingSpec
from salessim.scenario.schema import Scenario

ABSENT = "any"
"""The one value of a lead attribute the data do not have."""


@dataclass(frozen=True)
class Calibration:
    """A scenario calibrated from a CRM export.

    Attributes:
        mapping: The mapping it was made with.
        source: The mapping file.
        data: The checked export.
        scenario: The calibrated scenario: one counted year after a warm-up, with the
            headcounts of the last months of the data.
        estimates: One row per estimated number, indexed by key path: ``what``,
            ``value``, ``ci_low``, ``ci_high`` (95 %), ``n`` and ``method``.
        pieces: The fits behind the scenario (for the fit report).
    """

    mapping: MappingSpec
    source: str
    data: CrmData
    scenario: Scenario
    estimates: pd.DataFrame
    pieces: Pieces

    @cached_property
    def assumptions(self) -> pd.DataFrame:
        """What the data cannot tell, as the scenario holds it.

        Returns:
            Index ``path`` (key path); columns ``value`` (as in the scenario) and
            ``why`` (from the mapping file, or the calibration's stated default).
        """
        comments = assumption_comments(self.mapping, channel_names(self.data))
        full = self.scenario.to_document()
        rows = [{"path": p, "value": _at(full, p), "why": why} for p, why in comments.items()]
        return pd.DataFrame(rows, columns=["path", "value", "why"]).set_index("path")

    @cached_property
    def yaml(self) -> str:
        """The scenario as YAML with a comment beside every estimate and assumption."""
        comments = {p: Estimate(p, *row).comment()
                    for p, row in zip(self.estimates.index,
                                      self.estimates.itertuples(index=False), strict=True)}
        comments |= derived_comments(self.mapping, self.pieces, self.scenario)
        comments |= assumption_comments(self.mapping, channel_names(self.data))
        start, export = self.data.calendar.start, self.mapping.export_date
        header = (
            f"{self.mapping.name}\n"
            f"Calibrated by salessim from {Path(self.source).name}: "
            f"{len(self.data.opportunities):,} deals created {start} to {export} "
            f"(working day 0 is {start}).\n"
            "Each estimate's comment gives its 95% interval, the number of deals (n) and the "
            "method;\n"
            "'assumed' marks what the data cannot tell: change it in the mapping's "
            "assumptions.\n"
            "Times are working days; money is in " + self.mapping.currency + ".")
        return dump_commented(_compact(self.scenario, comments), comments, header)


def _compact(sc: Scenario, comments: dict[str, str]) -> dict[str, Any]:
    """The scenario without the keys that are at their default, except commented ones."""
    full = sc.to_document()
    compact = sc.model_dump(mode="json", by_alias=True, exclude_none=True,
                            exclude_defaults=True)
    for path in comments:
        try:
            value = _at(full, path)
            compact = apply_changes(compact, {path: value})
        except KeyError:
            continue
    return compact


def _at(document: Any, path: str) -> Any:
    node = document
    for part in path.split("."):
        if isinstance(node, list):
            node = next(item for item in node if item.get("name") == part)
        else:
            node = node[part]
    return node


def calibrate(mapping: str | Path) -> Calibration:
    """Calibrate a scenario from the CRM export a mapping file describes.

    Args:
        mapping: The mapping file (YAML): where the opportunity table, the optional
            stage history and lookups are, which column means what, the roles and
            stages, and any assumptions (``salessim.scenario.mapping_spec``).

    Returns:
        The calibration: ``scenario``, ``yaml`` (commented), ``estimates``; see
        ``salessim.calibration.backtest`` for the back-test.

    Raises:
        ScenarioError: One message naming the file, the column or key and the rows of
            every problem found; nothing is estimated from a table with problems.
    """
    path = Path(mapping)
    spec = read_mapping(path)
    crm = read_crm(spec, path.parent, str(path))
    return calibrate_data(crm, spec, str(path))


def calibrate_data(crm: CrmData, mapping: MappingSpec, source: str) -> Calibration:
    """Calibrate from an export already read (``calibrate`` reads it first)."""
    values = _values(crm)
    try:
        channels, est = fit_arrivals(crm, values)
        deal_value, found = fit_values(crm)
        est += found
        records = stage_records(crm, [s.name for s in mapping.stages])
        stages, found = fit_stages(records, [s.name for s in mapping.stages], values["grade"])
        est += found
        teams = fit_teams(crm, values)
        closing = time_to_close(crm)
    except ValueError as err:
        raise ScenarioError(source, [Problem("", f"cannot calibrate: {err}")]) from None
    est.append(Estimate("time_to_close", "mean days from created to closed", closing.mean,
                        closing.ci_low, closing.ci_high, closing.n,
                        f"{closing.family} fitted with censoring"))
    est += _win_rates(crm)
    pieces = Pieces(values, channels, deal_value, stages, teams, closing)
    document = scenario_document(mapping, pieces, source)
    scenario = Scenario.from_document(document, source)
    return Calibration(mapping, source, crm, scenario, table(est), pieces)


def _win_rates(crm: CrmData) -> list[Estimate]:
    """The share of deals won in the end, overall and by grade, segment and product."""
    opps = crm.opportunities
    out = [_win_rate(opps, crm.end_day, "win_rate", "all deals")]
    for attr in ("grade", "segment", "product"):
        for value, group in opps.groupby(attr):
            out.append(_win_rate(group, crm.end_day, f"win_rate.{attr}.{value}",
                                 f"{attr} {value}"))
    return out


def _win_rate(opps: pd.DataFrame, end_day: float, path: str, who: str) -> Estimate:
    """Aalen-Johansen: won against lost as competing risks, open deals censored."""
    ended = opps["outcome"] != "open"
    days = (np.where(ended, opps["closed"], end_day) - opps["created"]).to_numpy(float)
    code = np.asarray(opps["outcome"].map({"won": 1, "lost": 2, "open": 0}), dtype=np.int64)
    share = eventual_share(days, code)
    closed = int(ended.sum())
    _, low, high = wilson(share * closed, closed)
    return Estimate(path, f"share of {who} won in the end", share, low, high, len(opps),
                    "Aalen-Johansen cumulative incidence of won and lost, open deals "
                    "censored; Wilson interval on the closed deals")


def _values(crm: CrmData) -> dict[str, list[str]]:
    opps = crm.opportunities
    out = {}
    for attr in ("grade", "region", "product", "segment"):
        found = sorted(str(v) for v in opps[attr].dropna().unique())
        out[attr] = found or [ABSENT]
    return out


def cut(crm: CrmData, export: dt.date) -> CrmData:
    """The export as it would have been on an earlier day.

    Deals created after it are gone, deals closed after it are open, and stage changes
    after it are not yet made. The hold-out test calibrates on this.
    """
    day = crm.calendar.day_of(export)
    opps = crm.opportunities[crm.opportunities["created"] < day + 1].copy()
    later = opps["closed"] >= day + 1
    opps.loc[later, "outcome"] = "open"
    opps.loc[later, "closed"] = np.nan
    history = crm.history
    if history is not None:
        history = history[(history["entered"] < day + 1) & history["id"].isin(set(opps["id"]))]
        history = history.reset_index(drop=True)
    return replace(crm, opportunities=opps.reset_index(drop=True), history=history,
                   export_day=day)
