"""KPI words with units, money in k and M, whole counts, and the short reprs built on them."""

from __future__ import annotations

import math

import pytest

from salessim.formatting import (
    fmt_change,
    fmt_interval,
    fmt_number,
    fmt_value,
    html_table,
    kpi_label,
    kpi_words,
    money,
    whole,
)


@pytest.mark.parametrize(("kpi", "label"), [
    ("cycle_time_p90_days", "Cycle time, 90th percentile (working days)"),
    ("profit", "Profit (EUR)"),
    ("won", "Deals won"),                     # a count says what it counts in its words
    ("conversion_rate", "Conversion rate"),   # a share has its % on the number
    ("utilisation_legal", "Utilisation of legal"),
    ("satisfaction_mean", "Customer satisfaction, mean (points of 10)"),
    ("some_new_kpi_days", "Some new kpi (working days)"),  # a readable default
])
def test_a_kpi_is_named_in_words_with_its_unit(kpi: str, label: str) -> None:
    assert kpi_label(kpi, "EUR") == label
    assert "_" not in kpi_words(kpi)


@pytest.mark.parametrize(("value", "text"), [
    (0, "0 EUR"), (950, "950 EUR"), (9_999.6, "10,000 EUR"), (10_000, "10.0k EUR"),
    (18_296, "18.3k EUR"), (877_787, "878k EUR"), (999_400, "999k EUR"),
    (999_600, "1.00M EUR"), (1_069_394, "1.07M EUR"), (12_374_497, "12.4M EUR"),
    (-530_439, "-530k EUR"), (-0.4, "0 EUR"), (14_000_000, "14.0M EUR"),
    (9_996_000, "10.0M EUR"), (980_000, "980k EUR"),
])
def test_money_is_rounded_to_three_figures_in_k_and_m(value: float, text: str) -> None:
    assert money(value, "EUR") == text


def test_differences_have_a_sign_and_never_read_minus_zero() -> None:
    assert money(166_190, "EUR", sign=True) == "+166k EUR"
    assert money(-0.4, sign=True) == "+0"
    assert fmt_change("cycle_time_mean_days", -10.2, "EUR") == "-10.2 working days"
    assert fmt_change("conversion_rate", 0.003) == "+0.3 pts"
    assert fmt_change("conversion_rate", -0.0004) == "-0.04 pts"  # too small for a tenth
    assert fmt_change("won", -0.4) == "+0 deals"
    assert fmt_interval("conversion_rate", -0.003, 0.002, sign=True) == "-0.3 .. +0.2 pts"
    assert fmt_interval("profit", -530_439, 862_820, sign=True) == "-530k .. +863k"
    assert fmt_interval("profit", math.nan, 1.0) == "-"


def test_counts_are_whole_and_halves_go_up() -> None:
    assert fmt_value("won", 289.7) == "290 deals"
    assert fmt_value("won", 1.2) == "1 deal"
    assert fmt_value("leads", 10_019.7) == "10,020 leads"
    assert fmt_number("won", 71.5) == "72"  # not 72 one time and 70 for 70.5
    assert whole(70.5) == "71" and whole(-1.5) == "-2" and whole(math.nan) == "-"
    assert fmt_value("cycle_time_p90_days", 41.23) == "41.2 working days"
    assert fmt_value("price_realisation", 0.97) == "97.0%"
    assert fmt_value("forecast_bias_pct", 3.21) == "3.2%"


def test_an_html_table_escapes_its_text_and_right_aligns_numbers() -> None:
    table = html_table(("KPI", "mean"), [("<b>x</b>", "1")], caption="a & b")
    assert "&lt;b&gt;x&lt;/b&gt;" in table and "<b>" not in table
    assert "a &amp; b" in table
    assert table.count("text-align:right") == 2  # the header's and the cell's
