"""The fit report: one self-contained HTML file of how well a calibration reproduces its data.

A consultant hands it to the client whose CRM export was calibrated. It opens with a
summary in words computed from the numbers (what data, what period, whether the
simulated company reproduces the history), then warnings said plainly where the history
falls outside the simulated range or the ranges are rough, then the back-test and the
hold-out tables, the figures (``salessim.fitplots``), every estimate with its interval,
the assumptions the data could not support, and what was found in the data on the way.
Figures are embedded as base64 PNG and the style is inline: the file opens without a
network, and prints on A4 with its tables inside the page.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader
from matplotlib.figure import Figure
from numpy.typing import NDArray

import salessim
from salessim import fitplots
from salessim.calibration import Backtest, Calibration
from salessim.calibration.survival import kaplan_meier
from salessim.files import write_text_atomic
from salessim.fitplots import FloatArray
from salessim.report import _png
from salessim.scenario.yaml12 import dump_flow

FEW_REPLICATIONS = 40
"""Below this many replications the report says its ranges are rough: the 2.5th and
97.5th percentiles of n runs lie near their extremes, which cover only about
(n - 1) / (n + 1) of outcomes (90 % for 20 runs)."""
FAR_FROM_CHANCE = 2.0
"""A distribution whose distance to the simulation is this many times the distance
between two runs is said to differ by more than chance."""
BURSTY_P = 0.05
"""A channel whose daily arrivals are over-dispersed at this level is said to be bursty."""
NBSP = "\u00a0"
MEASURES: dict[str, tuple[str, str, str, int]] = {
    "time to close (days)": ("time to close of closed deals", "mean, working days", "days", 1),
    "time to close, won deals (days)": ("time to close of won deals", "mean, working days",
                                        "days", 1),
    "time to close, lost deals (days)": ("time to close of lost deals", "mean, working days",
                                         "days", 1),
    "deals per owner": ("deals created per owner", "mean", "deals", 1),
    "deals created": ("deals created", "", "deals", 0),
    "deals won": ("deals won", "", "deals", 0),
    "deals open at the end": ("deals open on the last day", "", "deals", 0),
}
"""``Backtest.distances()`` measures: their words, what of them a table shows, their unit
and the decimals their values are written with."""
SECTIONS = {"channels": "Arrivals", "deal_value": "Deal values", "stages": "Stages",
            "time_to_close": "Time to close"}
"""Estimates are grouped by the first part of their key path."""


def write_fit_report(path: str | Path, calibration: Calibration, backtest: Backtest,
                     holdout: Backtest, *, command: str | None = None) -> Path:
    """Write the fit report as one HTML file, atomically.

    Args:
        path: File to write; its folder must exist.
        calibration: The calibration (``salessim.calibration.calibrate``).
        backtest: Its back-test over the data's period (``calibration.backtest``).
        holdout: Its hold-out test (``calibration.holdout``).
        command: The command that re-makes the report, shown in it.

    Returns:
        The path written.

    Raises:
        OSError: If the file cannot be written (one line naming the path and why).
    """
    html = fit_report_html(calibration, backtest, holdout, command=command)
    try:
        return write_text_atomic(path, html)
    except OSError as err:
        raise OSError(f"cannot write the fit report to {path}: {err.strerror or err}") from err


def fit_report_html(calibration: Calibration, backtest: Backtest, holdout: Backtest, *,
                    command: str | None = None) -> str:
    """The fit report's HTML text (see ``write_fit_report`` for the arguments)."""
    cal = calibration
    back, held = _score(backtest), _score(holdout)
    context: dict[str, Any] = {
        "title": f"Fit report: {cal.scenario.name}",
        "version": salessim.__version__,
        "source": cal.source,
        "export": _date(cal.mapping.export_date),
        "replications": back.replications,
        "data_summary": data_summary(cal),
        "fit_summary": _fit_summary(back, held),
        "warnings": _warnings(cal, back, held),
        "tests": [_test_context(back, _backtest_words(backtest)),
                  _test_context(held, _holdout_words(holdout))],
        "figures": [{"png": _png(fig, dpi=fitplots.SLIDE_DPI), "caption": caption}
                    for fig, caption in figures(cal, backtest, holdout)],
        "estimates": _estimate_groups(cal.estimates),
        "assumptions": _assumptions(cal),
        "notes": list(cal.data.notes),
        "command": command,
        "yaml": cal.yaml,
    }
    env = Environment(loader=PackageLoader("salessim", "templates"), autoescape=True,
                      trim_blocks=True, lstrip_blocks=True)
    return env.get_template("fit.html.j2").render(context)


