"""The trainees' page end to end: real servers, headless Chromium, games to their scores."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from salessim.formatting import kpi_words
from salessim.results import Results
from salessim.scenario.loader import read_answer
from salessim.training import Exercise, Score, baseline, check_answer

from ..conftest import ROOT
from ..training_support import SMALL_EXERCISE, small_exercise
from .test_report import CHROMIUM, CHROMIUM_ARGS, _browser_or_skip

pytestmark = pytest.mark.slow

SERVER_START_S = 90
"""Longest wait for a page server to answer (seconds)."""
STEP_MS = 60_000
"""Longest wait for one step on the page (milliseconds)."""
CHANGE_S = 20
"""Longest wait for the server's counts to change (seconds)."""
HOSTILE_TITLE = "<img src=x onerror=alert(1)>"
HOSTILE_SCRIPT = "<script>window.injected = 1; alert(2)</script>"
WIDTHS = (1280, 1024, 768)
"""Widths the page must fit without scrolling sideways (pixels): a laptop, a small laptop or
a tablet on its side, a tablet upright."""
HOSTILE = (SMALL_EXERCISE
           .replace("title: Small test exercise", f'title: "{HOSTILE_TITLE}"')
           .replace("brief: Contracts queue at legal.",
                    f'brief: "{HOSTILE_SCRIPT} **Queues** <img src=y onerror=alert(3)>"')
           .replace("label: Contract counsels", 'label: "<b>Counsels</b>"'))
"""The small exercise with markup in its title, brief and a lever's label."""
Scorer = Callable[[Path], tuple[str, list[Any]]]
"""An answer file -> ``salessim exercise check``'s points line and the decisions."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _page_stack_or_skip() -> None:
    """Skip without browser, Playwright or Panel; fail instead when CI requires them."""
    _browser_or_skip()
    try:
        import panel  # noqa: F401
    except ImportError:
        if os.environ.get("SALESSIM_REQUIRE_BROWSER") == "1":
            pytest.fail("SALESSIM_REQUIRE_BROWSER=1 but Panel is missing (pip install -e "
                        "'.[dev]')")
        pytest.skip("Panel is missing (pip install -e '.[dev]')")


class Server:
    """A page server in its own process, its output in a log file."""

    def __init__(self, exercises: Path, log: Path, *options: str) -> None:
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}/"
        self.log = log
        with log.open("w") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "salessim.cli", "exercise", "page", str(exercises),
                 "--port", str(port), *options], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            if self.proc.poll() is not None:
                pytest.fail(f"the page server stopped: {self.log.read_text()}")
            try:
                self.status()
                return
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"the page server did not answer in time: {self.log.read_text()}")
                time.sleep(0.3)

    def status(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.url + "status", timeout=5) as answer:
            status: dict[str, Any] = json.load(answer)
            return status

    def wait_status(self, holds: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        deadline = time.monotonic() + CHANGE_S
        while not holds(status := self.status()):
            assert time.monotonic() < deadline, f"the server's counts stayed {status}"
            time.sleep(0.2)
        return status

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def exercise_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return small_exercise(tmp_path_factory.mktemp("page"))


@pytest.fixture(scope="module")
def small_base(exercise_file: Path) -> tuple[Exercise, Results]:
    """The small exercise and its baseline, run once as the command does for many answers."""
    exercise = Exercise.load(exercise_file)
    return exercise, baseline(exercise)


@pytest.fixture(scope="module")
def scored_as_cli(small_base: tuple[Exercise, Results]) -> Scorer:
    """What ``salessim exercise check`` says of an answer: the points line, the decisions."""
    def scored(answer_file: Path) -> tuple[str, list[Any]]:
        answer = read_answer(answer_file)
        expected = _check(small_base, answer_file)
        return (f"Score: {expected.points}/100",
                [(d.day, d.lever, d.value) for d in answer.decisions])

    return scored


def _check(small_base: tuple[Exercise, Results], answer_file: Path) -> Score:
    exercise, base = small_base
    return check_answer(exercise, read_answer(answer_file).decisions, str(answer_file), base)


@pytest.fixture(scope="module")
def servers(exercise_file: Path, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[dict[str, Server]]:
    """Two servers, started side by side: one for games, one with a trainee limit.

    They are still starting when this returns: ``browser`` waits for them.
    """
    _page_stack_or_skip()
    folder = exercise_file.parent
    small_exercise(folder, HOSTILE, "z-hostile.yaml")  # after the small one in the picker
    logs = tmp_path_factory.mktemp("logs")
    started = {
        "games": Server(folder, logs / "games.log", "--workers", "2"),
        "limit": Server(exercise_file, logs / "limit.log", "--workers", "1",
                        "--games-per-worker", "1", "--max-trainees", "2", "--forget-after", "1"),
    }
    try:
        yield started  # ready once the browser has started too (see ``browser``)
    finally:
        for server in started.values():
            server.stop()


@pytest.fixture(scope="module")
def browser(servers: dict[str, Server]) -> Iterator[Any]:
    """A browser context, launched while the servers start; its tabs are sessions."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            for server in servers.values():
                server.wait_ready()
            yield chromium.new_context(viewport={"width": 1400, "height": 1000})
        finally:
            chromium.close()


