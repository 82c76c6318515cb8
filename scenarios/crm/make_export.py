"""Write the invented example CRM export that ``salessim calibrate`` reads.

The company, **Northwind Software**, is invented, and so is every number in this file:
its reps, their managers, its lead flow, its conversion rates, its cycle times and its
deal sizes. They were chosen to look like a plausible mid-sized B2B software seller
(about 14 account executives in three regional teams, a win rate near 20 %, SMB deals
closed in about five weeks and enterprise deals in about three months), not measured
anywhere.

The export is deliberately a little messy, the way real CRM exports are, so that the
calibration and its mapping file have something real to cope with:

* dates written ``dd/mm/yyyy`` (only the mapping's ``date_format`` says which is the day);
* an old outcome label, ``Won - Signed``, next to ``Closed Won`` (the mapping translates
  both to ``won``);
* about 3 % of deals without a segment and about 2 % without an amount (empty cells);
* about 2 % of deals without any stage-history rows;
* about 5 % of deals that skip the ``Demo`` stage;
* lost deals declared late: the last stage of a lost deal lasts about 1.5x as long
  (stale deals closed in a pipeline clean-up), which the simulator does not model;
* the team of a deal is not in the opportunity table: it comes from ``reps.xlsx``;
* one rep leaves after month 10 (their open deals keep closing) and one is hired in
  month 14 and ramps up;
* deals still open on the export date have no close date, and their history stops at
  the stage they are in.

The output is byte-for-byte reproducible for the same arguments: one
``numpy.random.default_rng(seed)`` draws everything, rows are sorted, numbers and dates
have fixed formats and the Excel file's timestamps are fixed.

Run ``python make_export.py`` to rewrite the shipped files next to this script;
``--deals-per-month 420`` makes about 10,000 deals for a benchmark.
"""

from __future__ import annotations

import argparse
import datetime as dt
import heapq
import io
import math
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.xml.functions import tostring

START = dt.date(2024, 7, 1)
"""First day of the data: Northwind switched to this CRM then (invented)."""

# --- Lead flow (all invented) ---------------------------------------------------------

CHANNELS: tuple[str, ...] = ("Web", "Outbound", "Trade Show", "Partner")
CHANNEL_SHARE = np.array([0.45, 0.25, 0.10, 0.20])
"""Share of new deals by lead source, over a year."""

SEASON = np.array([1.00, 1.05, 1.10, 1.05, 1.05, 1.00, 0.90, 0.60, 1.10, 1.10, 1.05, 0.70])
"""Monthly multiplier of the deal flow, January first: summer holidays in August and
the year-end slowdown in December (normalised below so the mean is 1)."""

TRADE_SHOW_SEASON = np.array([0.25, 0.25, 2.5, 2.5, 0.25, 0.25,
                              0.25, 0.25, 2.5, 2.5, 0.25, 0.25])
"""Monthly multiplier of trade-show deals (mean 1): the spring and autumn fairs."""

ENTERPRISE_SHARE = np.array([0.12, 0.22, 0.30, 0.32])
"""P(enterprise) by channel (about 20 % in all): partners and fairs bring bigger firms."""

PLATFORM_SHARE = {"SMB": 0.24, "Enterprise": 0.55}
"""P(platform product) by segment (about 30 % in all)."""

RATINGS: tuple[str, ...] = ("A", "B", "C")
RATING_MIX = np.array([
    [0.11, 0.34, 0.55],  # Web
    [0.10, 0.33, 0.57],  # Outbound
    [0.16, 0.36, 0.48],  # Trade Show
    [0.28, 0.40, 0.32],  # Partner: referred leads are better (about A 15, B 35, C 50 %)
])

REGIONS: tuple[str, ...] = ("North", "Central", "South")
REGION_SHARE = np.array([0.35, 0.40, 0.25])

# --- The sales process (all invented) -------------------------------------------------

