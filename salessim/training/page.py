"""The trainees' page: pick an exercise, read the brief, pull levers, play rounds, get a score.

A Panel app served locally (``salessim exercise page``). Loading the page runs nothing:
what a trainee sees before the first round is the same for every trainee of an exercise,
worked out once per server (``GamePool.opening``). A trainee's game starts when they
first press "Play a round", and lives in one of the server's worker processes
(``salessim.training.games``); the page's callbacks only wait for the workers, so the
server keeps answering other trainees while rounds are played, on as many cores as it
has workers. Values the trainee types go through the same checks as an answer file,
and a refused value is shown as a message on the page. Text from the exercise file
(title, brief, debrief, labels) is shown as text: HTML in it is escaped.
"""

from __future__ import annotations

import html
import io
import json
import logging
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib
import pandas as pd
import panel as pn
import tornado.web

from salessim.formatting import fmt
from salessim.scenario.errors import Problem, ScenarioError
from salessim.scenario.exercise_spec import Lever
from salessim.training.debrief import goal_lines, lever_terms
from salessim.training.exercise import Exercise
from salessim.training.games import Game, GamePool, Refused, ScoreView, View

matplotlib.use("Agg")  # figures are drawn on the server, never in a window

EXERCISE_SUFFIXES = (".yaml", ".yml")
SIDE_WIDTH = 430
"""Width of the column with the brief and the levers (pixels)."""
STYLE = """
.salessim-score { font-size: 1.15em; }
table.salessim { border-collapse: collapse; font-size: 0.9em; }
table.salessim th, table.salessim td { padding: 2px 8px; border-bottom: 1px solid #ddd; }
table.salessim td.num { text-align: right; font-variant-numeric: tabular-nums; }
"""
TEXT_ONLY = {"html": False}
"""Markdown options that show raw HTML in the text as text."""

log = logging.getLogger(__name__)


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


def text_markdown(text: str = "", **kwargs: Any) -> pn.pane.Markdown:
    """A Markdown pane that shows any raw HTML in ``text`` as text."""
    return pn.pane.Markdown(text, renderer="markdown-it", renderer_options=TEXT_ONLY, **kwargs)


def brief_markdown(exercise: Exercise) -> str:
    """The brief as the page shows it: title, level, brief, goal, budget and rounds."""
    spec = exercise.spec
    return "\n".join([
        f"### {spec.title}", f"*Level {spec.level} of 5*", "", spec.brief.strip(), "",
        "**Goal**", "", *goal_lines(exercise), "",
        f"**Budget for levers:** {fmt('cost', spec.budget)} {exercise.currency}. "
        f"{len(exercise.round_starts)} rounds of {spec.round_days:g} working days."])


def limit_message(pool: GamePool) -> str:
    """What a trainee reads when the server already runs as many games as it may."""
    return (f"This server already runs {pool.max_games} games, as many as it may: your game "
            "cannot start now. Press Play again in a few minutes, when another trainee has "
            "finished or closed their page.")


