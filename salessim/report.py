"""One self-contained HTML report of one or more scenarios, to hand to a client.

The report holds the scenarios and what differs between them, the KPI table with
confidence intervals (and paired differences to the baseline), the bottleneck of each
scenario, the plots, and how it was run, so that anyone can re-run it. Figures are
embedded as base64 PNG and the style is inline: the file opens without a network.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import yaml
from jinja2 import Environment, PackageLoader
from matplotlib.figure import Figure

import salessim
from salessim import plots
from salessim.bottlenecks import bottlenecks
from salessim.compare import Comparison
from salessim.files import write_text_atomic
from salessim.formatting import fmt, fmt_diff
from salessim.results import Results
from salessim.scenario.diff import differences
from salessim.timeseries import timeseries

if TYPE_CHECKING:
    from salessim.optimise import Optimisation

SIGNIFICANCE = 0.05
"""Differences with an adjusted p-value below this are shown in bold."""
DPI = 100
"""Resolution of the embedded figures (dots per inch)."""


def write_report(
    path: str | Path,
    runs: Results | Comparison,
    *,
    command: str | None = None,
    optimisation: Optimisation | None = None,
) -> Path:
    """Write the report as one HTML file, atomically.

    Args:
        path: File to write.
        runs: One scenario's results, or a comparison of several (``salessim.compare``):
            then the report shows what differs between them and the paired differences
            to the baseline.
        command: The command that re-runs the report, shown in it (default: the
            ``salessim report`` call that would, from the resolved scenarios).
        optimisation: An optimisation (``salessim.optimise``) whose recommendation,
            search and sensitivity the report shows in a section of its own; ``runs``
            is then usually its ``best.comparison``.

    Returns:
        The path written.

    Raises:
        OSError: If the file cannot be written (one line naming the path and why).
    """
    html = render_report(runs, command=command, optimisation=optimisation)
    try:
        return write_text_atomic(path, html)
    except OSError as err:
        raise OSError(f"cannot write the report to {path}: {err.strerror or err}") from err


def render_report(runs: Results | Comparison, *, command: str | None = None,
                  optimisation: Optimisation | None = None) -> str:
    """The report's HTML text (see ``write_report`` for the arguments)."""
    if isinstance(runs, Comparison):
        results = dict(runs.results)
        baseline = runs.baseline
        table = runs.table()
    else:
        results = {runs.scenario.name: runs}
        baseline = runs.scenario.name
        summary = runs.summary()
        table = summary.set_axis(pd.MultiIndex.from_arrays(
            [summary.index, [baseline] * len(summary)], names=["kpi", "scenario"]))
    names = [baseline, *(n for n in results if n != baseline)]
    first = results[baseline]
    context: dict[str, Any] = {
        "title": "salessim report: " + " vs ".join(names),
        "version": salessim.__version__,
        "seed": first.seed,
        "replications": first.replications,
        "confidence_pct": f"{first.confidence:.0%}",
        "currency": first.scenario.money.currency,
        "names": names,
        "baseline": baseline,
        "others": names[1:],
        "scenarios": [_scenario_context(name, results[name]) for name in names],
        "differences": _differences_context({n: results[n] for n in names}),
        "kpi_rows": _kpi_rows(table, names),
        "comparison_figure": _png(plots.forest(table)) if len(names) > 1 else None,
        "command": command or _rerun_command({n: results[n] for n in names}),
        "optimisation": None if optimisation is None else _optimisation_context(optimisation),
    }
    env = Environment(loader=PackageLoader("salessim", "templates"), autoescape=True,
                      trim_blocks=True, lstrip_blocks=True)
    return env.get_template("report.html.j2").render(context)


def _scenario_context(name: str, res: Results) -> dict[str, Any]:
    sc = res.scenario
    bn = bottlenecks(res)
    ts = timeseries(res)
    figs = plots.figures(res, ts)
    del figs["utilisation_rep"]  # one bar per rep is too fine-grained for a client report
    return {
        "label": name,
        "description": sc.description.strip() or sc.name,
        "stages": " \u2192 ".join(s.name for s in sc.stages),
        "teams": ", ".join(t.name for t in sc.teams),
        "reps": sum(g.headcount for t in sc.teams for g in t.reps.values()),
        "leads": f"{sc.expected_leads(sc.calendar.warmup_days):,.0f}",
        "sentence": bn.sentence,
        "most_wip": bn.most_wip,
        "most_wip_leads": f"{bn.stages['wip_mean'].to_dict()[bn.most_wip]:.1f}",
        "alert": f"{bn.conversion_alert:.0%}",
        "low_conversion": ", ".join(bn.low_conversion),
        "busiest_role": bn.busiest_role,
        "busiest_utilisation": f"{bn.roles['utilisation'].to_dict()[bn.busiest_role]:.0%}",
        "figures": [{"png": _png(fig), "alt": name_ + " plot"} for name_, fig in figs.items()],
        "yaml": sc.to_yaml(),
        "file": _file_name(name),
    }