STAGES: tuple[str, ...] = ("Discovery", "Demo", "Proposal", "Negotiation")
ADVANCE = np.array([
    # A     B     C      P(leaving the stage forward) for an average SMB rep and deal
    [0.80, 0.68, 0.55],  # Discovery -> Demo
    [0.78, 0.68, 0.58],  # Demo -> Proposal
    [0.70, 0.60, 0.50],  # Proposal -> Negotiation
    [0.80, 0.75, 0.70],  # Negotiation -> won
])
ENTERPRISE_LOGIT = -0.15
"""Enterprise deals advance slightly less often at every stage (logit shift)."""

SKIP_DEMO = 0.05
"""Share of deals that go from Discovery straight to Proposal."""

STAGE_DAYS = np.array([6.0, 8.0, 10.0, 9.0])
"""Mean calendar days in each stage for an SMB deal."""

ENTERPRISE_DAYS = 2.5
"""Enterprise deals spend this many times as long in every stage."""

STAGE_DAYS_CV = 0.6
"""Coefficient of variation of the (log-normal) time in a stage."""

LATE_LOSS = 1.5
"""A lost deal's last stage lasts this many times as long: losses are declared late."""

# --- Reps (names and numbers invented) -------------------------------------------------

SKILL_SD = 0.35
"""Standard deviation of the reps' skill (a logit shift on every stage)."""

RAMP_LOGIT = -0.5
"""The new hire's conversion penalty (logit) on the first day, fading to 0..."""

RAMP_DAYS = 90
"""...over this many calendar days."""

LEAVER_LAST_MONTH = 10
"""The leaver gets no new deals after this month (1 = July 2024)."""

LOAD_SCALE = 3.0
"""Deal assignment weight ``exp(-(open deals - fewest open deals) / LOAD_SCALE)``: the
least-loaded rep of the team is the likeliest, not certain, to get the next deal."""


@dataclass(frozen=True)
class Rep:
    """An account executive.

    Attributes:
        name: Full name, as the CRM's ``Owner``.
        team: Regional team, as in ``reps.xlsx``: it works the deals of the region of
            the same name.
        start: First day at Northwind.
        role: ``regular``, ``leaver`` or ``hire``.
    """

    name: str
    team: str
    start: dt.date
    role: str = "regular"


MANAGERS = {"North": "Kristin Aalto", "Central": "Frank Schubert",
            "South": "Isabel Ferreira"}

REPS: tuple[Rep, ...] = (
    Rep("Anna Berg", "North", dt.date(2019, 3, 4)),
    Rep("Jonas Lindqvist", "North", dt.date(2021, 9, 1)),
    Rep("Maria Nieminen", "North", dt.date(2017, 1, 9)),
    Rep("Erik Dahl", "North", dt.date(2023, 2, 1)),
    Rep("Sara Holm", "North", dt.date(2022, 5, 16)),
    Rep("Lukas Brandt", "Central", dt.date(2018, 10, 1)),
    Rep("Lena Müller", "Central", dt.date(2020, 4, 1)),
    Rep("Tomas Novak", "Central", dt.date(2022, 11, 7)),
    Rep("Julia Weber", "Central", dt.date(2019, 8, 12)),
    Rep("Peter Kowalski", "Central", dt.date(2021, 1, 11), "leaver"),  # see LEAVER_LAST_MONTH
    Rep("Nina Hoffmann", "Central", dt.date(2025, 8, 1), "hire"),  # month 14: August 2025
    Rep("Marco Ricci", "South", dt.date(2018, 6, 4)),
    Rep("Elena Costa", "South", dt.date(2020, 2, 3)),
    Rep("David Moreno", "South", dt.date(2023, 9, 4)),
    Rep("Clara Duarte", "South", dt.date(2021, 6, 1)),
)
"""Northwind's account executives: 14 at the start, one leaver, one hire."""

# --- Amounts and labels (all invented) ------------------------------------------------

AMOUNT_MEAN = 15_000.0
"""Mean amount (EUR) of an SMB deal for the standard product."""

AMOUNT_SD = 8_000.0
PLATFORM_AMOUNT = 2.0
"""The platform product is this many times as big."""

ENTERPRISE_AMOUNT = 4.5
"""Enterprise deals are this many times as big."""

OLD_LABEL_UNTIL = dt.date(2024, 11, 1)
"""The outcome picklist was renamed on this day: ``Won - Signed`` became ``Closed Won``."""

