"""The README's code runs as written, and what it says it prints is what it prints.

Every ``python`` block runs, in order and in one namespace (later blocks use what the
earlier ones made), from a fresh folder that holds the shipped ``scenarios``; the quick
start's command is run and its output compared with the table the README shows; and the
figures the README quotes from these runs are checked against the runs.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ..conftest import ROOT

README = ROOT / "README.md"
TEXT = README.read_text(encoding="utf-8")

pytestmark = pytest.mark.slow


def blocks(language: str) -> list[str]:
    """The README's fenced blocks opened with ```LANGUAGE (empty: no language), in order."""
    found: list[str] = []
    opened: str | None = None
    lines: list[str] = []
    for line in TEXT.splitlines(keepends=True):
        if opened is None and line.startswith("```"):
            opened, lines = line[3:].strip(), []
        elif opened is not None and line.startswith("```"):
            if opened == language:
                found.append("".join(lines))
            opened = None
        elif opened is not None:
            lines.append(line)
    return found


@pytest.fixture(scope="module")
def namespace(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What the README's Python blocks leave behind, run from a fresh folder."""
    folder = tmp_path_factory.mktemp("readme")
    (folder / "scenarios").symlink_to(ROOT / "scenarios")
    here = Path.cwd()
    os.chdir(folder)
    names: dict[str, Any] = {"__name__": "__readme__"}
    try:
        for i, code in enumerate(blocks("python")):
            exec(compile(code, f"README.md python block {i + 1}", "exec"), names)
    finally:
        os.chdir(here)
    names["__folder__"] = folder
    return names


def test_there_is_python_to_run() -> None:
    assert len(blocks("python")) >= 5


def test_every_python_block_runs(namespace: dict[str, Any]) -> None:
    folder: Path = namespace["__folder__"]
    # What the blocks promise to write is there.
    for name in ("report.html", "events.xes", "headcount.sqlite"):
        assert (folder / name).stat().st_size > 0, name


def test_the_bottleneck_sentence_quoted_is_the_one_printed(namespace: dict[str, Any]) -> None:
    sentence = namespace["bn"].sentence
    quoted = re.search(r'the sentence reads "(.*?)"', " ".join(TEXT.split()))
    assert quoted is not None and quoted.group(1) == sentence


def test_the_warmup_figures_quoted_are_the_ones_computed(namespace: dict[str, Any]) -> None:
    advice = namespace["advice"]  # the README's own ss.suggest_warmup(sc, ...)
    words = " ".join(TEXT.split())
    assert (f"with 10 replications and seed 1 they say {advice.fill_days:.0f} and "
            f"{advice.mser_days:.0f} days, so a warm-up of {advice.days:.0f} days is "
            "suggested") in words


def test_the_quick_start_prints_the_table_shown() -> None:
    shown = next(b for b in blocks("") if b.startswith("Regional sales organisation"))
    command = next(line for b in blocks("bash") for line in b.splitlines()
                   if line.startswith("salessim run "))
    out = subprocess.run([sys.executable, "-m", "salessim.cli", *command.split()[1:]],
                         cwd=ROOT, capture_output=True, text=True, check=True, timeout=600)
    assert out.stdout == shown


def test_the_calibration_figures_quoted_are_the_ones_computed(namespace: dict[str, Any]
                                                              ) -> None:
    cal, bt, ho = namespace["cal"], namespace["bt"], namespace["ho"]
    text = " ".join(TEXT.split())
    est, opps = cal.estimates, cal.data.opportunities
    win = est.loc["win_rate"]
    d, h = bt.distances(), ho.distances()
    won, closing = d.loc["deals won"], d.loc["time to close (days)"]
    won_time, lost_time = (d.loc[f"time to close, {k} deals (days)"] for k in ("won", "lost"))
    quoted = [
        f"{len(opps):,} deals of which {int((opps['outcome'] == 'open').sum())} are open",
        f"the win rate is {100 * win['value']:.1f} % (95 % {100 * win['ci_low']:.1f} to "
        f"{100 * win['ci_high']:.1f} %)",
        f"the mean time to close is {est.loc['time_to_close', 'value']:.1f} working days",
        f"where the closed deals alone say {cal.pieces.time_to_close.naive_mean:.1f}",
        f"deals that pass leave after {est.loc['stages.discovery.time_in_stage', 'value']:.1f}"
        f" days and deals lost there after "
        f"{est.loc['stages.discovery.time_to_loss', 'value']:.1f}",
        f"wins {won['simulated']:.0f} deals (95 % of replications between {won['low']:.0f} "
        f"and {won['high']:.0f}) where the history has {won['history']:.0f}",
        f"the time to close of won deals ({won_time['simulated']:.1f} days simulated against "
        f"{won_time['history']:.1f}) and of lost ones ({lost_time['simulated']:.1f} against "
        f"{lost_time['history']:.1f})",
        f"(Wasserstein distance {closing['distance']:.2f} days against "
        f"{closing['chance']:.2f})",
        f"predicted {h.loc['deals created', 'simulated']:.0f} new deals for them (history "
        f"{h.loc['deals created', 'history']:.0f}) and {h.loc['deals won', 'simulated']:.0f} "
        f"wins ({h.loc['deals won', 'history']:.0f})",
    ]
    for phrase in quoted:
        assert phrase in text, phrase
    # "every measure lies in its simulated range"
    assert bt.win_rates()["inside"].all() and d["inside"].all()
    # "as far from the history's as two simulated histories are from each other"
    assert closing["distance"] <= 1.25 * closing["chance"]
    assert "decline_delay_days" in cal.yaml
