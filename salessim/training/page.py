"""The trainees' page: pick an exercise, read the brief, pull levers, play rounds, get a score.

A Panel app served locally (``salessim exercise page``). Loading the page runs nothing:
what a trainee sees before the first round is the same for every trainee of an exercise,
worked out once per server (``GamePool.opening``). A trainee's game starts when they
first press "Play a round", and lives in one of the server's worker processes
(``salessim.training.games``); the page's callbacks only wait for the workers, so the
server keeps answering other trainees while rounds are played, on as many cores as it
has workers. Values the trainee types go through the same checks as a round's, as they
are typed, and a refused value is shown as a message on the page until it is fixed.
Text from the exercise file (title, brief, debrief, labels) is shown as text: HTML in it
is escaped.

Beside the KPIs so far stand the baseline's at the same day, and the goal's bounds have
their numbers: both come from the exercise left untouched, played once per exercise by
the game pool (``GamePool.reference``), whose run also scores the games. Days are
counted as the charts count them, from the start of the run.
"""

from __future__ import annotations

import html
import io
import json
import logging
import math
import signal
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import matplotlib
import pandas as pd
import panel as pn
import tornado.web

from salessim.formatting import fmt_number, kpi_label, money, whole
from salessim.plots import Labels
from salessim.scenario.errors import Problem, ScenarioError
from salessim.scenario.exercise_spec import Lever
from salessim.training.debrief import clock_note, goal_lines, lever_terms
from salessim.training.exercise import Exercise, LeverValue
from salessim.training.games import Game, GamePool, Refused, ScoreView, View
from salessim.training.session import Reference, check_decisions

matplotlib.use("Agg")  # figures are drawn on the server, never in a window

EXERCISE_SUFFIXES = (".yaml", ".yml")
SIDE_WIDTH = 430
"""Width of the column with the brief and the levers (pixels)."""
MAIN_MIN_WIDTH = 560
"""Narrowest the column of the game may be beside the levers; below, it goes under them."""
STYLE = """
:host { max-width: 100%; }
table.salessim { border-collapse: collapse; font-size: 0.9em; margin: 4px 0; }
table.salessim th, table.salessim td { padding: 3px 8px; text-align: left;
  vertical-align: top; border-bottom: 1px solid #ddd; }
table.salessim th { border-bottom: 2px solid #aaa; }
table.salessim .num { text-align: right; font-variant-numeric: tabular-nums;
  white-space: nowrap; }
.salessim-scroll { max-width: 100%; overflow-x: auto; }
p.salessim-note { color: #555; font-size: 0.85em; margin: 4px 0 8px; max-width: 48em; }
h2.salessim-points { margin: 8px 0; }
"""
"""Styles of the page's own HTML; each pane holds them, since Panel draws every pane
in a shadow root of its own that a stylesheet of the layout does not reach."""
MESSAGE_STYLE = """
:host { max-width: 100%; overflow-wrap: anywhere; }
:host > div { width: auto !important; min-width: 0 !important; }
"""
"""A refusal wraps inside its box: Panel gives the text inside the alert's padding the
box's whole width, so the text would run out of the box on the right."""
TEXT_ONLY = {"html": False}
"""Markdown options that show raw HTML in the text as text."""
IN_TRANSIT = ("In transit: between two steps of a stage: handed over to the next role, "
              "set aside to be nurtured, or answered by the customer and not yet at the "
              "next step. Leads not yet at their first stage count under it.")

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


def table_html(header: tuple[str, ...], rows: Sequence[tuple[str, ...]], numeric_from: int = 1
               ) -> str:
    """A small HTML table; columns from ``numeric_from`` on are right-aligned.

    It scrolls inside its own box when it is wider than the column, never the page.
    """
    def cells(tag: str, row: tuple[str, ...]) -> str:
        return "".join(f"<{tag}{' class=num' if i >= numeric_from else ''}>{html.escape(c)}"
                       f"</{tag}>" for i, c in enumerate(row))

    body = "".join(f"<tr>{cells('td', r)}</tr>" for r in rows)
    return (f"<div class='salessim-scroll'><table class='salessim'><tr>{cells('th', header)}"
            f"</tr>{body}</table></div>")


def note_html(text: str) -> str:
    """A line of explanation under a table."""
    return f"<p class='salessim-note'>{html.escape(text)}</p>"