def _differences_context(results: Mapping[str, Results]) -> list[dict[str, Any]]:
    table = differences({n: r.scenario for n, r in results.items()})
    return [{"path": path, "values": [_value_text(v) for v in row]}
            for path, row in zip(table.index, table.to_numpy(), strict=True)]


def _value_text(value: Any) -> str:
    """A value as it would be written in a scenario file (YAML flow style)."""
    if isinstance(value, str):
        return value
    return yaml.safe_dump(value, default_flow_style=True, sort_keys=False,
                          width=10_000).strip().removesuffix("...").strip()


def _kpi_rows(table: pd.DataFrame, names: list[str]) -> list[dict[str, Any]]:
    """Per KPI: each scenario's mean and interval, then each difference to the baseline."""
    cells: dict[Any, dict[Any, Any]] = table.to_dict(orient="index")
    rows = []
    for kpi in dict.fromkeys(table.index.get_level_values("kpi")):
        k = str(kpi)
        means = [{"value": fmt(k, cells[k, n]["mean"]),
                  "interval": _interval(cells[k, n]["ci_low"], cells[k, n]["ci_high"],
                                        partial(fmt, k))}
                 for n in names]
        diffs = [{"value": fmt_diff(k, cells[k, n]["diff"]),
                  "interval": _interval(cells[k, n]["diff_ci_low"], cells[k, n]["diff_ci_high"],
                                        partial(fmt_diff, k)),
                  "sig": bool(cells[k, n]["p_adjusted"] < SIGNIFICANCE)}
                 for n in names[1:]]
        rows.append({"kpi": k, "means": means, "diffs": diffs})
    return rows


def _interval(low: float, high: float, show: Callable[[float], str]) -> str:
    return f"[{show(low)}, {show(high)}]" if np.isfinite(low) else ""


def _png(fig: Figure, dpi: int = DPI) -> str:
    """A figure as base64-encoded PNG text, at ``dpi`` dots per inch."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _rerun_command(results: Mapping[str, Results]) -> str:
    """The command that re-runs the report from the resolved scenarios shown in it."""
    first = next(iter(results.values()))
    files = " ".join(_file_name(n) for n in results)
    return (f"# save each resolved scenario below as the file named here, then:\n"
            f"salessim report {files} --replications {first.replications} "
            f"--seed {first.seed} --out report.html")


def _file_name(name: str) -> str:
    """A scenario name as a plain file name (``Pre-review 2`` -> ``pre-review_2.yaml``)."""
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in name.lower()).strip("_")
    return f"{stem or 'scenario'}.yaml"


def _optimisation_context(plan: Optimisation) -> dict[str, Any]:
    """The recommendation, how it was found, and the plots of the search, in words."""
    # Imported here: the optimiser needs Optuna (an extra), a report without one does not.
    from salessim.optimise import plots as optimise_plots
    from salessim.optimise.result import plain

    figures = {"sensitivity": optimise_plots.tornado, "progress": optimise_plots.progress}
    shown = {k: f for k, f in figures.items() if k != "sensitivity" or not plan.moves.empty}
    pngs = [{"png": _png(f(plan), optimise_plots.DPI), "alt": f"{k} of the search"}
            for k, f in shown.items() if plan.best is not None or k == "progress"]
    if len(plan.objectives) > 1:
        x, y = (o.kpi for o in plan.objectives[:2])
        pngs.append({"png": _png(optimise_plots.frontier(plan, x, y), optimise_plots.DPI),
                     "alt": f"frontier of {x} and {y}"})
    context: dict[str, Any] = {"summary": plan.lines()[0], "note": plan.note,
                               "figures": pngs, "best": None}
    best = plan.best
    if best is not None:
        table = best.comparison.table(best.shown_kpis())
        context["best"] = {
            "how": best.lines()[0],
            "levers": [{"path": p, "now": plain(best.baseline_settings.get(p)),
                        "then": plain(v), "moved": best.baseline_settings.get(p) != v}
                       for p, v in best.settings.items()],
            "kpi_rows": _kpi_rows(table, ["baseline", "recommended"]),
            "meets": best.meets_constraints}
    return context