@dataclass(frozen=True)
class _Scores:
    """A back-test's comparisons, computed once, as plain rows.

    Attributes:
        label: ``back-test`` or ``hold-out``.
        replications: Simulated runs.
        months: First day of each month scored.
        distances: Measure -> ``Backtest.distances()`` row.
        win_rates: ``Backtest.win_rates()`` rows, with ``by`` and ``value``.
    """

    label: str
    replications: int
    months: list[dt.date]
    distances: dict[str, dict[str, Any]]
    win_rates: list[dict[str, Any]]


def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain dicts, the index levels first."""
    return [{str(k): v for k, v in row.items()}
            for row in table.reset_index().to_dict(orient="records")]


def _score(bt: Backtest) -> _Scores:
    return _Scores(bt.label, bt.replications, bt.scored_months,
                   {str(r["measure"]): r for r in _records(bt.distances())},
                   _records(bt.win_rates()))


# ---- sentences -------------------------------------------------------------------------


def _pct(x: float) -> str:
    return f"{x * 100:.1f}{NBSP}%" if math.isfinite(x) else "–"


def _pct_range(low: float, high: float) -> str:
    return f"{low * 100:.1f}–{high * 100:.1f}{NBSP}%"


def number(x: float) -> str:
    """A number as the report writes it: three significant digits, whole from 1,000 up."""
    if not math.isfinite(x):
        return "–"
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}"


def _range(low: float, high: float) -> str:
    return f"{number(low)}–{number(high)}"


def _date(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def _months(first: dt.date, last: dt.date) -> int:
    return (last.year - first.year) * 12 + last.month - first.month + 1


def _measure(name: str) -> tuple[str, str, str, int]:
    return MEASURES.get(name, (name, "", "", -1))


def _measure_label(name: str) -> str:
    words, shown, _, _ = _measure(name)
    return f"{words} ({shown})" if shown else words


def _value(name: str, x: float) -> str:
    """A measure's value with its decimals (``number`` for a measure not known)."""
    decimals = _measure(name)[3]
    return number(x) if decimals < 0 or not math.isfinite(x) else f"{x:,.{decimals}f}"


def _values(name: str, low: float, high: float) -> str:
    return f"{_value(name, low)}–{_value(name, high)}"


def data_summary(cal: Calibration) -> list[str]:
    """What the export holds, its win rate and its time to close, in three sentences."""
    opps = cal.data.opportunities
    counts = opps["outcome"].value_counts()
    won, lost, still = (int(counts.get(k, 0)) for k in ("won", "lost", "open"))
    start, export = cal.data.calendar.start, cal.mapping.export_date
    ttc = cal.pieces.time_to_close
    understates = ", which understates it" if ttc.naive_mean < ttc.mean else ""
    return [
        f"The export holds {len(opps):,} deals created from {_date(start)} to {_date(export)} "
        f"({_months(start, export)} months): {won:,} won, {lost:,} lost and {still:,} still "
        "open on the export day.",
        _win_sentence(cal, won, lost),
        f"A deal takes {ttc.mean:.1f} working days from created to closed on average "
        f"(95{NBSP}% interval {ttc.ci_low:.1f}–{ttc.ci_high:.1f}), counting each of the "
        f"{ttc.n - ttc.ended:,} open deals as open for at least as long as it has been; the "
        f"{ttc.ended:,} closed deals alone average {ttc.naive_mean:.1f} days{understates}.",
    ]


