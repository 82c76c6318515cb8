"""The HTML report and the CLI's files for people: report, event log, plots."""

from __future__ import annotations

import base64
import os
import re
import shutil
from pathlib import Path

import pytest

import salessim as ss
from salessim import briefing, plots
from salessim.cli import main
from salessim.formatting import fmt_number, kpi_label
from salessim.report import HALF_WIDTH_IN, render_report, write_pdf, write_report

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


def _text(html: str) -> str:
    """The report's words, tags taken out and spaces folded."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.slow
def test_report_opens_with_a_summary_worked_out_from_the_numbers(
        pair: ss.Comparison, report_file: Path) -> None:
    html = report_file.read_text(encoding="utf-8")
    assert "<title>salessim report: baseline vs fewer SEs</title>" in html
    order = [html.index(f'id="{i}"') for i in ("summary", "scenarios", "comparison", "kpis",
                                               "detail-1", "appendix", "how")]
    assert order == sorted(order)
    summary = _text(html[order[0]:order[1]])
    assert "Only 3 replications per scenario" in summary  # fewer than 10
    goals = re.search(r'<table id="goals">(.*?)</table>', html, re.S)
    assert goals is not None
    for kpi in briefing.GOALS:
        best = pair.best(kpi)
        row = re.search(rf"<td>{re.escape(kpi_label(kpi, 'EUR'))}</td><td>([^<]+)</td>",
                        goals.group(1))
        assert row is not None and row.group(1) == best, kpi
    bn = ss.bottlenecks(pair.results["baseline"])
    stage = plots.Labels.of(pair.results["baseline"].scenario).stage(str(bn.bottleneck))
    assert f"In baseline, won deals wait longest at {stage}" in summary
    assert "fewer SEs: better on cost (-" in summary  # fewer salaries: less cost, better
    assert "_" not in summary  # no code names in the summary


@pytest.mark.slow
def test_report_says_what_changed_in_sentences_and_the_yaml_in_the_appendix(
        report_file: Path) -> None:
    html = report_file.read_text(encoding="utf-8")
    changes = re.search(r'<ul class="changes">(.*?)</ul>', html, re.S)
    assert changes is not None
    assert _text(changes.group(1)).strip() == (
        "Team Solutions, solution engineers, headcount: 4 instead of 8.")
    appendix = html[html.index('id="appendix"'):]
    assert "teams.solutions.reps.se.headcount: 4" in appendix
    assert html.count("Resolved scenario:") == 2
    assert "salessim report a.yaml b.yaml --seed 8" in html
    assert f"salessim {ss.__version__}" in html


@pytest.mark.slow
def test_report_is_self_contained(report_file: Path) -> None:
    html = report_file.read_text(encoding="utf-8")
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:|//)""", html)
    assert "<link" not in html and "<script" not in html
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    # Side by side (with each scenario's flow of leads), then four plots per scenario.
    assert len(images) == 4 + 2 + 2 * 4
    assert all(base64.b64decode(i)[:8] == b"\x89PNG\r\n\x1a\n" for i in images)
    widths = [int.from_bytes(base64.b64decode(i)[16:20], "big") for i in images]
    assert widths[:6] == [plots.WIDTH_IN * plots.DPI] * 6  # twice a screen's resolution
    assert widths[6:] == [round(HALF_WIDTH_IN * plots.DPI)] * 8  # a scenario's plots two to a row


@pytest.mark.slow
def test_report_kpi_cells_are_the_comparison_table_in_words(pair: ss.Comparison,
                                                              report_file: Path) -> None:
    html = report_file.read_text(encoding="utf-8")
    table = pair.table()
    base, other = table.loc[("cost", "baseline")], table.loc[("cost", "fewer SEs")]
    rows = re.findall(r'<td class="kpi">Cost \(EUR\)</td>(.*?)</tr>', html, re.S)
    assert len(rows) == 2  # the means, then the differences
    means, diffs = (_text(r) for r in rows)
    assert fmt_number("cost", base["mean"]) in means  # money in k and M
    assert fmt_number("cost", other["diff"], sign=True) in diffs
    said = briefing.verdict("cost", other["diff"], other["diff_ci_low"], other["diff_ci_high"])
    assert said.word == "better"  # fewer SEs cost less: lower is better, whatever the sign
    assert re.search(r'<td class="num better">', rows[1])
    assert "<td>cost</td>" not in html and "<td>utilisation_se</td>" not in html


@pytest.mark.slow
def test_single_scenario_report_has_no_comparison(pair: ss.Comparison) -> None:
    res = pair.results["baseline"]
    html = render_report(res)
    assert 'id="comparison"' not in html and "What changes" not in html
    assert html.count("data:image/png;base64,") == 8  # with the flow of leads
    assert "--replications 3 --seed 8" in html
    assert "Over 3 replications: " in _text(html)
    assert '<td class="kpi">Profit (EUR)</td>' in html


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