OLD_LABEL_BEFORE = 0.5
"""Share of wins labelled ``Won - Signed`` before the rename..."""

OLD_LABEL_AFTER = 0.04
"""...and after it (an old mobile app kept offering the label)."""

MISSING_SEGMENT = 0.03
MISSING_AMOUNT = 0.02
MISSING_HISTORY = 0.02

FIXED_TIME = dt.datetime(2026, 7, 1, 8, 0, 0)
"""Creation and modification time written into ``reps.xlsx`` (reproducibility)."""

_EPOCH = dt.date(1970, 1, 1)  # a Thursday


def _day(date: dt.date) -> int:
    """Days since 1970-01-01."""
    return (date - _EPOCH).days


def _weekday_on_or_after(day: int) -> int:
    """The day itself if it is Monday to Friday, else the next Monday."""
    weekday = (day + 3) % 7  # 0 = Monday
    return day + (7 - weekday if weekday >= 5 else 0)


def _add_months(date: dt.date, months: int) -> dt.date:
    """The first day of the month ``months`` after ``date``'s month."""
    index = date.year * 12 + date.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _created_days(rng: np.random.Generator, months: int,
                  deals_per_month: float) -> tuple[np.ndarray, np.ndarray]:
    """Created days and channel indices of all deals, month by month."""
    season = SEASON / SEASON.mean()
    days: list[np.ndarray] = []
    channels: list[np.ndarray] = []
    for m in range(months):
        first = _add_months(START, m)
        weekdays = np.arange(_day(first), _day(_add_months(START, m + 1)))
        weekdays = weekdays[(weekdays + 3) % 7 < 5]
        rate = deals_per_month * season[first.month - 1] * CHANNEL_SHARE
        rate[2] *= TRADE_SHOW_SEASON[first.month - 1]
        counts = rng.poisson(rate)
        channel = np.repeat(np.arange(len(CHANNELS)), counts)
        days.append(rng.choice(weekdays, size=channel.size))
        channels.append(channel)
    return np.concatenate(days), np.concatenate(channels)


def _pick(rng: np.random.Generator, shares: np.ndarray) -> np.ndarray:
    """One category index per row of ``shares`` (each row sums to 1)."""
    u = rng.random((shares.shape[0], 1))
    picked = (u > shares.cumsum(axis=1)).sum(axis=1)
    return np.asarray(np.minimum(picked, shares.shape[1] - 1))


def _format_days(days: np.ndarray, fmt: str) -> list[str]:
    """Day numbers written with ``fmt``."""
    return pd.to_datetime(days, unit="D").strftime(fmt).tolist()


