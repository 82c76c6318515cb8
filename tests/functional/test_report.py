"""The HTML report and the CLI's files for people: report, event log, plots."""

from __future__ import annotations

import base64
import os
import re
import shutil
from pathlib import Path

import pytest

import salessim as ss
from salessim.cli import main
from salessim.report import render_report, write_report

from ..conftest import short

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def pair(regional: ss.Scenario) -> ss.Comparison:
    base = short(regional, 30.0)
    fewer = base.with_changes({"teams.solutions.reps.se.headcount": 4})
    return ss.compare({"baseline": base, "fewer SEs": fewer}, replications=3, seed=8)


@pytest.fixture(scope="module")
def report_file(pair: ss.Comparison, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "report.html"
    return write_report(out, pair, command="salessim report a.yaml b.yaml --seed 8")


@pytest.mark.slow
def test_report_holds_scenarios_kpis_bottlenecks_and_how_to_rerun(
        pair: ss.Comparison, report_file: Path) -> None:
    html = report_file.read_text(encoding="utf-8")
    assert "<title>salessim report: baseline vs fewer SEs</title>" in html
    assert "teams.solutions.reps.se.headcount" in html
    for kpi in ("conversion_rate", "cycle_time_p90_days", "utilisation_se", "profit"):
        assert f"<td>{kpi}</td>" in html
    for res in pair.results.values():
        assert ss.bottlenecks(res).sentence in html
    assert "salessim report a.yaml b.yaml --seed 8" in html
    assert f"salessim {ss.__version__}" in html
    assert html.count("Resolved scenario:") == 2


@pytest.mark.slow
def test_report_is_self_contained(report_file: Path) -> None:
    html = report_file.read_text(encoding="utf-8")
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:|//)""", html)
    assert "<link" not in html and "<script" not in html
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    assert len(images) == 1 + 2 * 6  # the comparison, then six plots per scenario
    assert all(base64.b64decode(i)[:8] == b"\x89PNG\r\n\x1a\n" for i in images)


@pytest.mark.slow
def test_report_kpi_cells_are_the_comparison_table(pair: ss.Comparison,
                                                     report_file: Path) -> None:
    html = report_file.read_text(encoding="utf-8")
    table = pair.table()
    base, other = table.loc[("cost", "baseline")], table.loc[("cost", "fewer SEs")]
    row = re.search(r"<td>cost</td>(.*?)</tr>", html, re.S)
    assert row is not None
    cells = re.sub(r"<[^>]+>", " ", row.group(1))
    assert f"{base['mean']:,.0f}" in cells  # the baseline's mean
    assert f"{abs(other['diff']):,.0f}" in cells  # and the paired difference to it
    assert f"{abs(other['diff_ci_low']):,.0f}" in cells


@pytest.mark.slow
def test_single_scenario_report_has_no_comparison(pair: ss.Comparison) -> None:
    res = pair.results["baseline"]
    html = render_report(res)
    assert "What differs" not in html and "KPI differences" not in html
    assert html.count("data:image/png;base64,") == 6
    assert "--replications 3 --seed 8" in html
    assert "<td>profit</td>" in html


@pytest.mark.slow
def test_unwritable_report_path_is_one_clear_error(pair: ss.Comparison,
                                                   tmp_path: Path) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with pytest.raises(OSError, match=r"cannot write the report to .*a_file/r\.html"):
        write_report(blocker / "r.html", pair)


@pytest.mark.slow
def test_cli_report(small_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
                    ) -> None:
    other = tmp_path / "other.yaml"
    other.write_text(f"extends: {small_file}\nname: Fewer SEs\n"
                     "teams: [{name: solutions, reps: {se: {headcount: 4}}}]\n",
                     encoding="utf-8")
    out = tmp_path / "r.html"
    status = main(["report", str(small_file), str(other), "-r", "2", "-s", "3", "-q",
                   "--executor", "serial", "--out", str(out)])
    assert status == 0
    html = out.read_text(encoding="utf-8")
    assert "vs Fewer SEs" in html
    assert f"--replications 2 --seed 3 --out {out}" in html
    assert "wrote the report" in capsys.readouterr().err


def test_cli_report_refuses_unwritable_output_before_running(
        small_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    status = main(["report", str(small_file), "-r", "1", "-s", "1", "-q",
                   "--out", str(blocker / "r.html")])
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1 and "is a file, not a folder" in err
    assert "running" not in err


@pytest.mark.slow
def test_cli_run_writes_event_log_and_plots(small_file: Path, tmp_path: Path) -> None:
    status = main(["run", str(small_file), "-r", "1", "-s", "2", "-q", "--executor", "serial",
                   "--event-log", str(tmp_path / "log.parquet"),
                   "--plots", str(tmp_path / "plots"), "--plot-format", "svg",
                   "--out", str(tmp_path / "out")])
    assert status == 0
    assert (tmp_path / "log.parquet").stat().st_size > 0
    svgs = sorted(p.name for p in (tmp_path / "plots").iterdir())
    assert "funnel.svg" in svgs and "wip_over_time.svg" in svgs and len(svgs) == 7
    assert (tmp_path / "plots" / "funnel.svg").read_text(encoding="utf-8").lstrip().startswith(
        "<?xml")
    assert (tmp_path / "out" / "timeseries.csv").exists()


def test_cli_run_refuses_unknown_event_log_format_before_running(
        small_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["run", str(small_file), "-r", "1", "-s", "2", "-q",
                   "--event-log", str(tmp_path / "log.json")])
    err = capsys.readouterr()
    assert status == 2
    assert "known formats: .csv, .parquet, .xes" in err.err
    assert err.out == ""  # nothing ran, so no KPI table


def _browser_or_skip() -> None:
    """Skip without a browser, unless SALESSIM_REQUIRE_BROWSER=1 (CI) makes that a failure."""
    missing = None
    if not CHROMIUM.exists():
        missing = "/usr/bin/chromium is missing (apt-get install chromium)"
    else:
        try:
            import playwright  # noqa: F401
        except ImportError:
            missing = "the playwright package is missing (pip install -e '.[dev]')"
    if missing:
        if os.environ.get("SALESSIM_REQUIRE_BROWSER") == "1":
            pytest.fail(f"SALESSIM_REQUIRE_BROWSER=1 but {missing}")
        pytest.skip(missing)


@pytest.mark.slow
def test_report_renders_in_headless_chromium(report_file: Path, tmp_path: Path) -> None:
    _browser_or_skip()
    from playwright.sync_api import sync_playwright

    url = report_file.resolve().as_uri()
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.on("request", lambda r: requests.append(r.url))
            page.goto(url, wait_until="load")
            title = page.title()
            kpi_text = page.inner_text("#kpi-table")
            widths = page.eval_on_selector_all("img", "els => els.map(e => e.naturalWidth)")
            page_width = page.evaluate("document.documentElement.scrollWidth")
            shot = tmp_path / "report.png"
            page.screenshot(path=str(shot), full_page=False)
        finally:
            browser.close()
    assert title == "salessim report: baseline vs fewer SEs"
    for word in ("conversion_rate", "cycle_time_mean_days", "fewer SEs\nminus baseline"):
        assert word in kpi_text
    assert page_width <= 1100  # no sideways scrolling at a laptop's width
    assert len(widths) == 13 and all(w > 0 for w in widths)
    assert [u for u in requests if not u.startswith("data:")] == [url]
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    if os.environ.get("SALESSIM_SCREENSHOT_DIR"):
        shutil.copy(shot, Path(os.environ["SALESSIM_SCREENSHOT_DIR"]) / "report.png")