def test_cli_report_needs_somewhere_to_write_and_known_goals(
        small_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(small_file), "-r", "1", "-s", "1", "-q"]) == 2
    assert "--out FILE.html, --pdf FILE.pdf or both" in capsys.readouterr().err
    status = main(["report", str(small_file), "-r", "1", "-s", "1", "-q", "--goal",
                   "utilisation_ae", "--out", str(tmp_path / "r.html")])
    assert status == 2 and "has no better direction" in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists()


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
def test_report_renders_in_headless_chromium_and_fits_a4_in_print(report_file: Path,
                                                                    tmp_path: Path) -> None:
    _browser_or_skip()
    from playwright.sync_api import sync_playwright

    url = report_file.resolve().as_uri()
    requests: list[str] = []
    fits = """() => [...document.querySelectorAll('table')].map(t => ({
        scroll: t.parentElement.scrollWidth, client: t.parentElement.clientWidth,
        right: t.getBoundingClientRect().right,
        body: document.body.getBoundingClientRect().right}))"""
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
            # An A4 page less the print margins (182 mm) is 688 CSS pixels wide.
            page.set_viewport_size({"width": 688, "height": 1000})
            page.emulate_media(media="print")
            tables = page.evaluate(fits)
        finally:
            browser.close()
    assert title == "salessim report: baseline vs fewer SEs"
    for words in ("Conversion rate", "Cycle time, mean (working days)", "fewer SEs"):
        assert words in kpi_text
    assert page_width <= 1100  # no sideways scrolling at a laptop's width
    assert sorted(widths) == [round(HALF_WIDTH_IN * plots.DPI)] * 8 + [1600] * 6
    assert [u for u in requests if not u.startswith("data:")] == [url]
    assert len(tables) >= 4
    for t in tables:  # in print, every table fits the page: nothing to scroll, nothing cut
        assert t["scroll"] <= t["client"] and t["right"] <= t["body"] + 0.5, t
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    if os.environ.get("SALESSIM_SCREENSHOT_DIR"):
        shutil.copy(shot, Path(os.environ["SALESSIM_SCREENSHOT_DIR"]) / "report.png")


A4_POINTS = (595.3, 841.9)
"""An A4 page in PDF points (1/72 inch)."""
MARGIN_MM = 14
"""The print style sheet's left and right page margins."""


@pytest.mark.slow
def test_pdf_is_a4_pages_with_nothing_cut_at_the_edge(report_file: Path,
                                                        tmp_path: Path) -> None:
    """Print the report, render every page to PNG and look at each page's margins.

    A table or figure wider than the page would be cut at the right edge: ink in the
    right margin. A heading stranded at a page's foot would be the page's last text.
    """
    _browser_or_skip()
    import pypdfium2 as pdfium

    pdf = write_pdf(tmp_path / "report.pdf", report_file)
    html = report_file.read_text(encoding="utf-8")
    headings = [_text(h).strip() for h in re.findall(r"<h[23][^>]*>(.*?)</h[23]>", html, re.S)]
    doc = pdfium.PdfDocument(pdf)
    starts: dict[str, int] = {}
    try:
        assert 5 <= len(doc) <= 20
        for number, page in enumerate(doc, start=1):
            assert page.get_size() == pytest.approx(A4_POINTS, abs=1)
            image = page.render(scale=1.5).to_numpy()[..., :3]
            px_per_mm = image.shape[1] / 210
            margin = int((MARGIN_MM - 2) * px_per_mm)
            assert image[:, -margin:].min() >= 250, f"page {number}: ink in the right margin"
            assert image[:, :margin].min() >= 250, f"page {number}: ink in the left margin"
            lines = [ln.strip() for ln in page.get_textpage().get_text_range().splitlines()
                     if ln.strip()]
            assert lines and lines[-1] not in headings, f"page {number} ends with a heading"
            starts.update({ln: number for ln in lines if ln.startswith(("In detail: ",
                                                                        "Appendix: "))})
            if os.environ.get("SALESSIM_SCREENSHOT_DIR"):
                page.render(scale=1.0).to_pil().save(
                    Path(os.environ["SALESSIM_SCREENSHOT_DIR"]) / f"report-page-{number}.png")
    finally:
        doc.close()
    # Each scenario in detail takes one page: the next section starts on the next page.
    pages = [starts[f"In detail: {n}"] for n in ("baseline", "fewer SEs")]
    assert [pages[1], starts["Appendix: the scenario files"]] == [pages[0] + 1, pages[0] + 2]


@pytest.mark.slow
def test_cli_report_writes_html_and_pdf(small_file: Path, tmp_path: Path) -> None:
    _browser_or_skip()
    out, pdf = tmp_path / "r.html", tmp_path / "r.pdf"
    status = main(["report", str(small_file), "-r", "2", "-s", "3", "-q", "--executor",
                   "serial", "--goal", "profit", "--out", str(out), "--pdf", str(pdf)])
    assert status == 0
    assert pdf.read_bytes()[:5] == b"%PDF-"
    html = out.read_text(encoding="utf-8")
    assert f"--goal profit --out {out} --pdf {pdf}" in html
