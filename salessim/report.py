"""One self-contained HTML report of one or more scenarios, to hand to a client.

It opens with an executive summary worked out from the numbers (``salessim.briefing``):
the best scenario for each goal, each alternative's trade-off, the bottleneck, and a
warning when the replications are too few for the differences shown. Then the
scenarios and what changes between them in sentences, the comparison charts on shared
axes, the KPI tables in words with units ("better" and "worse" by each KPI's
direction), each scenario in detail, the scenario files in an appendix and how to
re-run it all. Figures are embedded as PNG at ``plots.DPI`` and the style is inline:
the file opens without a network. A print style sheet lays it out on A4 pages, and
``write_pdf`` prints it with headless Chromium.
"""

from __future__ import annotations

import base64
import io
import os
import shutil
import subprocess
import tempfile
import textwrap
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from jinja2 import Environment, PackageLoader
from matplotlib.figure import Figure

import salessim
from salessim import briefing, plots
from salessim.bottlenecks import Bottlenecks, bottlenecks
from salessim.compare import Comparison
from salessim.files import check_writable, write_binary_atomic, write_text_atomic
from salessim.formatting import fmt_number, fmt_range, join_words
from salessim.plots import Labels, _cell
from salessim.results import Results
from salessim.timeseries import timeseries

if TYPE_CHECKING:
    from salessim.optimise import Optimisation

DPI = plots.DPI
"""Resolution of the embedded figures (dots per inch): twice a screen's."""
MEAN_COLUMNS = 4
"""Scenarios side by side in one table of means; more go on into another table."""
DIFF_COLUMNS = 3
"""Differences side by side in one table, so that it fits an A4 page."""
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
"""Programs ``write_pdf`` looks for on the PATH, in this order."""
PRINT_TIMEOUT_S = 180
"""Longest the browser may take to print the report."""


def write_report(
    path: str | Path,
    runs: Results | Comparison,
    *,
    command: str | None = None,
    optimisation: Optimisation | None = None,
    goals: Sequence[str] | None = None,
) -> Path:
    """Write the report as one HTML file, atomically.

    Args:
        path: File to write.
        runs: One scenario's results, or a comparison of several (``salessim.compare``):
            then the report shows what changes between them and the paired differences
            to the baseline.
        command: The command that re-runs the report, shown in it (default: the
            ``salessim report`` call that would, from the resolved scenarios).
        optimisation: An optimisation (``salessim.optimise``) whose recommendation,
            search and sensitivity the report shows in a section of its own; ``runs``
            is then usually its ``best.comparison``.
        goals: KPIs the summary names the best scenario for (default: the
            optimisation's objectives, else ``briefing.GOALS``).

    Returns:
        The path written.

    Raises:
        OSError: If the file cannot be written (one line naming the path and why).
    """
    html = render_report(runs, command=command, optimisation=optimisation, goals=goals)
    try:
        return write_text_atomic(path, html)
    except OSError as err:
        raise OSError(f"cannot write the report to {path}: {err.strerror or err}") from err