def counts_html(df: pd.DataFrame, tenths: Sequence[str] = ()) -> str:
    """A DataFrame of mean counts as an HTML table of whole numbers, index levels first.

    Index values are names: their underscores are shown as spaces.

    Args:
        df: The counts.
        tenths: Columns shown to one decimal: means that are not counts of things one
            can point at (busy reps: 3.4 of 5 busy on average), where rounding to whole
            would hide the change a lever makes.
    """
    flat = df.reset_index()
    index_columns = len(df.index.names)
    shown = [str(c) for c in flat.columns]

    def cell(i: int, v: Any) -> str:
        if i < index_columns:
            return str(v).replace("_", " ")
        return f"{float(v):,.1f}" if shown[i] in tenths else whole(float(v))

    rows = [tuple(cell(i, v) for i, v in enumerate(r)) for r in flat.itertuples(index=False)]
    return table_html(tuple(str(c) for c in flat.columns), rows, index_columns)


def text_markdown(text: str = "", **kwargs: Any) -> pn.pane.Markdown:
    """A Markdown pane that shows any raw HTML in ``text`` as text."""
    return pn.pane.Markdown(text, renderer="markdown-it", renderer_options=TEXT_ONLY,
                            stylesheets=[STYLE], **kwargs)


def html_pane(**kwargs: Any) -> pn.pane.HTML:
    """An HTML pane for the page's own markup, with the page's styles."""
    return pn.pane.HTML("", stylesheets=[STYLE], **kwargs)


def brief_markdown(exercise: Exercise, reference: Reference | None = None) -> str:
    """The brief as the page shows it: title, level, brief, goal, budget and rounds.

    Args:
        exercise: The exercise.
        reference: The untouched game, once played: the goal then has its numbers.
    """
    spec = exercise.spec
    baseline = None if reference is None else reference.baseline
    waiting = ([] if reference is not None else
               ["", "*The goal's numbers come once the untouched year has been played on "
                    "the server.*"])
    return "\n".join([
        f"### {spec.title}", f"*Level {spec.level} of 5*", "", spec.brief.strip(), "",
        "**Goal**", "", *goal_lines(exercise, baseline), *waiting, "",
        f"**Budget for levers:** {money(spec.budget, exercise.currency)}. "
        f"{len(exercise.round_starts)} rounds of {spec.round_days:g} working days."])


def clock_markdown(exercise: Exercise, view: View) -> str:
    """Where the game stands in time, on the charts' clock, and the budget left.

    Days are counted as the charts count them: working days from the start of the run,
    warm-up included.
    """
    cal = exercise.scenario.calendar
    money_left = (f"Budget left: {money(view.budget_left, exercise.currency)} of "
                  f"{money(exercise.spec.budget, exercise.currency)}.")
    if view.finished:
        return (f"**All {view.rounds} rounds played.** New leads stopped on day "
                f"{cal.horizon_days:g} and open deals have run to their end. {money_left}")
    return (f"**Round {view.round + 1} of {view.rounds}** starts on day "
            f"{exercise.takeover_day + view.day:g}: set the levers, then play. {money_left}\n\n"
            f"Days are working days from the start of the run, as on the charts: you took "
            f"over on day {exercise.takeover_day:g}, at the end of the warm-up, and new leads "
            f"stop on day {cal.horizon_days:g}.")


def so_far_html(exercise: Exercise, view: View, reference: Reference | None) -> str:
    """The KPIs so far beside the baseline's at the same day, with what they are."""
    base = (None if reference is None or view.round >= len(reference.so_far)
            else reference.so_far[view.round])
    money_in = exercise.currency
    rows = []
    for kpi, mean in view.kpis:
        theirs = "..." if base is None else fmt_number(kpi, float(base.get(kpi, math.nan)))
        rows.append((kpi_label(kpi, money_in), fmt_number(kpi, mean), theirs))
    n = exercise.spec.replications
    said = (f"Means over the {n} replications the exercise plays (the same year drawn {n} "
            "times); counts rounded to whole deals and leads. The baseline is the year left "
            "untouched, on the same leads, at the same day: before your first round the two "
            "are the same.")
    if base is None:
        said += " The baseline is being played on the server and comes in a moment."
    return table_html(("KPI", "yours so far", "baseline so far"), rows) + note_html(said)