@dataclass
class Tab:
    """A browser tab on the page, with its script errors."""

    page: Any
    errors: list[str] = field(default_factory=list)

    def set(self, lever: str, value: str) -> None:
        box = self.page.locator(f".lever-{lever} input")
        box.fill(value)
        box.press("Enter")

    def play(self) -> None:
        self.page.get_by_role("button", name="Play a round").click()

    def wait_round(self, number: int) -> None:
        self.page.get_by_text(f"Round {number} of 3").wait_for(timeout=STEP_MS)

    def points(self) -> str:
        points = self.page.get_by_text(re.compile(r"^Score: \d+/100$"))
        points.wait_for(timeout=STEP_MS)
        return str(points.inner_text())

    def download(self, to: Path) -> Path:
        with self.page.expect_download(timeout=STEP_MS) as download:
            self.page.get_by_role("button", name="Download my answer").click()
        download.value.save_as(to)
        return to


def _open(browser: Any, server: Server, count: int = 1) -> list[Tab]:
    """New tabs on the server's page, loaded side by side, each with its first round shown."""
    tabs = [Tab(browser.new_page()) for _ in range(count)]
    for tab in tabs:
        tab.page.on("pageerror", lambda e, errors=tab.errors: errors.append(str(e)))
        tab.page.goto(server.url, wait_until="commit")
    for tab in tabs:
        tab.wait_round(1)
    return tabs


def test_trainee_plays_a_game_to_its_score(servers: dict[str, Server], browser: Any,
                                           scored_as_cli: Scorer, tmp_path: Path) -> None:
    [tab] = _open(browser, servers["games"])
    page = tab.page
    page.get_by_text("Contracts queue at legal.").wait_for(timeout=STEP_MS)

    # A value out of bounds is refused on the page as it is typed, and nothing is played.
    message = page.locator(".salessim-message")
    tab.set("legal", "9")
    message.get_by_text("Not allowed: 9 is outside the bounds").wait_for(timeout=STEP_MS)
    tab.play()
    refused = message.get_by_text("Not played")
    refused.wait_for(timeout=STEP_MS)
    assert "9 is outside the bounds of legal (Contract counsels): allowed 2 to 4" \
        in refused.inner_text()
    assert page.locator(".salessim-status").get_by_text("Round 1 of 3").is_visible()
    box, text = message.bounding_box(), message.locator("p").bounding_box()
    assert box is not None and text is not None
    assert box["x"] < text["x"] and text["x"] + text["width"] < box["x"] + box["width"]

    tab.set("legal", "3")  # fixed: the refusal goes at once, before any round is played
    message.wait_for(state="hidden", timeout=STEP_MS)
    tab.play()
    tab.wait_round(2)
    assert not message.is_visible()
    page.screenshot(path=str(tmp_path / "training-page-round.png"), full_page=True)
    tab.play()
    tab.wait_round(3)
    tab.play()
    shown = tab.points()
    # The page is built of web components: read it through locators, which see
    # inside them (the body's own text does not).
    page.get_by_text("What your decisions did").wait_for(timeout=STEP_MS)
    page.get_by_text("Legal was the bottleneck.").wait_for(timeout=STEP_MS)
    answer_file = tab.download(tmp_path / "answer.yaml")
    shot = tmp_path / "training-page-score.png"
    page.screenshot(path=str(shot), full_page=True)
    assert not tab.errors
    expected, decisions = scored_as_cli(answer_file)
    assert decisions == [(0.0, "legal", 3)]
    assert shown == expected  # the page scores as the CLI does
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    if os.environ.get("SALESSIM_SCREENSHOT_DIR"):
        for name in ("training-page-round.png", "training-page-score.png"):
            shutil.copy(tmp_path / name, Path(os.environ["SALESSIM_SCREENSHOT_DIR"]) / name)