def render_report(runs: Results | Comparison, *, command: str | None = None,
                  optimisation: Optimisation | None = None,
                  goals: Sequence[str] | None = None) -> str:
    """The report's HTML text (see ``write_report`` for the arguments)."""
    results, baseline, table = _runs(runs)
    names = [baseline, *(n for n in results if n != baseline)]
    ordered = {n: results[n] for n in names}
    first = results[baseline]
    currency = first.scenario.money.currency
    labels = {n: Labels.of(r.scenario) for n, r in ordered.items()}
    analyses = {n: bottlenecks(r) for n, r in ordered.items()}
    if goals is None:
        goals = ([o.kpi for o in optimisation.objectives] if optimisation is not None
                 else briefing.GOALS)
    many = len(names) > 1
    context: dict[str, Any] = {
        "title": "salessim report: " + " vs ".join(names),
        "version": salessim.__version__,
        "seed": first.seed,
        "replications": first.replications,
        "confidence_pct": f"{first.confidence:.0%}",
        "currency": currency,
        "names": names,
        "baseline": baseline,
        "many": many,
        "summary": _summary(table, ordered, analyses, labels, list(goals)),
        "scenarios": [_scenario_context(n, ordered[n], analyses[n], labels[n], many)
                      for n in names],
        "changes": (briefing.change_sentences({n: r.scenario for n, r in ordered.items()},
                                              labels[baseline]) if many else {}),
        "change_yaml": (briefing.change_yaml({n: r.scenario for n, r in ordered.items()})
                        if many else {}),
        "comparison_figures": (_comparison_figures(table, ordered, analyses, labels[baseline],
                                                   list(goals)) if many else []),
        "kpi_tables": _kpi_tables(table, names, labels[baseline], currency),
        "command": command or _rerun_command(ordered),
        "optimisation": (None if optimisation is None
                         else _optimisation_context(optimisation, labels[baseline], currency)),
    }
    env = Environment(loader=PackageLoader("salessim", "templates"), autoescape=True,
                      trim_blocks=True, lstrip_blocks=True)
    return env.get_template("report.html.j2").render(context)


def _runs(runs: Results | Comparison) -> tuple[dict[str, Results], str, pd.DataFrame]:
    """Results by name, the baseline's name and the table of KPIs (a comparison's)."""
    if isinstance(runs, Comparison):
        return dict(runs.results), runs.baseline, runs.table()
    name = runs.scenario.name
    summary = runs.summary()
    table = summary.set_axis(pd.MultiIndex.from_arrays(
        [summary.index, [name] * len(summary)], names=["kpi", "scenario"]))
    for column in ("diff", "diff_ci_low", "diff_ci_high"):
        table[column] = float("nan")
    return {name: runs}, name, table


def _summary(table: pd.DataFrame, results: Mapping[str, Results],
             analyses: Mapping[str, Bottlenecks], labels: Mapping[str, Labels],
             goals: list[str]) -> dict[str, Any]:
    """The executive summary: goals, trade-offs, the bottleneck, and the warning."""
    baseline = next(iter(results))
    first = results[baseline]
    lab, currency = labels[baseline], first.scenario.money.currency
    many = len(results) > 1
    return {
        "headline": "" if many else briefing.headline(table, baseline, currency,
                                                      first.replications),
        "warning": briefing.replication_warning(table, baseline, goals, first.replications,
                                                lab),
        "goals": briefing.goals(table, baseline, goals, currency, lab) if many else [],
        "tradeoffs": (briefing.tradeoffs(table, baseline, currency, lab, first.replications)
                      if many else []),
        "bottleneck": briefing.bottleneck_sentences(analyses, baseline, labels),
    }


