"""Trainees' games in worker processes, for the page: sticky, bounded, rebuilt by replay.

The page's server holds no ``Session``: a game lives in one worker process (a
single-process ``ProcessPoolExecutor``, forked where the platform allows), chosen when
the game starts and kept for its life, since a ``Session`` holds SimPy generators and
cannot move between processes. The server keeps what it needs to rebuild a game: the
lever values of each round played (a few bytes). Replaying them on a fresh ``Session``
gives the same numbers, because the same decisions on the same days give the same
outcome; so a worker holds at most ``games_per_worker`` games in memory, drops the least
recently played one when it needs room, and rebuilds it when its trainee plays again.
A worker that dies is replaced, and its games are rebuilt the same way.

What the trainees see before their first round is the same for everyone on an
exercise: it is worked out once per exercise (``GamePool.opening``), as is the exercise
left untouched (``GamePool.reference``): played round by round, it gives the goal's
numbers and the baseline so far beside a trainee's KPIs, and its run is the baseline
that scores the last round. Everything that comes back from a
worker is plain data (``View``): tables, text, and figures already rendered to PNG.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import io
import itertools
import logging
import os
import signal
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pandas as pd
from matplotlib.figure import Figure

from salessim import plots
from salessim.executors import end_with_parent, pool_context
from salessim.results import Results
from salessim.scenario.errors import ScenarioError
from salessim.timeseries import timeseries
from salessim.training.debrief import check_line, kpi_rows, outcome
from salessim.training.exercise import Exercise
from salessim.training.scoring import Score, baseline
from salessim.training.session import Reference, Session, reference

FIGURE_DPI = 72
"""Resolution of the plots on the page (dots per inch); the figures are 8 inches wide."""
HEADLINE_KPIS = ("leads", "won", "open", "conversion_rate", "cycle_time_p90_days", "revenue",
                 "cost", "profit")
"""KPIs shown while the game is on, with those the exercise's goal names."""
SAMPLE_DAYS = 5.0
"""Step of the work-in-progress plot (days)."""

T = TypeVar("T")
log = logging.getLogger(__name__)
Values = Mapping[str, Any]
"""Lever name -> value as the page's inputs give it (a number or an option's name)."""


# ---- what comes back from a worker -----------------------------------------------------

@dataclass(frozen=True)
class ScoreView:
    """A finished game's score, as text for the page.

    Attributes:
        points: 0 to 100.
        outcome: Goal met or not, the objective against the baseline, lever costs.
        checks: One line per condition of the goal.
        kpi_rows: Per KPI: name, baseline mean, the game's mean, the difference with its
            95 % interval, each formatted.
    """

    points: int
    outcome: str
    checks: tuple[str, ...]
    kpi_rows: tuple[tuple[str, str, str, str], ...]


@dataclass(frozen=True)
class View:
    """Where a game stands, as the page shows it.

    Attributes:
        round: Rounds played.
        rounds: Rounds in the exercise.
        day: Days since the takeover: the first day of the next round (days).
        finished: Whether every round is played and the open deals have run to their end.
        budget_left: Budget not yet spent (currency).
        kpis: Headline KPIs so far: name and mean over replications (empty once
            finished); the page writes them in the vocabulary's words and units.
        pipeline: Open leads by stage and phase now (empty once finished).
        pools: Reps, busy reps and queues per team and role now (empty once finished).
        figures: The plots, as PNG files.
        score: The score, once finished.
        answer: The decisions as the YAML text of an answer file, once finished.
    """

    round: int
    rounds: int
    day: float
    finished: bool
    budget_left: float
    kpis: tuple[tuple[str, float], ...]
    pipeline: pd.DataFrame
    pools: pd.DataFrame
    figures: tuple[bytes, ...]
    score: ScoreView | None = None
    answer: str = ""


@dataclass(frozen=True)
class Refused:
    """A round not played: the levers' values were refused.

    Attributes:
        problems: Why, one message per refused value (or the budget).
    """

    problems: tuple[str, ...]


# ---- in a worker process -----------------------------------------------------------------