def test_two_tabs_play_at_once_and_outlive_a_worker(
        servers: dict[str, Server], browser: Any, scored_as_cli: Scorer, tmp_path: Path) -> None:
    server = servers["games"]
    tabs = dict(zip(("3", "4"), _open(browser, server, 2), strict=True))
    for legal, tab in tabs.items():
        tab.set("legal", legal)
    for tab in tabs.values():  # both rounds asked for before either is awaited
        tab.play()
    for tab in tabs.values():
        tab.wait_round(2)
    workers = server.status()["workers"]
    assert [w["games"] for w in workers] == [1, 1]  # one game on each worker

    # A worker killed outright is replaced; its game is rebuilt from its decisions.
    os.kill(workers[1]["pid"], signal.SIGKILL)
    for number in (3, 0):
        for tab in tabs.values():
            tab.play()
        for tab in tabs.values():
            if number:
                tab.wait_round(number)
    for legal, tab in tabs.items():
        shown = tab.points()
        expected, decisions = scored_as_cli(tab.download(tmp_path / f"answer-{legal}.yaml"))
        assert decisions == [(0.0, "legal", int(legal))]
        assert shown == expected
        assert not tab.errors
    status = server.status()
    assert status["workers"][1]["pid"] != workers[1]["pid"]
    assert status["games"] == 0  # finished games are let go


def _fits(page: Any, shots: Path, name: str) -> list[tuple[int, int, int]]:
    """Lay the page out at each width: (width, page's width, window's), a PNG of each."""
    sizes = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(300)  # Panel lays the page out again after a resize
        scroll, client = page.evaluate("[document.documentElement.scrollWidth, "
                                       "document.documentElement.clientWidth]")
        page.screenshot(path=str(shots / f"training-page-{name}-{width}.png"), full_page=True)
        sizes.append((width, scroll, client))
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})
    return sizes


def _rows(page: Any, heading: str) -> dict[str, list[str]]:
    """The rows of the page's table under a heading: first cell -> the others."""
    table = page.locator("table.salessim", has_text=heading).first
    rows = [r.split("\t") for r in table.locator("tr").all_inner_texts()]
    return {r[0]: r[1:] for r in rows}


def _baseline_shown(page: Any) -> None:
    """Wait for the untouched game: the goal's numbers and the baseline so far come with it."""
    deadline = time.monotonic() + STEP_MS / 1000
    while page.get_by_text("comes in a moment").count():
        assert time.monotonic() < deadline, "the baseline so far never came"
        page.wait_for_timeout(200)


def test_the_page_fits_every_width_with_the_baseline_the_clock_and_the_breakdown(
        servers: dict[str, Server], browser: Any, small_base: tuple[Exercise, Results],
        tmp_path: Path) -> None:
    base = small_base[1]
    shots = Path(os.environ.get("SALESSIM_SCREENSHOT_DIR", tmp_path))
    [tab] = _open(browser, servers["games"])
    page = tab.page
    _baseline_shown(page)
    p90 = 0.9 * base.kpis["cycle_time_p90_days"].mean()
    page.get_by_text(f"at most 90% of the baseline's, i.e. ≤ {p90:.1f} working days").first \
        .wait_for(timeout=STEP_MS)
    opening = _rows(page, "baseline so far")
    assert opening.pop("KPI") == ["yours so far", "baseline so far"]
    assert opening and all(yours == theirs for yours, theirs in opening.values())  # no round yet
    sizes = _fits(page, shots, "opening")

    tab.set("legal", "3")
    tab.play()
    tab.wait_round(2)
    # One clock: the status counts days as the charts do, from the start of the run.
    page.get_by_text("Round 2 of 3 starts on day 40").wait_for(timeout=STEP_MS)
    _baseline_shown(page)
    so_far = _rows(page, "baseline so far")
    assert so_far["Cost (EUR)"][0] != so_far["Cost (EUR)"][1]  # a counsel more is paid
    for counted in ("Leads counted", "Deals won", "Deals still open"):
        assert all(re.fullmatch(r"-?[\d,]+", v) for v in so_far[counted])  # whole numbers
    assert "in transit" in _rows(page, "in transit")["stage"]
    page.get_by_text("In transit: between two steps of a stage").wait_for(timeout=STEP_MS)
    pools = [r.split("\t") for r in page.locator("table.salessim", has_text="queue").first
             .locator("tr").all_inner_texts()]
    busy = pools[0].index("busy")
    assert all(re.fullmatch(r"[\d,]+\.\d", r[busy]) for r in pools[1:]), pools  # a mean
    sizes += _fits(page, shots, "round")

    tab.play()
    tab.wait_round(3)
    tab.play()
    shown = tab.points()
    score = _check(small_base, tab.download(tmp_path / "answer.yaml"))
    assert shown == f"Score: {score.points}/100"
    takeover = f"{small_base[0].takeover_day:g}"  # the file names its clock
    assert (tmp_path / "answer.yaml").read_text(encoding="utf-8").startswith(
        f"# An answer file counts days from the takeover: its day 0 is day {takeover} of the run")
    met = "met" if score.met else "not met"
    page.get_by_text(f"Goal {met}: {score.goal_points:.3g} of 50 points").wait_for(
        timeout=STEP_MS)
    page.get_by_text(f"{kpi_words(score.objective.kpi)}: {score.objective_points:.3g} of 50 "
                     "points").wait_for(timeout=STEP_MS)
    page.get_by_text("You set Contract counsels from 2 to 3, at the start").wait_for(
        timeout=STEP_MS)
    every = _rows(page, "your game")
    assert every["Deals won"][0] == str(math.floor(score.table.at["won", "baseline"] + 0.5))
    sizes += _fits(page, shots, "score")
    assert all(scroll <= client for _, scroll, client in sizes), sizes
    assert not tab.errors