def _scenario_context(name: str, res: Results, bn: Bottlenecks, lab: Labels,
                      compared: bool) -> dict[str, Any]:
    """One scenario in detail: what it is, where it waits, and its own figures.

    In a comparison the funnel and where time goes are drawn side by side already,
    so each scenario adds the figures only it has.
    """
    sc = res.scenario
    ts = timeseries(res)
    figs: dict[str, tuple[Callable[[], Figure], str]] = {
        "flow": (lambda: plots.flow(res), "Where counted leads go: on to the next stage, "
                 "or out of the process won, lost, stale or still open."),
        "funnel": (lambda: plots.funnel(res), "Counted leads reaching each stage and the "
                   "share that passes on."),
        "time_breakdown": (lambda: plots.time_breakdown(res), "Where won deals' days go, "
                           "stage by stage; the bars add up to the mean cycle time."),
        "cycle_time": (lambda: plots.cycle_time(res), "How long won deals take, with the "
                       "mean, the median and the 90th percentile."),
        "utilisation_team": (lambda: plots.utilisation(res, "team"), "How busy each team's "
                             "reps of each role are."),
        "wip_over_time": (lambda: plots.wip_over_time(res, ts), "Leads at each stage and "
                          "waiting for a rep, over the run (means over replications)."),
        "utilisation_rep": (lambda: plots.utilisation(res, "rep"), "Every rep's utilisation, "
                            "a dot each; the bar across a row is its mean."),
        "utilisation_role": (lambda: plots.utilisation(res, "role"), "How busy each role is, "
                             "with its 95% interval."),
    }
    # A comparison shows the flows, the funnels and where time goes side by side already.
    shown = [k for k in figs if not compared or k not in ("flow", "funnel", "time_breakdown",
                                                          "utilisation_role")]
    most_wip = lab.stage(bn.most_wip)
    return {
        "name": name,
        "description": sc.description.strip(),
        "stages": " → ".join(lab.stage(s.name) for s in sc.stages),
        "teams": join_words([lab.team(t.name) for t in sc.teams]),
        "reps": sum(g.headcount for t in sc.teams for g in t.reps.values()),
        "leads": f"{sc.expected_leads(sc.calendar.warmup_days):,.0f}",
        "bottleneck": briefing.bottleneck_sentences({name: bn}, name, {name: lab})[0],
        "most_wip": f"{most_wip} ({bn.stages['wip_mean'].to_dict()[bn.most_wip]:.0f} leads "
                    f"on average)",
        "low_conversion": join_words([lab.stage(s) for s in bn.low_conversion]) or "none",
        "alert": f"{bn.conversion_alert:.0%}",
        "busiest": f"{lab.role(bn.busiest_role, plural=True)} "
                   f"({bn.roles['utilisation'].to_dict()[bn.busiest_role]:.0%} busy)",
        "figures": [_figure(figs[k][0](), f"{k} of {name}", figs[k][1]) for k in shown
                    if k in FULL_WIDTH],
        "pairs": [_half(figs[k][0](), sc.name, f"{k} of {name}", figs[k][1]) for k in shown
                  if k not in FULL_WIDTH],
        "yaml": sc.to_yaml(),
        "file": _file_name(name),
    }


def _comparison_figures(table: pd.DataFrame, results: Mapping[str, Results],
                        analyses: Mapping[str, Bottlenecks], lab: Labels,
                        goals: list[str]) -> list[dict[str, str]]:
    """The scenarios side by side on shared axes, the differences, and the trade-off."""
    baseline = next(iter(results))
    currency = results[baseline].scenario.money.currency
    known = set(table.index.get_level_values("kpi"))
    ranked = [g for g in goals if g in known] or ["profit", "cycle_time_p90_days"]
    y = ranked[0]
    x = next((g for g in ranked[1:] if g.endswith("_days")), ranked[1] if len(ranked) > 1
             else "cycle_time_p90_days")
    return [
        _figure(plots.funnels(results), "funnels side by side",
                "The funnels on one scale: counted leads reaching each stage, and won."),
        *(_figure(plots.flow(res), f"flow of leads in {name}", "Where counted leads go: on "
                  "to the next stage, or out of the process won, lost, stale or still open.")
          for name, res in results.items()),
        _figure(plots.time_breakdowns(results, analyses), "where time goes, side by side",
                "Where won deals' days go, stage by stage and phase by phase; ◀ marks the "
                "stage where they wait longest for a rep."),
        _figure(plots.forest(table, labels=lab, currency=currency), "differences to the "
                "baseline", f"Each alternative's difference to {baseline} in the KPI's own "
                "unit, with its paired 95% interval; the shaded side is better. A filled dot "
                "is a clear difference, an open one is within chance."),
        _figure(plots.tradeoff(table, x, y, currency=currency), "trade-off",
                f"{lab.kpi(y)} against {lab.kpi_words(x)}: each scenario's mean with its 95% "
                f"interval; the open dot is {baseline}."),
    ]


def _figure(fig: Figure, alt: str, caption: str) -> dict[str, str]:
    return {"png": _png(fig), "alt": alt, "caption": caption}


