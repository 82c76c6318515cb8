"""Twenty trainees press "Play a round" at once: the page server's own work, measured.

``bench_page.py`` drives the real page through a browser; on a 2-core machine twenty
browser pages starve the server they share the cores with. This benchmark measures
what the server does for them, without a browser, in one run:

- ``before``: what the old page did. Each trainee's game (``Session``) was built on the
  server when the page loaded (the warm-up), and each round ran on the server's event
  loop, one trainee after another. Here: 20 games built, then played one round each, one
  after another in this process, each round's view (tables and figures as PNG) made as
  the page makes it.
- ``after``: the page's ``GamePool`` (one worker process per core): 20 games started at
  once and their first rounds awaited together, as 20 trainees clicking at once.

For each: when each trainee's round result is ready, counted from the moment the
twenty pages were requested (median, maximum, seconds), and the resident memory (RSS,
MB) at its peak of this process and its worker processes, sampled every 0.1 s (RSS
counts pages a forked worker shares with its parent once per process).

Usage::

    python benchmarks/bench_games.py               # 20 trainees, both ways, ~3 minutes
    python benchmarks/bench_games.py --trainees 10
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil

from salessim.training import Exercise, Session
from salessim.training.games import GamePool, View, _view

ROOT = Path(__file__).resolve().parent.parent
EXERCISE = ROOT / "scenarios" / "exercises" / "01-find-the-bottleneck.yaml"


@contextmanager
def peak_rss() -> Iterator[Callable[[], float]]:
    """The peak RSS (MB) of this process and its children while the block runs."""
    me = psutil.Process(os.getpid())
    peak = [0.0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            total = me.memory_info().rss
            for child in me.children(recursive=True):
                try:
                    total += child.memory_info().rss
                except psutil.NoSuchProcess:
                    continue
            peak[0] = max(peak[0], total / 2**20)
            time.sleep(0.1)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield lambda: peak[0]
    finally:
        stop.set()
        thread.join()


def before(exercise: Exercise, trainees: int) -> tuple[list[float], float]:
    """The old page: games built at page load, rounds one after another, on one thread.

    The trainees' pages arrive together, so the server builds the 20 games one after
    another, then plays the 20 rounds one after another: trainee ``k``'s result comes
    after every build and the rounds of the ``k - 1`` trainees before.
    """
    with peak_rss() as peak:
        loaded = time.perf_counter()
        sessions = [Session(exercise) for _ in range(trainees)]
        ready = []
        for session in sessions:
            session.play()
            _view(session, None)
            ready.append(time.perf_counter() - loaded)
        sessions.clear()
    return ready, peak()


def after(exercise: Exercise, trainees: int, workers: int) -> tuple[list[float], float]:
    """The page's game pool: every trainee's first round at once, on the workers."""
    with peak_rss() as peak:
        pool = GamePool({exercise.title: exercise}, workers=workers,
                        games_per_worker=max(1, -(-trainees // workers)),
                        max_games=trainees)
        try:
            asyncio.run(pool.opening(exercise.title))  # ready before the trainees come
            ready = asyncio.run(_all_at_once(pool, exercise.title, trainees))
        finally:
            pool.close()
    return ready, peak()


async def _all_at_once(pool: GamePool, title: str, trainees: int) -> list[float]:
    clicked = time.perf_counter()  # a page load runs nothing: it is the click

    async def one() -> float:
        game = pool.new_game(title)
        assert game is not None
        view = await pool.play(game, {})
        assert isinstance(view, View)
        return time.perf_counter() - clicked

    return sorted(await asyncio.gather(*(one() for _ in range(trainees))))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trainees", type=int, default=20)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    exercise = Exercise.load(EXERCISE)
    print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"{args.trainees} trainees, {EXERCISE.name}; load average at start "
          f"{os.getloadavg()[0]:.2f}")
    # The pool first: its workers are forked from this process, and must not inherit the
    # memory of the old way's twenty games.
    new = after(exercise, args.trainees, args.workers)
    rows: dict[str, tuple[list[float], float]] = {
        "before (built at page load, one after another, in the server)":
            before(exercise, args.trainees),
        f"after (game pool, {args.workers} workers)": new,
    }
    print("| server | page load to round result: median / max (s) | peak RSS (MB) |")
    print("|---|---|---|")
    for name, (ready, rss) in rows.items():
        print(f"| {name} | {statistics.median(ready):.1f} / {max(ready):.1f} | {rss:,.0f} |")
    old, new = (max(ready) for ready, _ in rows.values())
    print(f"last trainee's wait, before / after: {old / new:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
