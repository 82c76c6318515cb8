"""The trainees' page under load: 20 trainees load the page and play a round at once.

For each server measured, in one run on one machine: the real page server (``salessim
exercise page``) starts on a free port on this machine; once it answers (and, for the
new page, has worked out the exercise's opening state), one trainee loads the page
alone (the plain page load); then N trainees (default 20, each a browser context of
its own in one headless Chromium, driven by Playwright's async API: real HTTP and
websocket traffic) all load the page at the same moment and play one round. Measured:

- plain page load: from the request to the first round's status shown (seconds);
- trainees failed: those whose page or round did not come within 3 minutes;
- for the other trainees, medians and maxima of: page load; from the click on "Play a round"
  to the round's result shown; from the request to the result;
- resident memory (RSS, MB) of the server process and of its worker processes, sampled
  every 0.2 s: when idle before the load, at its peak, and after the round.

The browser runs on the same cores as the server, at the lowest priority (nice 19), so
that it takes only the CPU the server leaves: it stands for the trainees' computers.

Servers measured (``--servers``):

- ``before``: the page of commit ``--before`` (default 0dc367f, the page that ran every
  game on the server's event loop and a warm-up on every page load), from git;
- ``one-worker``: this page with ``--workers 1``;
- ``after``: this page as started by default (one worker per core).

Usage::

    python benchmarks/bench_page.py                      # all three, about 4 minutes
    python benchmarks/bench_page.py --servers after      # just this page
    python benchmarks/bench_page.py --trainees 10

No targets: the script prints its figures for benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
EXERCISE = ROOT / "scenarios" / "exercises" / "01-find-the-bottleneck.yaml"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
BEFORE = "0dc367f"
START_S = 120.0
STEP_MS = 180_000
"""Longest wait for one step of a trainee (milliseconds): one who waits longer failed."""
SAMPLE_S = 0.2
BROWSER_NICE = 19
FORGET_AFTER_S = 120
"""How long a page's session waits for its websocket in the servers measured (seconds)."""
MB = 1024 * 1024
SERVERS = ("before", "one-worker", "after")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Memory:
    """RSS of the server and its workers (MB), sampled in a thread."""

    server: psutil.Process
    idle: tuple[float, float] = (0.0, 0.0)
    peak: tuple[float, float] = (0.0, 0.0)
    peak_total: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event)

    def now(self) -> tuple[float, float]:
        workers = 0.0
        for child in self.server.children(recursive=True):
            try:
                workers += child.memory_info().rss / MB
            except psutil.NoSuchProcess:
                continue
        return self.server.memory_info().rss / MB, workers

    @contextmanager
    def sampling(self) -> Iterator[None]:
        thread = threading.Thread(target=self._sample, daemon=True)
        thread.start()
        try:
            yield
        finally:
            self._stop.set()
            thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(SAMPLE_S):
            _browser_last()
            server, workers = self.now()
            self.peak = (max(self.peak[0], server), max(self.peak[1], workers))
            self.peak_total = max(self.peak_total, server + workers)


def _browser_last() -> None:
    """Give the browser's processes the lowest priority, as they start.

    The browser stands for the trainees' own computers. On the server's two cores its
    20 pages would take most of the CPU (each draws Panel's busy spinner, in software,
    while the round is played) and starve the server being measured.
    """
    for child in psutil.Process().children(recursive=True):
        try:
            if child.name().startswith(("chromium", "node")) and child.nice() < BROWSER_NICE:
                child.nice(BROWSER_NICE)
        except psutil.Error:
            continue


@dataclass(frozen=True)
class Trainee:
    load_s: float
    round_s: float
    total_s: float


@contextmanager
def running(kind: str, exercise: Path, before: str, log: Path) -> Iterator[tuple[str, int]]:
    """A page server of ``kind`` on a free port until the block ends: its URL and pid."""
    port = _free_port()
    if kind == "before":
        folder = Path(tempfile.mkdtemp())
        source = subprocess.run(["git", "show", f"{before}:salessim/training/page.py"],
                                cwd=ROOT, check=True, capture_output=True, text=True).stdout
        (folder / "page_before.py").write_text(source, encoding="utf-8")
        command = [sys.executable, "-c",
                   f"import sys; sys.path.insert(0, {str(folder)!r}); from pathlib import Path; "
                   f"import page_before; page_before.serve(Path({str(exercise)!r}), {port})"]
    else:
        # Twenty pages opening at once on the server's own two cores take longer than the
        # default 15 s to connect their websockets; a page that does not connect in time
        # loses its session. Trainees' browsers run on their own computers.
        options = ["--forget-after", str(FORGET_AFTER_S)]
        if kind == "one-worker":
            options += ["--workers", "1"]
        command = [sys.executable, "-m", "salessim.cli", "exercise", "page", str(exercise),
                   "--port", str(port), *options]
    with log.open("w") as out:
        proc = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_ready(proc, port, kind != "before")
        yield f"http://127.0.0.1:{port}/", proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def _wait_ready(proc: subprocess.Popen[bytes], port: int, has_status: bool) -> None:
    # The old page has no status route, and a GET of its page would start a game: it is
    # ready when it accepts connections.
    deadline = time.monotonic() + START_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the page server stopped")
        try:
            if not has_status:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=5) as r:
                if json.load(r)["openings_ready"] >= 1:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the page server did not start in time")