def _pick(tab: Tab, title: str) -> None:
    tab.page.locator("select").first.select_option(label=title)


def test_a_plain_page_load_starts_no_game(servers: dict[str, Server], browser: Any) -> None:
    server = servers["games"]
    before = server.status()
    [tab] = _open(browser, server)
    page = tab.page
    for heading in ("KPIs so far", "Open deals by stage", "Reps and queues now"):
        page.get_by_text(heading).wait_for(timeout=STEP_MS)
    page.locator("img").first.wait_for(timeout=STEP_MS)  # the work in progress so far
    _pick(tab, HOSTILE_TITLE)
    page.locator("h3", has_text=HOSTILE_TITLE).wait_for(timeout=STEP_MS)
    tab.wait_round(1)
    after = server.status()
    assert after["tabs"] > before["tabs"]
    assert after["games_started"] == before["games_started"]
    assert after["games"] == before["games"]
    assert not tab.errors


def test_exercise_text_is_shown_as_text(servers: dict[str, Server], browser: Any) -> None:
    dialogs: list[str] = []
    [tab] = _open(browser, servers["games"])
    page = tab.page
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    _pick(tab, HOSTILE_TITLE)
    heading = page.locator("h3", has_text=HOSTILE_TITLE)
    heading.wait_for(timeout=STEP_MS)
    assert heading.inner_text() == HOSTILE_TITLE
    page.get_by_text(HOSTILE_SCRIPT).wait_for(timeout=STEP_MS)
    assert page.evaluate("window.injected") is None  # the script did not run
    page.get_by_text("<b>Counsels</b>").wait_for(timeout=STEP_MS)
    assert page.locator("strong", has_text="Queues").count() == 1  # Markdown still works
    assert page.locator("img[src='x'], img[src='y']").count() == 0
    assert page.locator("b", has_text="Counsels").count() == 0
    assert not dialogs and not tab.errors


def test_trainee_limit_and_closed_tabs(servers: dict[str, Server], browser: Any,
                                       scored_as_cli: Scorer, tmp_path: Path) -> None:
    # One worker holding one game: every round of one tab after the other's drops the
    # other's game from memory, and it is replayed from its decisions.
    server = servers["limit"]
    first, second, third = _open(browser, server, 3)
    first.set("legal", "3")
    for tab in (first, second):
        tab.play()
        tab.wait_round(2)
    assert server.status()["games"] == 2

    third.play()
    third.page.locator(".salessim-message").get_by_text("already runs 2 games").wait_for(
        timeout=STEP_MS)
    assert third.page.get_by_text("Round 1 of 3").is_visible()
    assert server.status()["games"] == 2

    second.page.close()
    server.wait_status(lambda s: s["games"] == 1)
    third.play()
    third.wait_round(2)

    first.play()
    first.wait_round(3)
    first.play()
    shown = first.points()
    expected, decisions = scored_as_cli(first.download(tmp_path / "a.yaml"))
    assert decisions == [(0.0, "legal", 3)]
    assert shown == expected
    assert server.status()["games"] == 1
    assert not first.errors and not third.errors