def _write_xlsx(reps: list[Rep], path: Path) -> None:
    """Write the rep list as ``reps.xlsx`` with fixed timestamps."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Reps"
    ws.append(["Rep", "Team", "Manager", "Start Date"])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for rep in reps:
        ws.append([rep.name, rep.team, MANAGERS[rep.team], rep.start])
        ws.cell(row=ws.max_row, column=4).number_format = "dd/mm/yyyy"
    for column, width in zip("ABCD", (20, 15, 18, 12), strict=True):
        ws.column_dimensions[column].width = width
    ws.freeze_panes = "A2"
    wb.properties.creator = "Northwind Software CRM export"
    wb.properties.created = FIXED_TIME
    buffer = io.BytesIO()
    wb.save(buffer)
    # Workbook.save stamps the current time into docProps/core.xml, and zipfile stamps
    # it on every member: rewrite both with fixed times.
    wb.properties.modified = FIXED_TIME
    core = tostring(wb.properties.to_tree())
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            data = core if info.filename == "docProps/core.xml" else src.read(info)
            member = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o600 << 16
            dst.writestr(member, data)


def make_export(out_dir: Path, *, months: int = 24, deals_per_month: float = 130.0,
                seed: int = 2026) -> None:
    """Write the invented CRM export of Northwind Software.

    Writes ``opportunities.csv``, ``stage_history.csv`` and ``reps.xlsx`` into
    ``out_dir`` (``mapping.yaml`` and ``README.md`` are written by hand).

    Args:
        out_dir: Folder to write into (created if missing).
        months: Months of deal creation from 2024-07-01; the export date is the last
            day of the last month.
        deals_per_month: Mean number of new deals a month (before seasonality).
        seed: Seed of the one random generator drawing everything.

    Raises:
        ValueError: If ``months`` or ``deals_per_month`` is not positive.
    """
    if months < 1 or not deals_per_month > 0:
        raise ValueError("months and deals_per_month must be positive")
    rng = np.random.default_rng(seed)
    export_day = _day(_add_months(START, months)) - 1

    reps = REPS
    skill = rng.normal(0.0, SKILL_SD, len(reps))
    leaver_end = _day(_add_months(START, LEAVER_LAST_MONTH)) - 1

    # Deals, numbered as the CRM does (by creation time); then everything else each deal
    # needs is drawn at once.
    created, channel = _created_days(rng, months, deals_per_month)
    n = created.size
    created_minute = rng.integers(9 * 60, 17 * 60, n)
    order = np.lexsort((created_minute, created))
    created, channel, created_minute = created[order], channel[order], created_minute[order]
    enterprise = rng.random(n) < ENTERPRISE_SHARE[channel]
    platform = rng.random(n) < np.where(enterprise, PLATFORM_SHARE["Enterprise"],
                                        PLATFORM_SHARE["SMB"])
    rating = _pick(rng, RATING_MIX[channel])
    region = _pick(rng, np.broadcast_to(REGION_SHARE, (n, len(REGIONS))))
    sigma2 = math.log1p(STAGE_DAYS_CV**2)
    stage_factor = np.exp(math.sqrt(sigma2) * rng.standard_normal((n, len(STAGES)))
                          - sigma2 / 2)
    advance_u = rng.random((n, len(STAGES)))
    entry_minute = rng.integers(8 * 60, 18 * 60, (n, len(STAGES) + 1))
    skip_demo = rng.random(n) < SKIP_DEMO
    amount_sigma2 = math.log1p((AMOUNT_SD / AMOUNT_MEAN) ** 2)
    amount = (AMOUNT_MEAN * np.where(platform, PLATFORM_AMOUNT, 1.0)
              * np.where(enterprise, ENTERPRISE_AMOUNT, 1.0)
              * np.exp(math.sqrt(amount_sigma2) * rng.standard_normal(n) - amount_sigma2 / 2))
    amount = np.round(amount, -1)
    assign_u = rng.random(n)
    label_u = rng.random(n)
    no_segment = rng.random(n) < MISSING_SEGMENT
    no_amount = rng.random(n) < MISSING_AMOUNT
    no_history = rng.random(n) < MISSING_HISTORY

    base_logit = np.log(ADVANCE / (1 - ADVANCE))
    days_scale = STAGE_DAYS[None, :] * np.where(enterprise, ENTERPRISE_DAYS, 1.0)[:, None]
    stage_days = days_scale * stage_factor
    team_of_region = {g: [i for i, r in enumerate(reps) if r.team == g] for g in REGIONS}
    open_until: list[list[int]] = [[] for _ in reps]  # per rep, a heap of close days
    owner = np.empty(n, dtype=np.int64)
    close = np.empty(n, dtype=np.int64)
    won = np.zeros(n, dtype=bool)
    history: list[tuple[int, int, int, int]] = []  # deal, stage, day, minute

    for i in range(n):
        today = int(created[i])
        # Assign an active rep of the region's team, least-loaded-ish.
        team = [j for j in team_of_region[REGIONS[region[i]]]
                if _day(reps[j].start) <= today
                and not (reps[j].role == "leaver" and today > leaver_end)]
        loads = []
        for j in team:
            heap = open_until[j]
            while heap and heap[0] <= today:
                heapq.heappop(heap)
            loads.append(len(heap))
        weights = np.exp(-(np.array(loads) - min(loads)) / LOAD_SCALE)
        cumulative = np.cumsum(weights)
        j = team[min(int(np.searchsorted(cumulative, assign_u[i] * cumulative[-1])),
                     len(team) - 1)]
        owner[i] = j
        shift = float(skill[j]) + (ENTERPRISE_LOGIT if enterprise[i] else 0.0)
        if reps[j].role == "hire":
            shift += RAMP_LOGIT * max(0.0, 1.0 - (today - _day(reps[j].start)) / RAMP_DAYS)

        # Walk the stages: enter, stay, then advance or be lost (declared late).
        day = today
        minute = int(created_minute[i])
        for k in range(len(STAGES)):
            if k == 1 and skip_demo[i]:
                continue
            history.append((i, k, day, minute))
            p = 1.0 / (1.0 + math.exp(-(base_logit[k, rating[i]] + shift)))
            advances = advance_u[i, k] < p
            stay = stage_days[i, k] * (1.0 if advances else LATE_LOSS)
            day = _weekday_on_or_after(day + max(1, round(stay)))
            minute = int(entry_minute[i, k + 1])
            if not advances:
                break
        else:
            won[i] = True
        close[i] = day
        heapq.heappush(open_until[j], day)

    # --- The opportunity table ---------------------------------------------------------
    is_open = close > export_day
    old_label = label_u < np.where(close < _day(OLD_LABEL_UNTIL), OLD_LABEL_BEFORE,
                                   OLD_LABEL_AFTER)
    stage = np.where(is_open, "Open", np.where(
        won, np.where(old_label, "Won - Signed", "Closed Won"), "Closed Lost"))
    close_text = np.where(is_open, "", _format_days(close, "%d/%m/%Y"))
    amount_text = np.where(no_amount, "", [f"{a:.2f}" for a in amount])
    segment = np.where(enterprise, "Enterprise", "SMB")
    opportunities = pd.DataFrame({
        "Opportunity ID": [f"OPP-{i + 1:06d}" for i in range(n)],
        "Owner": [reps[j].name for j in owner],
        "Created": _format_days(created, "%d/%m/%Y"),
        "Close Date": close_text,
        "Stage": stage,
        "Amount": amount_text,
        "Lead Source": np.array(CHANNELS)[channel],
        "Rating": np.array(RATINGS)[rating],
        "Region": np.array(REGIONS)[region],
        "Product": np.where(platform, "Platform", "Standard"),
        "Segment": np.where(no_segment, "", segment),
    })

    # --- The stage history (only what happened by the export date) ---------------------
    rows = np.array(history, dtype=np.int64).reshape(-1, 4)
    keep = (rows[:, 2] <= export_day) & ~no_history[rows[:, 0]]
    rows = rows[keep]
    rows = rows[np.lexsort((rows[:, 3], rows[:, 2], rows[:, 0]))]
    changed = pd.to_datetime(rows[:, 2], unit="D") + pd.to_timedelta(rows[:, 3], unit="min")
    stage_history = pd.DataFrame({
        "Opportunity ID": [f"OPP-{i + 1:06d}" for i in rows[:, 0]],
        "To Stage": np.array(STAGES)[rows[:, 1]],
        "Changed At": changed.strftime("%Y-%m-%d %H:%M"),
    })

    out_dir.mkdir(parents=True, exist_ok=True)
    opportunities.to_csv(out_dir / "opportunities.csv", index=False, lineterminator="\n")
    stage_history.to_csv(out_dir / "stage_history.csv", index=False, lineterminator="\n")
    hired = [r for r in reps if _day(r.start) <= export_day]  # the hire only if in the data
    _write_xlsx(sorted(hired, key=lambda r: (r.team, r.name)), out_dir / "reps.xlsx")


def main() -> None:
    """Command line: write the export (by default next to this script)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent,
                        help="folder to write into (default: this script's folder)")
    parser.add_argument("--months", type=int, default=24, help="months of data (24)")
    parser.add_argument("--deals-per-month", type=float, default=130.0,
                        help="mean new deals a month (130; 420 gives about 10,000 deals)")
    parser.add_argument("--seed", type=int, default=2026, help="random seed (2026)")
    args = parser.parse_args()
    make_export(args.out, months=args.months, deals_per_month=args.deals_per_month,
                seed=args.seed)


if __name__ == "__main__":
    main()