FULL_WIDTH = ("flow", "funnel", "time_breakdown")
"""A scenario's figures drawn across the page; the others go two to a row."""
HALF_WIDTH_IN = 4.6
"""Width of a figure two to a row (inches): printed at half the page, its 9-point text
reads at about 7 points."""


def _half(fig: Figure, scenario: str, alt: str, caption: str) -> dict[str, str]:
    """A figure for half the page: narrower and lower, titled without the scenario's name.

    The section's heading names the scenario, so the title keeps what the figure shows
    and fits the narrower width.
    """
    height = float(fig.get_size_inches()[1])
    fig.set_size_inches(HALF_WIDTH_IN, height * 0.8)
    title = fig.get_suptitle() or fig.axes[0].get_title()
    fig.axes[0].set_title("")
    # Over the whole figure: an axis title is centred on the axis and runs off the left.
    fig.suptitle(" ".join(title.split()).removesuffix(f": {' '.join(scenario.split())}"),
                 fontsize=10)
    for legend in list(fig.legends):  # three columns do not fit half the width: two
        handles = [h for h in legend.legend_handles if h is not None]
        words = [t.get_text() for t in legend.texts]
        legend.remove()
        fig.legend(handles, words, ncols=2, fontsize=plots.SMALL_PT, frameon=False,
                   loc="outside lower center")
    for ax in fig.axes:
        ax.set_xlabel("\n".join(textwrap.wrap(ax.get_xlabel(), 30)))
    return _figure(fig, alt, caption)


def _kpi_tables(table: pd.DataFrame, names: list[str], lab: Labels, currency: str
                ) -> list[dict[str, Any]]:
    """The KPI tables: means with intervals, then differences to the baseline.

    Each table holds at most ``MEAN_COLUMNS`` scenarios or ``DIFF_COLUMNS`` differences,
    so that it fits an A4 page; more go on into the next table.
    """
    kpis = list(dict.fromkeys(table.index.get_level_values("kpi").astype(str)))
    out = []
    for kind, shown, size in (("means", names, MEAN_COLUMNS),
                              ("differences", names[1:], DIFF_COLUMNS)):
        for i in range(0, len(shown), size):
            chunk = shown[i:i + size]
            out.append({"kind": kind, "header": chunk, "rows": [
                {"label": lab.kpi_label(k, currency),
                 "cells": [_kpi_cell(table, k, n, kind == "differences") for n in chunk]}
                for k in kpis]})
    return out


def _kpi_cell(table: pd.DataFrame, kpi: str, name: str, difference: bool) -> dict[str, str]:
    """A mean with its interval, or a difference with its interval and what it reads."""
    columns = (("diff", "diff_ci_low", "diff_ci_high") if difference
               else ("mean", "ci_low", "ci_high"))
    mid, low, high = (_cell(table, kpi, name, c) for c in columns)
    # The same in every replication (a salary saved exactly): no interval to show.
    interval = "" if low == high else fmt_range(kpi, low, high, sign=difference)
    return {"value": fmt_number(kpi, mid, sign=difference), "interval": interval,
            "word": briefing.verdict(kpi, mid, low, high).word if difference else ""}