def _win_sentence(cal: Calibration, won: int, lost: int) -> str:
    if not won + lost:
        return "No deal was closed."
    rate = next(r for r in _records(cal.estimates) if r["path"] == "win_rate")
    return (f"{_pct(won / (won + lost))} of the {won + lost:,} closed deals were won; with the "
            f"chances of the deals still open counted, the win rate is {_pct(rate['value'])} "
            f"(95{NBSP}% interval {_pct_range(rate['ci_low'], rate['ci_high'])}).")


def fit_summary(backtest: Backtest, holdout: Backtest) -> list[str]:
    """How well the simulation reproduces the history and the held-out months, in words."""
    return _fit_summary(_score(backtest), _score(holdout))


def _fit_summary(back: _Scores, held: _Scores) -> list[str]:
    overall = next(r for r in back.win_rates if r["by"] == "all")
    verb = "contains" if overall["inside"] else "does not contain"
    created, won = held.distances["deals created"], held.distances["deals won"]
    count = partial(_value, "deals won")
    return [
        f"Simulated over the same {len(back.months)} months ({back.replications} runs), the "
        f"model's win rate of {_pct(overall['simulated'])} (95{NBSP}% range "
        f"{_pct_range(overall['low'], overall['high'])}) {verb} the history's "
        f"{_pct(overall['history'])}.",
        _measures_sentence(back),
        f"Calibrated without the last {len(held.months)} months, the model expected "
        f"{count(created['simulated'])} deals created in them (95{NBSP}% range "
        f"{count(created['low'])}–{count(created['high'])}) and {count(won['simulated'])} won "
        f"({count(won['low'])}–{count(won['high'])}); the history had "
        f"{count(created['history'])} and {count(won['history'])}.",
    ]


def _measures_sentence(back: _Scores) -> str:
    rates = [r for r in back.win_rates if r["by"] != "all"]
    outside = [_measure(m)[0] for m, r in back.distances.items() if not r["inside"]]
    outside += [f"the win rate of {r['by']} {r['value']}" for r in rates if not r["inside"]]
    total = len(back.distances) + len(rates)
    if not outside:
        return (f"The history is also inside the simulated range on all {total} other "
                "measures compared: deals created, won and still open, the time to close "
                "(of all, won and lost deals), deals per owner, and the win rate of each "
                "product, segment and team.")
    return (f"The history is outside the simulated range on {len(outside)} of the {total} "
            f"other measures compared: {', '.join(outside)}.")


def warnings(cal: Calibration, backtest: Backtest, holdout: Backtest) -> list[str]:
    """What a reader must not miss: rough ranges, misses, and data the model cannot follow."""
    return _warnings(cal, _score(backtest), _score(holdout))


def _warnings(cal: Calibration, back: _Scores, held: _Scores) -> list[str]:
    out = []
    n = back.replications
    if n < FEW_REPLICATIONS:
        covered = (n - 1) / (n + 1) * 100
        out.append(f"The simulated ranges rest on {n} runs only, so their ends are rough "
                   f"(the range of {n} runs covers about {covered:.0f}{NBSP}% of outcomes, "
                   f"not 95{NBSP}%): re-run with --replications {FEW_REPLICATIONS} or more "
                   "before relying on a result near the edge of a range.")
    out += _misses(back) + _misses(held)
    for c in cal.pieces.channels:
        if c.dispersion_p < BURSTY_P and c.dispersion > 1:
            out.append(f"Deals from {c.name} arrive in bursts (their daily counts vary "
                       f"{c.dispersion:.2f} times as much as a steady random flow's): the "
                       "model's arrivals are steadier, so its ranges of deals created are "
                       "too narrow.")
    skill = cal.pieces.teams.skill
    for team in sorted(skill.loc[skill["pooled"], "team"].unique()):
        out.append(f"The owners of team {team} differ in win rate no more than chance "
                   "would make them: each is taken at the team's rate.")
    return out