class _WorkerGames:
    """The games one worker process holds, least recently played first.

    Args:
        exercises: The server's exercises by title.
        capacity: Most games held in memory at once.
    """

    def __init__(self, exercises: Mapping[str, Exercise], capacity: int) -> None:
        self.exercises = exercises
        self.capacity = capacity
        self.live: OrderedDict[str, Session] = OrderedDict()
        self.baselines: dict[str, Results] = {}
        self._garbage = False

    def session(self, game: str, title: str, history: Sequence[Values]) -> Session:
        """The game's session with ``history`` played, rebuilt by replay if not held."""
        session = self.live.pop(game, None)
        if session is None or session.round != len(history):
            self._garbage |= session is not None
            session = self._rebuild(title, history)
        self.live[game] = session
        return session

    def _rebuild(self, title: str, history: Sequence[Values]) -> Session:
        while len(self.live) >= self.capacity:
            self.live.popitem(last=False)
            self._garbage = True
        session = self.fresh(title)
        for values in history:
            session.decide(values)
            session.play()
        return session

    def fresh(self, title: str) -> Session:
        """A new session of the exercise, run to the takeover."""
        if self._garbage:
            # SimPy's generators and events hold each other in cycles, so a dropped
            # game's memory comes back only through the cycle collector; collect now,
            # when a new game is about to need that memory.
            gc.collect()
            self._garbage = False
        return Session(self.exercises[title])

    def drop(self, game: str) -> None:
        """Let go of a game (its memory is reclaimed before the next game is built)."""
        if self.live.pop(game, None) is not None:
            self._garbage = True

    def discard(self) -> None:
        """A session built by ``fresh`` and not kept is no longer needed."""
        self._garbage = True

    def baseline(self, title: str) -> Results:
        """The exercise's baseline: as received or computed before, else computed now."""
        if title not in self.baselines:
            self.baselines[title] = baseline(self.exercises[title], executor="serial")
        return self.baselines[title]


_games: _WorkerGames | None = None
"""This worker process's games (set when the worker starts)."""


def _start_worker(parent: int, exercises: Mapping[str, Exercise], capacity: int) -> None:
    """Worker start: hold the exercises, end with the server, leave Ctrl-C to the server."""
    global _games
    _games = _WorkerGames(exercises, capacity)
    # Ctrl-C in a terminal reaches the whole process group; the server shuts its
    # workers down itself, and a worker interrupted mid-task would only print a trace.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    end_with_parent(parent)


def _worker_games() -> _WorkerGames:
    if _games is None:
        raise RuntimeError("not in a game worker: _start_worker has not run in this process")
    return _games


def _opening(title: str) -> View:
    """What every trainee sees before the first round of the exercise."""
    games = _worker_games()
    session = games.fresh(title)
    view = _view(session, None)
    games.discard()
    return view


def _untouched(title: str) -> Reference:
    """The exercise left untouched, played round by round (now this worker's baseline)."""
    games = _worker_games()
    found = reference(games.exercises[title])
    games.baselines[title] = found.results
    return found


def _play(game: str, title: str, history: Sequence[Values], values: Values,
          base: Results | None) -> View | Refused:
    """Decide ``values`` and play one round of a game that has played ``history``."""
    games = _worker_games()
    if base is not None:
        games.baselines[title] = base
    session = games.session(game, title, history)
    try:
        session.decide(values)
    except ScenarioError as err:
        return Refused(tuple(p.message for p in err.problems))
    try:
        session.play()
        view = _view(session, games.baseline(title) if session.finished else None)
    except BaseException:
        games.drop(game)  # half played: rebuilt from its history if played again
        raise
    if session.finished:  # the page has all it needs: the score and the answer
        games.drop(game)
    return view


def _forget(game: str) -> None:
    _worker_games().drop(game)


def _view(session: Session, base: Results | None) -> View:
    """The session as the page shows it; ``base`` scores a finished game."""
    exercise = session.exercise
    res = session.results()
    ts = timeseries(res, step_days=SAMPLE_DAYS)
    empty = pd.DataFrame()
    if session.finished:
        assert base is not None
        score = _score_view(exercise, session.score(base))
        return View(session.round, session.rounds, session.day, True, session.budget_left,
                    (), empty, empty, _figures(session, res, ts), score, session.answer())
    # Work still under way at this moment has no end yet and is not counted at the
    # last sample: show the past only.
    ts = ts[ts["time_days"] < exercise.takeover_day + session.day]
    means = session.kpis()
    goal = [t.condition.kpi for t in exercise.targets] + [exercise.objective.kpi]
    shown = dict.fromkeys([*HEADLINE_KPIS, *goal])  # the goal's KPIs too, once each
    kpis = tuple((k, float(means[k])) for k in shown if k in means.index)
    return View(session.round, session.rounds, session.day, False, session.budget_left, kpis,
                session.pipeline(), session.pools(), _figures(session, res, ts))


