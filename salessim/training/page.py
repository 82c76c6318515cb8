"""The trainees' page: pick an exercise, read the brief, pull levers, play rounds, get a score.

A Panel app served locally (``salessim exercise page``); every browser tab gets its own
game (``Session``). The page only calls the training layer: values the trainee types go
through the same checks as an answer file, and a refused value is shown as a message on
the page. Baselines (the untouched scenario on the exercise's seeds) are run once per
exercise and shared by every tab of the server.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib
import pandas as pd
import panel as pn

from salessim import plots
from salessim.formatting import fmt
from salessim.results import Results
from salessim.scenario.errors import Problem, ScenarioError
from salessim.scenario.exercise_spec import Lever
from salessim.timeseries import timeseries
from salessim.training.debrief import check_line, goal_lines, kpi_rows, lever_terms, outcome
from salessim.training.exercise import Exercise
from salessim.training.scoring import baseline
from salessim.training.session import Session

matplotlib.use("Agg")  # figures are drawn on the server, never in a window

EXERCISE_SUFFIXES = (".yaml", ".yml")
FIGURE_DPI = 72
"""Resolution of the plots on the page (dots per inch); the figures are 8 inches wide."""
SIDE_WIDTH = 430
"""Width of the column with the brief and the levers (pixels)."""
HEADLINE_KPIS = ("leads", "won", "open", "conversion_rate", "cycle_time_p90_days", "revenue",
                 "cost", "profit")
"""KPIs shown while the game is on."""
STYLE = """
.salessim-score { font-size: 1.15em; }
table.salessim { border-collapse: collapse; font-size: 0.9em; }
table.salessim th, table.salessim td { padding: 2px 8px; border-bottom: 1px solid #ddd; }
table.salessim td.num { text-align: right; font-variant-numeric: tabular-nums; }
"""


def exercise_files(path: Path) -> list[Path]:
    """An exercise file, or the exercise files of a folder in name order.

    Raises:
        ScenarioError: If there is none.
    """
    if path.is_dir():
        found = sorted(p for p in path.iterdir() if p.suffix in EXERCISE_SUFFIXES)
        if not found:
            raise ScenarioError(str(path), [Problem("", "no exercise files (*.yaml) in this "
                                                        "folder")])
        return found
    return [path]


class Baselines:
    """The baseline of each exercise, run the first time it is asked for."""

    def __init__(self) -> None:
        self._runs: dict[str, Results] = {}

    def of(self, exercise: Exercise) -> Results:
        """The exercise's baseline results."""
        if exercise.source not in self._runs:
            self._runs[exercise.source] = baseline(exercise)
        return self._runs[exercise.source]


def table_html(header: tuple[str, ...], rows: list[tuple[str, ...]], numeric_from: int = 1
               ) -> str:
    """A small HTML table; columns from ``numeric_from`` on are right-aligned."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(
            f"<td{' class=num' if i >= numeric_from else ''}>{html.escape(c)}</td>"
            for i, c in enumerate(r)) + "</tr>" for r in rows)
    return f"<table class='salessim'><tr>{head}</tr>{body}</table>"


def frame_html(df: pd.DataFrame, digits: int = 1) -> str:
    """A DataFrame of counts as an HTML table, index levels first."""
    flat = df.reset_index()
    index_columns = len(df.index.names)
    rows = [tuple(str(v) if i < index_columns else f"{float(v):,.{digits}f}"
                  for i, v in enumerate(r)) for r in flat.itertuples(index=False)]
    return table_html(tuple(str(c) for c in flat.columns), rows, index_columns)


class TrainingPage:
    """One browser tab: the exercise picker, the game and its state.

    Args:
        exercises: Exercises by title.
        baselines: The server's shared baselines.
    """

    def __init__(self, exercises: dict[str, Exercise], baselines: Baselines) -> None:
        self.exercises = exercises
        self.baselines = baselines
        self.picker = pn.widgets.Select(name="Exercise", options=list(exercises),
                                        width=SIDE_WIDTH - 20)
        self.brief = pn.pane.Markdown(width=SIDE_WIDTH - 20)
        self.levers = pn.Column(width=SIDE_WIDTH - 20)
        self.message = pn.pane.Alert("", alert_type="danger", visible=False,
                                     width=SIDE_WIDTH - 20, css_classes=["salessim-message"])
        self.play_button = pn.widgets.Button(name="Play a round", button_type="primary")
        self.restart_button = pn.widgets.Button(name="Start again", button_type="default")
        self.status = pn.pane.Markdown(css_classes=["salessim-status"], sizing_mode="stretch_width")
        self.score = pn.pane.HTML("", css_classes=["salessim-score"], sizing_mode="stretch_width")
        self.debrief = pn.pane.Markdown("", sizing_mode="stretch_width")
        self.kpis = pn.pane.HTML("", sizing_mode="stretch_width")
        self.pipeline = pn.pane.HTML("")
        self.pools = pn.pane.HTML("")
        self.figures = pn.Row()
        self.state = pn.Column(
            pn.pane.Markdown("### KPIs so far"), self.kpis,
            pn.Row(pn.Column(pn.pane.Markdown("### Open deals by stage"), self.pipeline),
                   pn.Column(pn.pane.Markdown("### Reps and queues now"), self.pools)),
            sizing_mode="stretch_width")
        self.answer = pn.widgets.FileDownload(label="Download my answer", filename="answer.yaml",
                                              callback=self._answer_file, button_type="light",
                                              visible=False)
        self.inputs: dict[str, pn.widgets.Widget] = {}
        self.session: Session | None = None
        self.picker.param.watch(lambda _: self.start(), "value")
        self.play_button.on_click(lambda _: self.play())
        self.restart_button.on_click(lambda _: self.start())
        self.layout = pn.Row(
            pn.Column(pn.pane.Markdown("## salessim training"), self.picker, self.brief,
                      pn.pane.Markdown("### Levers"), self.levers, self.message,
                      pn.Row(self.play_button, self.restart_button), self.answer,
                      width=SIDE_WIDTH),
            pn.Column(self.status, self.score, self.debrief, self.state, self.figures,
                      sizing_mode="stretch_width"),
            stylesheets=[STYLE], sizing_mode="stretch_width")
        self.start()

    @property
    def exercise(self) -> Exercise:
        """The exercise picked."""
        return self.exercises[str(self.picker.value)]

    def start(self) -> None:
        """A new game of the exercise picked."""
        exercise = self.exercise
        self.session = Session(exercise)
        spec = exercise.spec
        self.brief.object = "\n".join([
            f"### {spec.title}", f"*Level {spec.level} of 5*", "", spec.brief.strip(), "",
            "**Goal**", "", *goal_lines(exercise), "",
            f"**Budget for levers:** {fmt('cost', spec.budget)} {exercise.currency}. "
            f"{len(exercise.round_starts)} rounds of {spec.round_days:g} working days."])
        self.inputs = {lever.name: self._input(exercise, lever) for lever in exercise.levers}
        self.levers.objects = [
            pn.Column(widget, pn.pane.Markdown(
                f"<small>{html.escape(lever_terms(exercise, lever))}."
                f"{' ' + html.escape(lever.help) if lever.help else ''}</small>", margin=(0, 10)))
            for lever, widget in zip(exercise.levers, self.inputs.values(), strict=True)]
        self.score.object = ""
        self.debrief.object = ""
        self.answer.visible = False
        self._say("")
        self.refresh()

    def _input(self, exercise: Exercise, lever: Lever) -> pn.widgets.Widget:
        # Number inputs carry no bounds: a value out of bounds reaches the same check as
        # an answer file, and the trainee reads why it is refused.
        start = exercise.start[lever.name]
        if lever.options is None:
            return pn.widgets.FloatInput(name=lever.label, value=float(start),
                                         step=lever.step or 1.0, width=SIDE_WIDTH - 40,
                                         css_classes=[f"lever-{lever.name}"])
        labels = {(o.label or name): name for name, o in lever.options.items()}
        return pn.widgets.Select(name=lever.label, options=labels, value=start,
                                 width=SIDE_WIDTH - 40, css_classes=[f"lever-{lever.name}"])

    def _say(self, text: str) -> None:
        self.message.object = text
        self.message.visible = bool(text)

    def play(self) -> None:
        """Take the levers' values as decisions and play one round."""
        session = self.session
        if session is None or session.finished:
            return
        try:
            session.decide({name: w.value for name, w in self.inputs.items()})
        except ScenarioError as err:
            self._say("Not played: " + "; ".join(p.message for p in err.problems))
            return
        self._say("")
        self.play_button.loading = True
        try:
            session.play()
        finally:
            self.play_button.loading = False
        self.refresh()

    def refresh(self) -> None:
        """Show the state of the game: status, KPIs, pipeline, queues, plots, the score."""
        session = self.session
        if session is None:
            return
        exercise = session.exercise
        money = exercise.currency
        for lever in exercise.levers:
            self.inputs[lever.name].disabled = session.finished or (
                lever.only_at_start and session.round > 0)
        self.play_button.visible = not session.finished
        if session.finished:
            state = f"**All {session.rounds} rounds played**; open deals have run to their end."
        else:
            state = (f"**Round {session.round + 1} of {session.rounds}**: day "
                     f"{session.day:g} of {exercise.year_days:g}. Set the levers, then play.")
        self.status.object = (f"{state} Budget left: {fmt('cost', session.budget_left)} {money} "
                              f"of {fmt('cost', exercise.spec.budget)} {money}.")
        self.state.visible = not session.finished
        if not session.finished:
            means = session.kpis()
            self.kpis.object = table_html(("kpi", "mean so far"), [
                (k, fmt(k, float(means[k]))) for k in HEADLINE_KPIS if k in means.index])
            self.pipeline.object = frame_html(session.pipeline())
            self.pools.object = frame_html(session.pools())
        res = session.results()
        ts = timeseries(res, step_days=5.0)
        if not session.finished:
            # Work still under way at this moment has no end yet and is not counted at
            # the last sample: show the past only.
            ts = ts[ts["time_days"] < exercise.takeover_day + session.day]
        figures = [plots.wip_over_time(res, ts)]
        if session.round > 0:  # utilisation is measured from the takeover on
            figures.append(plots.utilisation(res, by="team"))
        self.figures.objects = [pn.pane.Matplotlib(fig, dpi=FIGURE_DPI, tight=True, format="png")
                                for fig in figures]
        if session.finished:
            self._show_score(session)

    def _show_score(self, session: Session) -> None:
        exercise = session.exercise
        score = session.score(self.baselines.of(exercise))
        checks = "".join(f"<li>{html.escape(check_line(c))}</li>" for c in score.checks)
        said = outcome(exercise, score)
        rows = table_html(("kpi", "baseline", "your game", "difference (95% CI)"),
                          [tuple(r) for r in kpi_rows(score)])
        self.score.object = (
            f"<h2 class='salessim-points'>Score: {score.points}/100</h2>"
            f"<p>{html.escape(said[:1].upper() + said[1:])}.</p><ul>{checks}</ul>"
            f"<h3>What your decisions did</h3>{rows}")
        self.debrief.object = f"### Debrief\n\n{exercise.spec.debrief}"
        self.answer.visible = True

    def _answer_file(self) -> Any:
        import io

        session = self.session
        return io.StringIO(session.answer() if session is not None else "")


def app_factory(path: Path) -> Callable[[], pn.viewable.Viewable]:
    """The function that builds one page per browser tab.

    Every exercise is loaded now, so a bad file stops the server before it starts.

    Raises:
        ScenarioError: For the first exercise that does not load.
    """
    exercises: dict[str, Exercise] = {}
    for file in exercise_files(path):
        exercise = Exercise.load(file)
        exercises[exercise.title] = exercise
    baselines = Baselines()

    def page() -> pn.viewable.Viewable:
        return TrainingPage(exercises, baselines).layout

    return page


def serve(path: Path, port: int, address: str = "127.0.0.1", show: bool = False) -> None:
    """Serve the page until interrupted.

    Args:
        path: An exercise file or a folder of them.
        port: TCP port.
        address: Address to listen on.
        show: Open the page in a browser.
    """
    page = app_factory(path)
    print(f"salessim training page on http://{address}:{port}/ (Ctrl-C stops it)", flush=True)
    pn.serve({"/": page}, port=port, address=address, show=show, title="salessim training",
             websocket_origin=[f"{address}:{port}", f"localhost:{port}"], threaded=False)