def _png(fig: Figure, dpi: int = DPI) -> str:
    """A figure as base64-encoded PNG text, at ``dpi`` dots per inch."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _rerun_command(results: Mapping[str, Results]) -> str:
    """The command that re-runs the report from the resolved scenarios shown in it."""
    first = next(iter(results.values()))
    files = " ".join(_file_name(n) for n in results)
    return (f"# save each resolved scenario in the appendix as the file named there, then:\n"
            f"salessim report {files} --replications {first.replications} "
            f"--seed {first.seed} --out report.html --pdf report.pdf")


def _file_name(name: str) -> str:
    """A scenario name as a plain file name (``Pre-review 2`` -> ``pre-review_2.yaml``)."""
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in name.lower()).strip("_")
    return f"{stem or 'scenario'}.yaml"


def _optimisation_context(plan: Optimisation, lab: Labels, currency: str) -> dict[str, Any]:
    """The recommendation, how it was found, and the plots of the search, in words."""
    # Imported here: the optimiser needs Optuna (an extra), a report without one does not.
    from salessim.optimise import plots as optimise_plots
    from salessim.optimise.levers import plain

    figures = {"sensitivity": optimise_plots.tornado, "progress": optimise_plots.progress}
    shown = {k: f for k, f in figures.items() if k != "sensitivity" or not plan.moves.empty}
    pngs = [{"png": _png(f(plan), optimise_plots.DPI), "alt": f"{k} of the search",
             "caption": ""}
            for k, f in shown.items() if plan.best is not None or k == "progress"]
    if len(plan.objectives) > 1:
        x, y = (o.kpi for o in plan.objectives[:2])
        pngs.append({"png": _png(optimise_plots.frontier(plan, x, y), optimise_plots.DPI),
                     "alt": f"frontier of {x} and {y}", "caption": ""})
    context: dict[str, Any] = {"summary": plan.lines()[0], "note": plan.note,
                               "figures": pngs, "best": None}
    best = plan.best
    if best is not None:
        table = best.comparison.table(best.shown_kpis())
        context["best"] = {
            "how": best.lines()[0],
            "levers": [{"path": p, "words": briefing.path_words(p, lab),
                        "now": plain(best.baseline_settings.get(p)), "then": plain(v),
                        "moved": best.baseline_settings.get(p) != v}
                       for p, v in best.settings.items()],
            "kpi_tables": _kpi_tables(table, list(best.comparison.results), lab, currency),
            "meets": best.meets_constraints}
    return context


def find_browser() -> Path:
    """The Chromium (or Chrome) program ``write_pdf`` prints with.

    Raises:
        OSError: If none is installed, saying how to get one.
    """
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return Path(found)
    raise OSError("cannot print a PDF: no Chromium found on the PATH (looked for "
                  f"{', '.join(BROWSERS)}); install it, e.g. apt-get install chromium")


def write_pdf(path: str | Path, html: str | Path, browser: Path | None = None) -> Path:
    """Print a report to PDF with headless Chromium, on A4 pages, atomically.

    The report's print style sheet sets the pages: A4, tables that fit, their headers
    repeated, no figure split across pages.

    Args:
        path: The PDF file to write.
        html: The report: its HTML file, or its text.
        browser: The Chromium program (default: ``find_browser()``).

    Returns:
        The path written.

    Raises:
        OSError: If there is no browser, it fails, or the file cannot be written.
    """
    check_writable(path)
    program = browser or find_browser()
    with tempfile.TemporaryDirectory(prefix="salessim-pdf-") as tmp:
        page = Path(tmp) / "report.html"
        if isinstance(html, Path):
            shutil.copyfile(html, page)
        else:
            page.write_text(html, encoding="utf-8")
        printed = Path(tmp) / "report.pdf"
        _print(program, page, printed, Path(tmp) / "profile")
        data = printed.read_bytes()
    return write_binary_atomic(path, lambda f: f.write(data))


def _print(program: Path, page: Path, out: Path, profile: Path) -> None:
    """Run the browser's headless print of ``page`` into ``out``."""
    args = [str(program), "--headless", "--no-sandbox", "--disable-gpu",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-pdf-header-footer", f"--user-data-dir={profile}",
            f"--print-to-pdf={out}", page.as_uri()]
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=PRINT_TIMEOUT_S,
                              check=False, env={**os.environ, "LANG": "C.UTF-8"})
    except subprocess.TimeoutExpired as err:
        raise OSError(f"cannot print the PDF: {program} took over {PRINT_TIMEOUT_S} s") from err
    if done.returncode != 0 or not out.exists() or out.read_bytes()[:5] != b"%PDF-":
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise OSError(f"cannot print the PDF: {program} exited with status "
                      f"{done.returncode} ({last})")