class TrainingPage:
    """One browser tab: the exercise picker, the game and its state.

    Args:
        exercises: Exercises by title.
        pool: The server's games.
    """

    def __init__(self, exercises: dict[str, Exercise], pool: GamePool) -> None:
        self.exercises = exercises
        self.pool = pool
        self.game: Game | None = None
        """The tab's game, from its first round to its last."""
        self.answer_text = ""
        self._awaiting: str | None = None
        """The exercise whose opening the tab waits for, to show it when it comes."""
        self._playing = False
        self.inputs: dict[str, pn.widgets.Widget] = {}
        self._widgets()
        self.layout = pn.Row(
            pn.Column(pn.pane.Markdown("## salessim training"), self.picker, self.brief,
                      pn.pane.Markdown("### Levers"), self.levers, self.message,
                      pn.Row(self.play_button, self.restart_button), self.answer,
                      width=SIDE_WIDTH),
            pn.Column(self.status, self.score, self.debrief, self.state, self.figures,
                      sizing_mode="stretch_width"),
            stylesheets=[STYLE], sizing_mode="stretch_width")
        self.picker.param.watch(lambda _: self.start(), "value")
        self.play_button.on_click(self.play)
        self.restart_button.on_click(lambda _: self.start())
        self.start()

    def _widgets(self) -> None:
        self.picker = pn.widgets.Select(name="Exercise", options=list(self.exercises),
                                        width=SIDE_WIDTH - 20)
        self.brief = text_markdown(width=SIDE_WIDTH - 20)
        self.levers = pn.Column(width=SIDE_WIDTH - 20)
        self.message = pn.pane.Alert("", alert_type="danger", visible=False,
                                     width=SIDE_WIDTH - 20, css_classes=["salessim-message"],
                                     renderer="markdown-it", renderer_options=TEXT_ONLY)
        self.play_button = pn.widgets.Button(name="Play a round", button_type="primary")
        self.restart_button = pn.widgets.Button(name="Start again", button_type="default")
        self.status = text_markdown(css_classes=["salessim-status"], sizing_mode="stretch_width")
        self.score = pn.pane.HTML("", css_classes=["salessim-score"], sizing_mode="stretch_width")
        self.debrief = text_markdown(sizing_mode="stretch_width")
        self.kpis = pn.pane.HTML("", sizing_mode="stretch_width")
        self.pipeline = pn.pane.HTML("")
        self.pools = pn.pane.HTML("")
        # Figures side by side while they fit, one under the other on a narrow screen.
        self.figures = pn.FlexBox(sizing_mode="stretch_width")
        self.state = pn.Column(
            pn.pane.Markdown("### KPIs so far"), self.kpis,
            pn.Row(pn.Column(pn.pane.Markdown("### Open deals by stage"), self.pipeline),
                   pn.Column(pn.pane.Markdown("### Reps and queues now"), self.pools)),
            sizing_mode="stretch_width")
        self.answer = pn.widgets.FileDownload(label="Download my answer", filename="answer.yaml",
                                              callback=self._answer_file, button_type="light",
                                              visible=False)

    @property
    def exercise(self) -> Exercise:
        """The exercise picked."""
        return self.exercises[str(self.picker.value)]

    def start(self) -> None:
        """Show the exercise picked as it stands before the first round; no game yet.

        A game under way is dropped: the next round played starts a new one.
        """
        self.close()
        exercise = self.exercise
        self.brief.object = brief_markdown(exercise)
        self.inputs = {lever.name: self._input(exercise, lever) for lever in exercise.levers}
        self.levers.objects = [
            pn.Column(widget, pn.pane.HTML(
                f"<small>{html.escape(lever_terms(exercise, lever))}."
                f"{' ' + html.escape(lever.help) if lever.help else ''}</small>", margin=(0, 10)))
            for lever, widget in zip(exercise.levers, self.inputs.values(), strict=True)]
        self.score.object = ""
        self.debrief.object = ""
        self.answer.visible = False
        self.answer_text = ""
        self._say("")
        opening = self.pool.ready_opening(exercise.title)
        self._awaiting = None if opening is not None else exercise.title
        if opening is not None:
            self.show(opening)
        else:
            self.status.object = "Preparing the exercise..."
            pn.state.onload(self._show_opening)

    async def _show_opening(self) -> None:
        title = self._awaiting
        if title is None:
            return
        opening = await self.pool.opening(title)
        if self._awaiting == title:  # nothing else shown since: no round, no other exercise
            self._awaiting = None
            self.show(opening)

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

    async def play(self, _event: object = None) -> None:
        """Take the levers' values as decisions and play one round in the game's worker."""
        if self._playing:  # a click that reached the server before the button's wait did
            return
        if self.game is None:
            self.game = self.pool.new_game(self.exercise.title)
            if self.game is None:
                self._say(limit_message(self.pool))
                return
        game = self.game
        values = {name: w.value for name, w in self.inputs.items()}
        self._busy(True)
        try:
            result = await self.pool.play(game, values)
        except Exception:
            log.exception("round of %s not played", game.id)
            self._say("Not played: the server failed to play this round. Press Play again, "
                      "or Start again.")
            return
        finally:
            self._busy(False)
        if game is not self.game:  # the tab was closed meanwhile
            return
        if isinstance(result, Refused):
            self._say("Not played: " + "; ".join(result.problems))
            return
        self._say("")
        self._awaiting = None
        if result.finished:
            self.game = None  # over: the server has let it go
        self.show(result)

    def _busy(self, busy: bool) -> None:
        # While a round is played the tab's controls wait for it: a second click, a new
        # exercise or a restart would act on a game that is about to change.
        self._playing = busy
        self.play_button.loading = busy
        self.restart_button.disabled = busy
        self.picker.disabled = busy

    def show(self, view: View) -> None:
        """Show where the game stands: status, KPIs, pipeline, queues, plots, the score."""
        exercise = self.exercise
        money = exercise.currency
        for lever in exercise.levers:
            self.inputs[lever.name].disabled = view.finished or (
                lever.only_at_start and view.round > 0)
        self.play_button.visible = not view.finished
        if view.finished:
            state = f"**All {view.rounds} rounds played**; open deals have run to their end."
        else:
            state = (f"**Round {view.round + 1} of {view.rounds}**: day "
                     f"{view.day:g} of {exercise.year_days:g}. Set the levers, then play.")
        self.status.object = (f"{state} Budget left: {fmt('cost', view.budget_left)} {money} "
                              f"of {fmt('cost', exercise.spec.budget)} {money}.")
        self.state.visible = not view.finished
        if not view.finished:
            self.kpis.object = table_html(("kpi", "mean so far"), list(view.kpis))
            self.pipeline.object = frame_html(view.pipeline)
            self.pools.object = frame_html(view.pools)
        self.figures.objects = [pn.pane.PNG(png) for png in view.figures]
        if view.score is not None:
            self._show_score(view.score, view.answer)

    def _show_score(self, score: ScoreView, answer: str) -> None:
        checks = "".join(f"<li>{html.escape(line)}</li>" for line in score.checks)
        rows = table_html(("kpi", "baseline", "your game", "difference (95% CI)"),
                          [tuple(r) for r in score.kpi_rows])
        self.score.object = (
            f"<h2 class='salessim-points'>Score: {score.points}/100</h2>"
            f"<p>{html.escape(score.outcome)}.</p><ul>{checks}</ul>"
            f"<h3>What your decisions did</h3>{rows}")
        self.debrief.object = f"### Debrief\n\n{self.exercise.spec.debrief}"
        self.answer_text = answer
        self.answer.visible = True

    def _answer_file(self) -> io.StringIO:
        return io.StringIO(self.answer_text)

    def close(self) -> None:
        """Drop the tab's game, if one is under way."""
        if self.game is not None:
            self.pool.drop(self.game)
            self.game = None