def _figures(session: Session, res: Results, ts: pd.DataFrame) -> tuple[bytes, ...]:
    figures = [plots.wip_over_time(res, ts)]
    if session.round > 0:  # utilisation is measured from the takeover on
        figures.append(plots.utilisation(res, by="team"))
    return tuple(_png(f) for f in figures)


def _png(figure: Figure) -> bytes:
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=FIGURE_DPI, bbox_inches="tight")
    return out.getvalue()


def _score_view(exercise: Exercise, score: Score) -> ScoreView:
    said = outcome(exercise, score)
    return ScoreView(score.points, said[:1].upper() + said[1:],
                     tuple(check_line(c) for c in score.checks), tuple(kpi_rows(score)))


# ---- in the server ---------------------------------------------------------------------------

@dataclass
class Game:
    """A trainee's game as the server keeps it: where it lives and how to rebuild it.

    Attributes:
        id: Its name in its worker.
        exercise: The exercise's title.
        worker: Index of the worker that holds it.
        history: The lever values of each round played, in order.
    """

    id: str
    exercise: str
    worker: int
    history: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Worker:
    executor: ProcessPoolExecutor
    pid: int
    games: int = 0
    """Games bound to this worker."""
    baselines: set[str] = field(default_factory=set)
    """Exercises whose baseline this worker holds, or computes before its next task."""


