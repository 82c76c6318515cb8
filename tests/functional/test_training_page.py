"""The trainees' page end to end: a real server, headless Chromium, a game to its score."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from salessim.scenario.loader import read_answer
from salessim.training import Exercise, check_answer

from ..conftest import ROOT
from ..training_support import small_exercise
from .test_report import CHROMIUM, CHROMIUM_ARGS, _browser_or_skip

SERVER_START_S = 90
"""Longest wait for the page server to answer (seconds)."""
STEP_MS = 60_000
"""Longest wait for one step on the page (milliseconds)."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def exercise_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return small_exercise(tmp_path_factory.mktemp("page"))


@pytest.fixture(scope="module")
def server(exercise_file: Path) -> Iterator[str]:
    _browser_or_skip()
    pytest.importorskip("panel")
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "salessim.cli", "exercise", "page", str(exercise_file),
         "--port", str(port)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the page server stopped: {proc.stdout.read() if proc.stdout else ''}")
            try:
                with urllib.request.urlopen(url, timeout=5) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("the page server did not answer in time")
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_trainee_plays_a_game_to_its_score(server: str, exercise_file: Path,
                                           tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(server, wait_until="networkidle")
            page.get_by_text("Round 1 of 3").wait_for(timeout=STEP_MS)
            page.get_by_text("Contracts queue at legal.").wait_for(timeout=STEP_MS)

            # A value out of bounds is refused on the page, and nothing is played.
            legal = page.locator(".lever-legal input")
            legal.fill("9")
            legal.press("Enter")
            page.get_by_role("button", name="Play a round").click()
            message = page.locator(".salessim-message")
            refused = message.get_by_text("Not played")
            refused.wait_for(timeout=STEP_MS)
            assert "9 is outside the bounds of legal (Contract counsels): allowed 2 to 4" \
                in refused.inner_text()
            assert page.locator(".salessim-status").get_by_text("Round 1 of 3").is_visible()

            legal.fill("3")
            legal.press("Enter")
            started = time.monotonic()
            page.get_by_role("button", name="Play a round").click()
            page.get_by_text("Round 2 of 3").wait_for(timeout=STEP_MS)
            round_s = time.monotonic() - started
            assert not page.locator(".salessim-message").is_visible()
            page.screenshot(path=str(tmp_path / "training-page-round.png"), full_page=True)
            page.get_by_role("button", name="Play a round").click()
            page.get_by_text("Round 3 of 3").wait_for(timeout=STEP_MS)
            page.get_by_role("button", name="Play a round").click()
            points = page.get_by_text(re.compile(r"^Score: \d+/100$"))
            points.wait_for(timeout=STEP_MS)
            shown = points.inner_text()
            # The page is built of web components: read it through locators, which see
            # inside them (the body's own text does not).
            page.get_by_text("What your decisions did").wait_for(timeout=STEP_MS)
            page.get_by_text("Legal was the bottleneck.").wait_for(timeout=STEP_MS)
            with page.expect_download(timeout=STEP_MS) as download:
                page.get_by_role("button", name="Download my answer").click()
            answer_file = tmp_path / "answer.yaml"
            download.value.save_as(answer_file)
            shot = tmp_path / "training-page-score.png"
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert not errors
    ex = Exercise.load(exercise_file)
    answer = read_answer(answer_file)
    assert [(d.day, d.lever, d.value) for d in answer.decisions] == [(0.0, "legal", 3)]
    expected = check_answer(ex, answer.decisions, str(answer_file))
    assert shown == f"Score: {expected.points}/100"  # the page scores as the CLI does
    assert round_s < 30
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    if os.environ.get("SALESSIM_SCREENSHOT_DIR"):
        for name in ("training-page-round.png", "training-page-score.png"):
            shutil.copy(tmp_path / name, Path(os.environ["SALESSIM_SCREENSHOT_DIR"]) / name)