class StatusHandler(tornado.web.RequestHandler):
    """``GET /status``: the server's counts as JSON (read only)."""

    def initialize(self, status: Callable[[], dict[str, Any]]) -> None:
        """Take the function that gives the counts."""
        self._status = status

    def get(self) -> None:
        """Send the counts."""
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        self.write(json.dumps(self._status()))


def load_exercises(path: Path) -> dict[str, Exercise]:
    """Every exercise of a file or folder, by title.

    Raises:
        ScenarioError: For the first exercise that does not load.
    """
    exercises: dict[str, Exercise] = {}
    for file in exercise_files(path):
        exercise = Exercise.load(file)
        exercises[exercise.title] = exercise
    return exercises


class App:
    """The page's server side: one page per browser tab, every tab's game in ``pool``.

    Args:
        exercises: Exercises by title.
        pool: The server's games.
    """

    def __init__(self, exercises: dict[str, Exercise], pool: GamePool) -> None:
        self.exercises = exercises
        self.pool = pool
        self.tabs = 0

    def page(self) -> pn.viewable.Viewable:
        """A new tab's page; its game is dropped when the tab closes."""
        tab = TrainingPage(self.exercises, self.pool)
        self.tabs += 1
        pn.state.on_session_destroyed(lambda _context: self._closed(tab))
        return tab.layout

    def _closed(self, tab: TrainingPage) -> None:
        self.tabs -= 1
        tab.close()

    def status(self) -> dict[str, Any]:
        """The pool's counts and the tabs open."""
        return {"tabs": self.tabs, **self.pool.status()}


def serve(path: Path, port: int, address: str = "127.0.0.1", show: bool = False, *,
          workers: int, games_per_worker: int, max_trainees: int,
          forget_after_s: float) -> None:
    """Serve the page until interrupted.

    Every exercise is loaded first, so a bad file stops the server before it starts.

    Args:
        path: An exercise file or a folder of them.
        port: TCP port.
        address: Address to listen on.
        show: Open the page in a browser.
        workers: Worker processes for the games.
        games_per_worker: Most games a worker holds in memory.
        max_trainees: Most games at once.
        forget_after_s: How long after its tab closes a game is dropped (seconds).

    Raises:
        ScenarioError: For the first exercise that does not load.
    """
    exercises = load_exercises(path)
    pool = GamePool(exercises, workers=workers, games_per_worker=games_per_worker,
                    max_games=max_trainees)
    app = App(exercises, pool)
    forget_ms = max(1, round(forget_after_s * 1000))
    server = pn.serve({"/": app.page}, port=port, address=address, show=show,
                      title="salessim training", threaded=False, start=False,
                      websocket_origin=[f"{address}:{port}", f"localhost:{port}"],
                      extra_patterns=[("/status", StatusHandler, {"status": app.status})],
                      unused_session_lifetime_milliseconds=forget_ms,
                      check_unused_sessions_milliseconds=forget_ms)
    print(f"salessim training page on http://{address}:{port}/ (Ctrl-C stops it)", flush=True)
    try:
        _run_until_stopped(server)
    finally:
        pool.close()


def _run_until_stopped(server: Any) -> None:
    """Run the server's event loop until Ctrl-C or SIGTERM stops it.

    Panel stops the loop on Ctrl-C. SIGTERM stops it the same way, and only then goes to
    the handler that was there before (the command's, which unwinds): raised inside one
    of the loop's callbacks, that handler's exception would be caught and logged by
    asyncio, and the server would go on.
    """
    stopped_by: list[int] = []

    def stop(signum: int, _frame: object) -> None:
        stopped_by.append(signum)
        server.io_loop.asyncio_loop.call_soon_threadsafe(server.io_loop.stop)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        server.start()
        server.io_loop.start()
    finally:
        signal.signal(signal.SIGTERM, previous)
    if stopped_by and callable(previous):
        previous(signal.SIGTERM, None)
