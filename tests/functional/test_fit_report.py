"""The fit report: its numbers are the back-test's, it renders and prints in Chromium."""

from __future__ import annotations

import base64
import html as htmllib
import os
import re
import shutil
import struct
from dataclasses import replace
from pathlib import Path

import pytest
from matplotlib.text import Text

from salessim import fitplots
from salessim.calibration import Backtest, Calibration, backtest, calibrate, holdout
from salessim.fitreport import figures, fit_summary, warnings, write_fit_report

from ..conftest import SCENARIOS
from .test_report import CHROMIUM, CHROMIUM_ARGS, _browser_or_skip

A4_TEXT_WIDTH_PX = round((210 - 2 * 12) / 25.4 * 96)
"""The width of an A4 page inside the report's print margins, in CSS pixels."""


@pytest.fixture(scope="module")
def tested() -> tuple[Calibration, Backtest, Backtest]:
    cal = calibrate(SCENARIOS / "crm" / "mapping.yaml")
    run = {"replications": 4, "seed": 3, "executor": "serial", "progress": False}
    return cal, backtest(cal, **run), holdout(cal, **run)


@pytest.fixture(scope="module")
def report(tested: tuple[Calibration, Backtest, Backtest],
           tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fit") / "fit.html"
    return write_fit_report(out, *tested, command="salessim calibrate m.yaml --out s.yaml")


def _text(html: str, element_id: str) -> str:
    """The plain text of the element with this id, spaces as typed."""
    found = re.search(rf'id="{element_id}"[^>]*>(.*?)</(?:p|div|ul)>', html, re.S)
    assert found, f"no element {element_id}"
    text = htmllib.unescape(re.sub(r"<[^>]+>", " ", found.group(1)))
    return " ".join(text.replace("\u00a0", " ").split())


def _pct(x: float) -> str:
    return f"{x * 100:.1f} %"


@pytest.mark.slow
def test_summary_numbers_are_the_backtests(tested: tuple[Calibration, Backtest, Backtest],
                                           report: Path) -> None:
    cal, bt, ho = tested
    html = report.read_text(encoding="utf-8")
    data, fit = _text(html, "data-summary"), _text(html, "fit-summary")
    opps = cal.data.opportunities
    won, lost = (int((opps["outcome"] == k).sum()) for k in ("won", "lost"))
    assert f"holds {len(opps):,} deals" in data and f"{won:,} won, {lost:,} lost" in data
    assert f"{_pct(won / (won + lost))} of the {won + lost:,} closed deals were won" in data
    rate = cal.estimates.loc["win_rate"]
    assert (f"the win rate is {_pct(rate['value'])} (95 % interval {rate['ci_low'] * 100:.1f}–"
            f"{rate['ci_high'] * 100:.1f} %)") in data
    ttc = cal.pieces.time_to_close
    assert f"takes {ttc.mean:.1f} working days" in data
    assert f"closed deals alone average {ttc.naive_mean:.1f} days" in data
    rate = bt.win_rates().loc[("all", "all")]
    assert (f"win rate of {_pct(rate['simulated'])} (95 % range {rate['low'] * 100:.1f}–"
            f"{rate['high'] * 100:.1f} %) {'contains' if rate['inside'] else 'does not'}") in fit
    assert f"the history's {_pct(rate['history'])}" in fit
    assert f"({bt.replications} runs)" in fit and f"same {len(bt.monthly())} months" in fit
    d = ho.distances()
    created, won_ho = d.loc["deals created"], d.loc["deals won"]
    assert (f"expected {created['simulated']:,.0f} deals created in them (95 % range "
            f"{created['low']:,.0f}–{created['high']:,.0f}) and {won_ho['simulated']:,.0f} won")\
        in fit
    assert (f"the history had {created['history']:,.0f} and {won_ho['history']:,.0f}") in fit
    assert " ".join(fit_summary(bt, ho)).replace("\u00a0", " ") == fit


@pytest.mark.slow
def test_warnings_say_rough_ranges_and_misses_plainly(
        tested: tuple[Calibration, Backtest, Backtest], report: Path) -> None:
    cal, bt, ho = tested
    assert "rest on 4 runs only, so their ends are rough" in _text(
        report.read_text(encoding="utf-8"), "warnings")
    # A history that won no platform deal is far below any simulated range: said so.
    platform = bt.history["product"] == "platform"
    lost = bt.history.assign(outcome=bt.history["outcome"].where(
        ~(platform & (bt.history["outcome"] == "won")), "lost"))
    worse = replace(bt, history=lost)
    said = " ".join(warnings(cal, worse, ho)).replace("\u00a0", " ")
    n = int((platform & (lost["outcome"] != "open")).sum())
    assert (f"In the back-test, the win rate of product platform, 0.0 % of {n:,} closed "
            "deals, is below the simulated range") in said
    assert "outside the simulated range on" in " ".join(fit_summary(worse, ho))


@pytest.mark.slow
def test_figures_are_slide_sized_titled_and_readable(
        tested: tuple[Calibration, Backtest, Backtest], report: Path) -> None:
    made = figures(*tested)
    assert len(made) == 8
    for fig, caption in made:
        assert caption and (fig.get_suptitle() or fig.axes[0].get_title())
        assert fig.get_figwidth() * fitplots.SLIDE_DPI == 1600
        small = [t.get_text() for t in fig.findobj(Text)
                 if t.get_text().strip() and t.get_visible() and t.get_fontsize() < 10]
        assert not small, f"text under 10 pt in {fig.get_suptitle()!r}: {small[:5]}"
    html = report.read_text(encoding="utf-8")
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:|//)""", html)
    assert "<link" not in html and "<script" not in html
    images = [base64.b64decode(i)
              for i in re.findall(r'src="data:image/png;base64,([^"]+)"', html)]
    assert len(images) == 8
    assert all(png[:8] == b"\x89PNG\r\n\x1a\n" for png in images)
    assert all(struct.unpack(">I", png[16:20])[0] == 1600 for png in images)  # IHDR width


@pytest.mark.slow
def test_report_renders_in_chromium_without_overflow(report: Path, tmp_path: Path) -> None:
    _browser_or_skip()
    from playwright.sync_api import sync_playwright

    url = report.resolve().as_uri()
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("request", lambda r: requests.append(r.url))
            page.goto(url, wait_until="load")
            title = page.title()
            summary = page.inner_text("#summary + .summary")
            images = page.eval_on_selector_all(
                "img", "els => els.map(e => [e.complete, e.naturalWidth])")
            overflow = page.evaluate("document.documentElement.scrollWidth")
            shot = tmp_path / "fit.png"
            page.screenshot(path=str(shot), full_page=False)
        finally:
            browser.close()
    assert title.startswith("Fit report: Northwind Software")
    assert "The export holds 3,147 deals" in summary
    assert overflow <= 1280  # no sideways scrolling
    assert len(images) == 8 and all(done and width == 1600 for done, width in images)
    assert [u for u in requests if not u.startswith("data:")] == [url]
    if os.environ.get("SALESSIM_SCREENSHOT_DIR"):
        shutil.copy(shot, Path(os.environ["SALESSIM_SCREENSHOT_DIR"]) / "fit.png")


@pytest.mark.slow
def test_printed_report_keeps_tables_inside_the_page(report: Path, tmp_path: Path) -> None:
    _browser_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": A4_TEXT_WIDTH_PX, "height": 1000})
            page.goto(report.resolve().as_uri(), wait_until="load")
            page.emulate_media(media="print")
            tables = page.eval_on_selector_all("table", """els => els.map(e => [
                e.className, e.getBoundingClientRect().right, e.scrollWidth - e.clientWidth])""")
            width = page.evaluate("document.documentElement.clientWidth")
            page_width = page.evaluate("document.documentElement.scrollWidth")
            repeats = page.eval_on_selector_all(
                "thead", "els => els.map(e => getComputedStyle(e).display)")
            pdf = page.pdf(format="A4", print_background=True)
        finally:
            browser.close()
    assert len(tables) == 6
    for name, right, clipped in tables:
        assert right <= width + 0.5 and clipped <= 0, f"table {name} does not fit the page"
    assert page_width <= width
    assert set(repeats) == {"table-header-group"}  # headers repeat on every page
    assert pdf[:5] == b"%PDF-" and len(re.findall(rb"/Type\s*/Page\b", pdf)) >= 5
    (tmp_path / "fit.pdf").write_bytes(pdf)