def _misses(scores: _Scores) -> list[str]:
    """Sentences on each measure where the history is outside the simulated range."""
    out = []
    for m, r in scores.distances.items():
        if not r["inside"]:
            out.append(f"In the {scores.label}, the history's {_measure_label(m)}, "
                       f"{_value(m, r['history'])}, is {_verdict(r)}, "
                       f"{_values(m, r['low'], r['high'])}.")
        if r["distance"] > FAR_FROM_CHANCE * r["chance"]:
            words, _, unit, _ = _measure(m)
            out.append(f"In the {scores.label}, the {words} is spread differently from "
                       f"the simulation's: their Wasserstein distance, {r['distance']:.2f} "
                       f"{unit}, is "
                       f"{r['distance'] / r['chance']:.1f} times what two simulated runs "
                       "differ by, more than chance explains (see the figures).")
    for r in scores.win_rates:
        if not r["inside"]:
            what = "overall" if r["by"] == "all" else f"of {r['by']} {r['value']}"
            out.append(f"In the {scores.label}, the win rate {what}, {_pct(r['history'])} of "
                       f"{r['closed']:,} closed deals, is {_verdict(r)}, "
                       f"{_pct_range(r['low'], r['high'])}.")
    return out


def _verdict(row: dict[str, Any]) -> str:
    if row["history"] > row["high"]:
        return "above the simulated range"
    if row["history"] < row["low"]:
        return "below the simulated range"
    return "inside the simulated range"


# ---- tables ----------------------------------------------------------------------------


def _day(bt: Backtest, day: float) -> dt.date:
    date: dt.date = bt.calendar.date(np.array([day]))[0].item()
    return date


def _backtest_words(bt: Backtest) -> str:
    return (f"The calibrated scenario was simulated {bt.replications} times over the export's "
            f"own period, {_date(_day(bt, bt.from_day))} to {_date(_day(bt, bt.export_day))}, "
            "starting empty like the export, with each team's owners following the months "
            "of the data. Each run is read as the CRM would have shown it on the export day.")


def _holdout_words(ho: Backtest) -> str:
    months = ho.scored_months
    first = _day(ho, ho.from_day)
    return (f"The data were calibrated again as they stood on "
            f"{_date(first - dt.timedelta(days=1))}, without the last {len(months)} months, "
            f"and simulated {ho.replications} times over the whole period. Scored are the "
            f"months the calibration did not see, {months[0]:%B %Y} to {months[-1]:%B %Y}: "
            "deals created and closed in them, and deals open at their end.")


def _test_context(scores: _Scores, intro: str) -> dict[str, Any]:
    distances = [{
        "measure": _measure_label(m), "history": _value(m, r["history"]),
        "simulated": _value(m, r["simulated"]), "range": _values(m, r["low"], r["high"]),
        "verdict": _verdict(r), "inside": bool(r["inside"]),
        "distance": _distance(r["distance"]), "chance": _distance(r["chance"]),
    } for m, r in scores.distances.items()]
    rates = [{
        "what": "all deals" if r["by"] == "all" else f"{r['by']} {r['value']}",
        "closed": f"{r['closed']:,}", "history": _pct(r["history"]),
        "simulated": _pct(r["simulated"]), "range": _pct_range(r["low"], r["high"]),
        "verdict": _verdict(r), "inside": bool(r["inside"]),
    } for r in scores.win_rates]
    return {"label": scores.label, "intro": intro, "distances": distances, "win_rates": rates}


def _distance(x: float) -> str:
    return f"{x:,.2f}" if math.isfinite(x) else "–"


def _path_words(path: str) -> str:
    return " \u203a ".join(part.replace("_", " ") for part in path.split("."))


def _estimate_groups(estimates: pd.DataFrame) -> list[dict[str, Any]]:
    """Estimates by section (arrivals per channel, deal values, each stage, time to close)."""
    groups: dict[str, list[dict[str, str]]] = {}
    for r in _records(estimates):
        parts = str(r["path"]).split(".")
        section = SECTIONS.get(parts[0], parts[0].replace("_", " ").capitalize())
        if parts[0] in ("channels", "stages") and len(parts) > 2:
            section = f"{section}: {parts[1].replace('_', ' ')}"
        groups.setdefault(section, []).append({
            "what": str(r["what"]), "path": str(r["path"]), "value": number(r["value"]),
            "interval": _range(r["ci_low"], r["ci_high"]) if math.isfinite(r["ci_low"]) else "–",
            "n": f"{int(r['n']):,}", "method": str(r["method"])})
    return [{"section": k, "rows": v} for k, v in groups.items()]