async def _load(browser: Any, url: str) -> tuple[Any, float]:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    start = time.perf_counter()
    await page.goto(url, wait_until="commit", timeout=STEP_MS)
    await page.get_by_text("Round 1 of").wait_for(timeout=STEP_MS)
    await page.locator("img").first.wait_for(timeout=STEP_MS)
    return page, start


async def _trainee(browser: Any, url: str) -> Trainee | None:
    """One trainee's times, or None if a step did not finish within ``STEP_MS``."""
    from playwright.async_api import TimeoutError as PlaywrightTimeout

    try:
        return await _load_and_play(browser, url)
    except PlaywrightTimeout:
        return None


async def _load_and_play(browser: Any, url: str) -> Trainee:
    page, start = await _load(browser, url)
    loaded = time.perf_counter()
    await page.get_by_role("button", name="Play a round").click(timeout=STEP_MS)
    clicked = time.perf_counter()
    await page.get_by_text("Round 2 of").wait_for(timeout=STEP_MS)
    shown = time.perf_counter()
    return Trainee(loaded - start, shown - clicked, shown - start)


async def _measure(url: str, trainees: int) -> tuple[float, list[Trainee | None]]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page, start = await _load(browser, url)
            plain_s = time.perf_counter() - start
            await page.context.close()
            results = await asyncio.gather(*(_trainee(browser, url) for _ in range(trainees)))
        finally:
            await browser.close()
    return plain_s, list(results)


def measure(kind: str, exercise: Path, before: str, trainees: int, logs: Path) -> dict[str, float]:
    load_average = os.getloadavg()[0]
    with running(kind, exercise, before, logs / f"{kind}.log") as (url, pid):
        memory = Memory(psutil.Process(pid))
        memory.idle = memory.now()
        with memory.sampling():
            plain_s, results = asyncio.run(_measure(url, trainees))
        after = memory.now()
    done = [t for t in results if t is not None]
    figures = {"plain_s": plain_s, "failed": float(len(results) - len(done)),
               "load_average": load_average}
    for name in ("load", "round", "total"):
        values = [getattr(t, f"{name}_s") for t in done] or [math.nan]
        figures[f"{name}_med"], figures[f"{name}_max"] = statistics.median(values), max(values)
    return {
        **figures,
        "server_idle": memory.idle[0], "server_peak": memory.peak[0], "server_after": after[0],
        "workers_idle": memory.idle[1], "workers_peak": memory.peak[1],
        "workers_after": after[1], "peak_total": memory.peak_total,
    }


def report(figures: dict[str, dict[str, float]], trainees: int, exercise: Path) -> None:
    print(f"date {date.today()}  python {platform.python_version()}  machine "
          f"{platform.machine()}  cores {os.cpu_count()}")
    print(f"exercise {exercise.name}; {trainees} trainees load the page and play one round "
          "at once\n")
    head = ("server", "load average", "plain load s", "trainees failed", "load s med/max",
            "round s med/max", "load+round s med/max", "server RSS MB idle/peak/after",
            "workers RSS MB idle/peak/after", "peak total MB")
    print(" | ".join(head))
    for kind, f in figures.items():
        print(" | ".join([
            kind, f"{f['load_average']:.2f}", f"{f['plain_s']:.2f}", f"{f['failed']:.0f}",
            f"{f['load_med']:.1f} / {f['load_max']:.1f}",
            f"{f['round_med']:.1f} / {f['round_max']:.1f}",
            f"{f['total_med']:.1f} / {f['total_max']:.1f}",
            f"{f['server_idle']:,.0f} / {f['server_peak']:,.0f} / {f['server_after']:,.0f}",
            f"{f['workers_idle']:,.0f} / {f['workers_peak']:,.0f} / {f['workers_after']:,.0f}",
            f"{f['peak_total']:,.0f}"]))
    if "before" in figures:
        base = figures["before"]
        for kind, f in figures.items():
            if kind != "before":
                print(f"\n{kind} against before: plain load {base['plain_s'] / f['plain_s']:.1f}x "
                      f"faster; load+round max {base['total_max'] / f['total_max']:.2f}x, median "
                      f"{base['total_med'] / f['total_med']:.2f}x faster; peak total memory "
                      f"{f['peak_total'] / base['peak_total']:.2f} of before")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trainees", type=int, default=20)
    parser.add_argument("--exercise", type=Path, default=EXERCISE)
    parser.add_argument("--before", default=BEFORE, help="commit of the page measured as before")
    parser.add_argument("--servers", nargs="+", choices=SERVERS, default=list(SERVERS))
    parser.add_argument("--logs", type=Path, default=None,
                        help="folder to keep each server's output in (default: a temporary one)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        logs = args.logs or Path(tmp)
        logs.mkdir(parents=True, exist_ok=True)
        figures = {kind: measure(kind, args.exercise.resolve(), args.before, args.trainees,
                                 logs) for kind in args.servers}
    report(figures, args.trainees, args.exercise)
    return 0


if __name__ == "__main__":
    sys.exit(main())