def figure_pane(png: bytes) -> pn.pane.PNG:
    """A plot that shrinks to a narrow column and never grows past its own width."""
    width = int.from_bytes(png[16:20], "big")  # the width field of the PNG's header
    return pn.pane.PNG(png, sizing_mode="scale_width", max_width=width)


def score_rows(exercise: Exercise, score: ScoreView) -> list[tuple[str, ...]]:
    """The score's table: each KPI in words with its unit, the baseline, the game."""
    lab = Labels.of(exercise.scenario)  # utilisation by its role's words, as in the CLI
    return [(lab.kpi_label(kpi, exercise.currency), base, answer, diff)
            for kpi, base, answer, diff in score.kpi_rows]


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
        self.view: View | None = None
        """What the tab shows of the game (or of the exercise before its first round)."""
        self.reference: Reference | None = None
        """The exercise's untouched game, once played."""
        self.in_force: dict[str, LeverValue] = {}
        """Each lever's value in force in the game, as the last round played left it."""
        self._awaiting: str | None = None
        """The exercise whose opening the tab waits for, to show it when it comes."""
        self._playing = False
        self.inputs: dict[str, pn.widgets.Widget] = {}
        self._widgets()
        side = pn.Column(pn.pane.Markdown("## salessim training"), self.picker, self.brief,
                         pn.pane.Markdown("### Levers"), self.levers, self.message,
                         pn.Row(self.play_button, self.restart_button), self.answer,
                         width=SIDE_WIDTH)
        main = pn.Column(self.status, self.score, self.reading, self.kpi_table, self.debrief,
                         self.state, self.figures, sizing_mode="stretch_width",
                         styles={"flex": f"1 1 {MAIN_MIN_WIDTH}px", "min-width": "0"})
        # The game's column goes under the levers when both do not fit side by side.
        self.layout = pn.FlexBox(side, main, flex_wrap="wrap", sizing_mode="stretch_width")
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
                                     renderer="markdown-it", renderer_options=TEXT_ONLY,
                                     stylesheets=[MESSAGE_STYLE])
        self.play_button = pn.widgets.Button(name="Play a round", button_type="primary")
        self.restart_button = pn.widgets.Button(name="Start again", button_type="default")
        self.status = text_markdown(css_classes=["salessim-status"], sizing_mode="stretch_width")
        self.score = html_pane(css_classes=["salessim-score"], sizing_mode="stretch_width")
        self.reading = text_markdown(sizing_mode="stretch_width")
        self.kpi_table = html_pane(sizing_mode="stretch_width")
        self.debrief = text_markdown(sizing_mode="stretch_width")
        self.kpis = html_pane(sizing_mode="stretch_width")
        self._score_panes = (self.score, self.reading, self.kpi_table, self.debrief)
        self.pipeline = html_pane()
        self.pools = html_pane()
        # Figures side by side while they fit, one under the other on a narrow screen.
        self.figures = pn.FlexBox(sizing_mode="stretch_width")
        self.state = pn.Column(
            pn.pane.Markdown("### KPIs so far"), self.kpis,
            pn.FlexBox(pn.Column(pn.pane.Markdown("### Open deals by stage"), self.pipeline),
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
        self.view = None
        self.reference = self.pool.ready_reference(exercise.title)
        self.brief.object = brief_markdown(exercise, self.reference)
        self.in_force = dict(exercise.start)
        self.inputs = {lever.name: self._input(exercise, lever) for lever in exercise.levers}
        self.levers.objects = [
            pn.Column(widget, pn.pane.HTML(
                f"<small>{html.escape(lever_terms(exercise, lever))}."
                f"{' ' + html.escape(lever.help) if lever.help else ''}</small>", margin=(0, 10)))
            for lever, widget in zip(exercise.levers, self.inputs.values(), strict=True)]
        for text in self._score_panes:
            text.object = ""
            text.visible = False  # an empty pane would still take its margins
        self.answer.visible = False
        self.answer_text = ""
        self._say("")
        if self.reference is None:
            pn.state.onload(self._show_reference)
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

    async def _show_reference(self) -> None:
        title = self.exercise.title
        found = await self.pool.reference(title)
        if found is None or self.exercise.title != title:  # another exercise picked since
            return
        self.reference = found
        self.brief.object = brief_markdown(self.exercise, found)
        if self.view is not None and not self.view.finished:
            self.kpis.object = so_far_html(self.exercise, self.view, found)

    def _input(self, exercise: Exercise, lever: Lever) -> pn.widgets.Widget:
        # Number inputs carry no bounds: a value out of bounds reaches the same check as
        # an answer file, and the trainee reads why it is refused.
        start = exercise.start[lever.name]
        if lever.options is None:
            widget: pn.widgets.Widget = pn.widgets.FloatInput(
                name=lever.label, value=float(start), step=lever.step or 1.0,
                width=SIDE_WIDTH - 40, css_classes=[f"lever-{lever.name}"])
        else:
            labels = {(o.label or name): name for name, o in lever.options.items()}
            widget = pn.widgets.Select(name=lever.label, options=labels, value=start,
                                       width=SIDE_WIDTH - 40, css_classes=[f"lever-{lever.name}"])
        widget.param.watch(lambda _: self._check(), "value")
        return widget

    def _values(self) -> dict[str, Any]:
        return {name: w.value for name, w in self.inputs.items()}

    def _decided(self) -> tuple[dict[str, LeverValue], list[str]]:
        """The round's decisions from the levers' values, checked as the game checks them.

        Returns:
            The values that differ from those in force, and why the values are refused
            (nothing, when they are not).
        """
        view, budget = self.view, self.exercise.spec.budget
        if view is not None and view.finished:
            return {}, []
        # Before the opening is shown the game stands at its takeover: day 0, nothing spent.
        day, spent = (0.0, 0.0) if view is None else (view.day, budget - view.budget_left)
        try:
            return check_decisions(self.exercise, self.in_force, spent, day,
                                   self._values()), []
        except ScenarioError as err:
            return {}, [p.message for p in err.problems]

    def _check(self) -> None:
        """Say at once what is wrong with the values typed, and nothing once it is fixed."""
        if self._playing:
            return
        problems = self._decided()[1]
        self._say("Not allowed: " + "; ".join(problems) if problems else "")

    def _say(self, text: str) -> None:
        self.message.object = text
        self.message.visible = bool(text)

    async def play(self, _event: object = None) -> None:
        """Take the levers' values as decisions and play one round in the game's worker."""
        if self._playing:  # a click that reached the server before the button's wait did
            return
        decided, problems = self._decided()
        if problems:  # refused here as the worker would refuse it, without asking it
            self._say("Not played: " + "; ".join(problems))
            return
        if self.game is None:
            self.game = self.pool.new_game(self.exercise.title)
            if self.game is None:
                self._say(limit_message(self.pool))
                return
        game = self.game
        values = self._values()
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
        self.in_force.update(decided)
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
        self.view = view
        for lever in exercise.levers:
            self.inputs[lever.name].disabled = view.finished or (
                lever.only_at_start and view.round > 0)
        self.play_button.visible = not view.finished
        self.status.object = clock_markdown(exercise, view)
        self.state.visible = not view.finished
        if not view.finished:
            n = exercise.spec.replications
            self.kpis.object = so_far_html(exercise, view, self.reference)
            self.pipeline.object = counts_html(view.pipeline) + note_html(
                f"{IN_TRANSIT} Means over {n} replications, rounded.")
            self.pools.object = counts_html(view.pools, tenths=("busy",)) + note_html(
                f"Reps, those busy now and tasks waiting for them: means over {n} "
                "replications; busy reps to a tenth, the others rounded.")
        self.figures.objects = [figure_pane(png) for png in view.figures]
        if view.score is not None:
            self._show_score(view.score, view.answer)

    def _show_score(self, score: ScoreView, answer: str) -> None:
        self.score.object = f"<h2 class='salessim-points'>Score: {score.points}/100</h2>"
        self.reading.object = score.outcome
        self.kpi_table.object = (
            "<h3>Every KPI against the baseline</h3>"
            + table_html(("KPI", "baseline", "your game", "difference (95% interval)"),
                         score_rows(self.exercise, score))
            + note_html("Means over the replications; lever costs are counted in cost, "
                        "cost per deal won and profit. Shares' differences are in "
                        "percentage points (pts)."))
        self.debrief.object = f"### Debrief\n\n{self.exercise.spec.debrief}"
        for text in self._score_panes:
            text.visible = True
        # The file's days are the takeover's, the page's the run's: the file says which.
        self.answer_text = f"# {clock_note(self.exercise)}\n{answer}"
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