class GamePool:
    """The server's games, spread over worker processes.

    Create it before the server starts its threads: the workers are forked now.
    Its coroutines run on the server's event loop and only wait for the workers.

    Args:
        exercises: The exercises by title.
        workers: Worker processes (each plays one round at a time, on one core).
        games_per_worker: Most games a worker holds in memory; beyond, the least
            recently played is dropped and rebuilt by replay when played again.
        max_games: Most games at once in the whole server.

    Raises:
        ValueError: If a count is below 1.
    """

    def __init__(self, exercises: Mapping[str, Exercise], *, workers: int,
                 games_per_worker: int, max_games: int) -> None:
        for name, count in (("workers", workers), ("games_per_worker", games_per_worker),
                            ("max_games", max_games)):
            if count < 1:
                raise ValueError(f"{name} must be at least 1, got {count}")
        self.exercises = dict(exercises)
        self.games_per_worker = games_per_worker
        self.max_games = max_games
        self._workers = [self._new_worker() for _ in range(workers)]
        self._games: dict[str, Game] = {}
        self._started = 0
        self._rotation = itertools.cycle(range(workers))
        self._openings: dict[str, Future[View]] = {}
        self._untouched: dict[str, Future[Reference]] = {}
        for title in self.exercises:  # in the background: the server answers meanwhile
            self._opening_future(title)

    def _new_worker(self) -> _Worker:
        executor = ProcessPoolExecutor(
            1, mp_context=pool_context(), initializer=_start_worker,
            initargs=(os.getpid(), self.exercises, self.games_per_worker))
        # A pool starts its process with its first task: this one starts it now.
        return _Worker(executor, executor.submit(os.getpid).result())

    # ---- what every trainee of an exercise shares ------------------------------------

    def ready_opening(self, title: str) -> View | None:
        """The exercise's state before the first round, if already worked out."""
        future = self._opening_future(title)
        return future.result() if future.done() and not _failed(future) else None

    async def opening(self, title: str) -> View:
        """The exercise's state before the first round (worked out once per exercise)."""
        return await self._shared(self._opening_future, title)

    def _opening_future(self, title: str) -> Future[View]:
        future = self._openings.get(title)
        if future is None or _failed(future):
            future = self._openings[title] = self._submit(next(self._rotation), _opening, title)
        return future

    def ready_reference(self, title: str) -> Reference | None:
        """The exercise left untouched, if already played (it is started now if not)."""
        future = self._untouched_future(title)
        return future.result() if future.done() and not _failed(future) else None

    async def reference(self, title: str) -> Reference | None:
        """The exercise left untouched (played once per server); None if it failed (logged).

        It gives the goal's numbers, the baseline so far beside a trainee's KPIs, and the
        baseline that scores every game of the exercise.
        """
        try:
            return await self._shared(self._untouched_future, title)
        except Exception:
            log.exception("the untouched game of %r was not played", title)
            return None

    def _untouched_future(self, title: str) -> Future[Reference]:
        future = self._untouched.get(title)
        if future is None or _failed(future):
            index = next(self._rotation)
            future = self._untouched[title] = self._submit(index, _untouched, title)
            self._workers[index].baselines.add(title)
        return future

    async def _shared(self, future_of: Callable[[str], Future[T]], title: str) -> T:
        try:
            return await asyncio.wrap_future(future_of(title))
        except BrokenProcessPool:  # its worker died: another one works it out
            return await asyncio.wrap_future(future_of(title))

    # ---- games -------------------------------------------------------------------------------

    def new_game(self, title: str) -> Game | None:
        """Start a game of the exercise; None if the server holds ``max_games`` already.

        Nothing runs yet: the game is built in its worker when its first round is played.
        """
        if len(self._games) >= self.max_games:
            return None
        index = min(range(len(self._workers)), key=lambda i: self._workers[i].games)
        self._started += 1
        game = Game(f"game-{self._started}", title, index)
        self._games[game.id] = game
        self._workers[index].games += 1
        self._untouched_future(title)  # its run scores the last round: start it now
        return game

    async def play(self, game: Game, values: Values) -> View | Refused:
        """Decide ``values`` and play one round of the game, in its worker.

        A finished game is let go: its view holds the score and the answer.
        """
        rounds = len(self.exercises[game.exercise].round_starts)
        base = None
        if len(game.history) + 1 == rounds and \
                game.exercise not in self._workers[game.worker].baselines:
            base = (await self._shared(self._untouched_future, game.exercise)).results
            self._workers[game.worker].baselines.add(game.exercise)
        decided = dict(values)
        result = await self._call(game.worker, _play, game.id, game.exercise,
                                  tuple(game.history), decided, base)
        if isinstance(result, View):
            game.history.append(decided)
            if result.finished:
                self._release(game)
        return result

    def drop(self, game: Game) -> None:
        """End a game before its last round (a tab closed, a trainee starting again)."""
        if self._release(game):
            self._submit(game.worker, _forget, game.id)

    def _release(self, game: Game) -> bool:
        if self._games.pop(game.id, None) is None:
            return False
        self._workers[game.worker].games -= 1
        return True

    async def _call(self, index: int, fn: Callable[..., T], *args: Any) -> T:
        try:
            return await asyncio.wrap_future(self._submit(index, fn, *args))
        except BrokenProcessPool:
            # The worker died (killed, out of memory): a new one rebuilds the game from
            # the history sent with the call.
            return await asyncio.wrap_future(self._submit(index, fn, *args))

    def _submit(self, index: int, fn: Callable[..., T], *args: Any) -> Future[T]:
        worker = self._workers[index]
        try:
            return worker.executor.submit(fn, *args)
        except BrokenProcessPool:
            worker.executor.shutdown(wait=False, cancel_futures=True)
            replacement = self._new_worker()
            replacement.games = worker.games
            self._workers[index] = replacement
            return replacement.executor.submit(fn, *args)

    # ---- the server ------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """Counts for a status page: games now and since the start, the limits, workers."""
        return {"games": len(self._games), "games_started": self._started,
                "max_trainees": self.max_games,
                "games_per_worker": self.games_per_worker,
                "openings_ready": sum(f.done() and not _failed(f)
                                      for f in self._openings.values()),
                "workers": [{"pid": w.pid, "games": w.games} for w in self._workers]}

    def close(self) -> None:
        """End the workers now, a round under way included: the server is ending."""
        for worker in self._workers:
            worker.executor.shutdown(wait=False, cancel_futures=True)
            # Without this, the interpreter's exit would wait for the task under way (a
            # baseline or a replay can take seconds).
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker.pid, signal.SIGTERM)


def _failed(future: Future[Any]) -> bool:
    return future.done() and (future.cancelled() or future.exception() is not None)