def _assumptions(cal: Calibration) -> list[dict[str, str]]:
    """What the data could not tell: each assumption's key path, value and source."""
    return [{"what": _path_words(str(path)), "path": str(path), "value": dump_flow(r["value"]),
             "why": str(r["why"])} for path, r in cal.assumptions.sort_index().iterrows()]


# ---- figures ---------------------------------------------------------------------------


def _ages(table: pd.DataFrame, end_day: float) -> tuple[FloatArray, NDArray[np.bool_]]:
    """Working days from created to closed, or to ``end_day`` for deals still open."""
    closed = (table["outcome"] != "open").to_numpy()
    days = np.where(closed, table["closed"].to_numpy(float), end_day)
    return days - table["created"].to_numpy(float), closed


def _survival_figure(cal: Calibration, bt: Backtest) -> Figure:
    end = bt.export_day + 1  # the export is made at the end of its day
    history = _ages(bt.history, end)
    ttc = cal.pieces.time_to_close
    return fitplots.survival(
        kaplan_meier(*history), kaplan_meier(*_ages(bt.simulated, end)),
        naive_mean=ttc.naive_mean, censored_mean=ttc.mean, family=ttc.family,
        days_shown=float(np.quantile(history[0], fitplots.TAIL)))


def _closing_panel(bt: Backtest) -> tuple[FloatArray, list[FloatArray], float, float]:
    data, sims = bt.time_to_close()
    row = next(r for r in _records(bt.distances()) if r["measure"] == "time to close (days)")
    return data, sims, float(row["distance"]), float(row["chance"])


def figures(cal: Calibration, backtest: Backtest, holdout: Backtest
            ) -> list[tuple[Figure, str]]:
    """The report's figures, each with its caption."""
    value = cal.scenario.deal_value.distribution
    currency = cal.mapping.currency
    fit = (f"fitted {cal.pieces.deal_value.family}: mean {value.mean():,.0f}, "
           f"sd {math.sqrt(value.variance()):,.0f} {currency}")
    return [
        (fitplots.monthly(backtest.monthly(), "Back-test: the history against "
                          f"{backtest.replications} simulated runs, month by month"),
         "Deals created, won and open at each month's end. Points are the export; the "
         "line is the simulated mean and the band holds 95 % of the runs."),
        (fitplots.monthly(holdout.monthly(),
                          "Hold-out: calibrated without the shaded months",
                          held_out_from=_day(holdout, holdout.from_day)),
         "The same for the calibration made without the last months (shaded): there the "
         "simulation predicts months it did not see."),
        (fitplots.win_rates({"back-test, all months": backtest.win_rates(),
                             "hold-out, months not seen": holdout.win_rates()}),
         "Win rate of the deals closed, overall and per product, segment and team."),
        (_survival_figure(cal, backtest),
         "Share of deals still open after so many working days, with the deals open at the "
         "export counted as open for as long as they have been (Kaplan-Meier). Ignoring "
         "them makes deals look quicker: compare the two means."),
        (fitplots.closing_times({"back-test": _closing_panel(backtest),
                                 "hold-out": _closing_panel(holdout)}),
         "Time to close of the deals closed, as a cumulative share. The Wasserstein distance "
         "is the average gap between the two curves in days; 'two runs' is that gap "
         "between one simulated run and the others, what chance alone gives."),
        (fitplots.deal_values(cal.pieces.deal_value.normalised, value.ppf, label=fit,
                              currency=currency),
         "Deal amounts divided by their product and segment factors, against the fitted "
         "base distribution (the largest 1 % are beyond the axis)."),
        (fitplots.rep_skill(cal.pieces.teams.skill),
         "Each owner's share of closed deals won (open circle, sized by deals closed) and "
         "the calibration's estimate (dot), pulled towards the team's rate because a few "
         "hundred deals still leave a win rate uncertain."),
        (fitplots.owners_per_month(cal.pieces.teams.monthly),
         "Deal owners per team and month, which the back-test follows."),
    ]
