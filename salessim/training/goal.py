"""Goals of an exercise: bounds on KPI means, absolute or a share of the baseline's.

``cycle_time_p90_days <= 85% of baseline`` is a ``salessim.kpis.Condition`` whose bound
is a share of the untouched scenario's mean; ``conversion_rate >= 11%`` is an absolute
one. Both are read as data, never run as code.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from salessim.formatting import fmt_value, kpi_words
from salessim.kpis import Condition, better

_OF_BASELINE = re.compile(r"\s+of\s+(?:the\s+)?baseline\s*$", re.IGNORECASE)
_OPERATOR_WORDS = {"<=": ("at most", "≤"), ">=": ("at least", "≥"), "<": ("below", "<"),
                   ">": ("above", ">"), "==": ("exactly", "=")}
"""Each operator as words, and as the sign before a worked-out number."""
_NUMBER = re.compile(r"^\s*(?P<value>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(?P<pct>%)?\s*$")


@dataclass(frozen=True)
class Target:
    """A bound on a KPI mean.

    Attributes:
        condition: KPI, operator and value (a share of the baseline's mean when
            ``relative``, else in the KPI's unit).
        relative: Whether the value is a share of the baseline's mean.
        text: As the trainer wrote it.
    """

    condition: Condition
    relative: bool
    text: str

    @classmethod
    def parse(cls, text: str, known: Sequence[str]) -> Target:
        """Read ``KPI OP NUMBER[%] [of baseline]``.

        Raises:
            ValueError: If it cannot be read or names an unknown KPI.
        """
        relative = _OF_BASELINE.search(text) is not None
        condition = Condition.parse(_OF_BASELINE.sub("", text), known)
        return cls(condition, relative, text.strip())

    def bound(self, baseline: float) -> float:
        """The bound in the KPI's unit, given the baseline's mean of the KPI."""
        return self.condition.value * baseline if self.relative else self.condition.value

    def holds(self, value: float, baseline: float) -> bool:
        """Whether a KPI mean meets the bound (NaN never does)."""
        return Condition(self.condition.kpi, self.condition.op, self.bound(baseline)).holds(value)

    def words(self, baseline: float | None = None, currency: str = "") -> str:
        """The condition as a trainee reads it, with its number once the baseline is known.

        ``Cycle time, 90th percentile: at most 85% of the baseline's, i.e. ≤ 41.2 working
        days``; ``Conversion rate: at least 11.0%``.

        Args:
            baseline: The baseline's mean of the KPI, if known.
            currency: The currency of money KPIs.
        """
        kpi, (said, sign) = self.condition.kpi, _OPERATOR_WORDS[self.condition.op]
        if not self.relative:
            return f"{kpi_words(kpi)}: {said} {fmt_value(kpi, self.condition.value, currency)}"
        text = f"{kpi_words(kpi)}: {said} {self.condition.value * 100:g}% of the baseline's"
        if baseline is None or not math.isfinite(baseline):
            return text
        return f"{text}, i.e. {sign} {fmt_value(kpi, self.bound(baseline), currency)}"


@dataclass(frozen=True)
class Objective:
    """What is scored beyond the conditions.

    Attributes:
        kpi: The KPI maximised or minimised.
        direction: ``higher`` or ``lower``.
        excellent: The value an expert reaches (a share of the baseline's mean when
            ``relative``, else in the KPI's unit).
        relative: Whether ``excellent`` is a share of the baseline's mean.
    """

    kpi: str
    direction: str
    excellent: float
    relative: bool

    @classmethod
    def parse(cls, kpi: str, way: str, excellent: float | str, known: Sequence[str]
              ) -> Objective:
        """Check the objective against the KPIs' directions and read ``excellent``.

        Args:
            kpi: The KPI.
            way: ``higher`` (maximise) or ``lower`` (minimise).
            excellent: A number, or ``N% of baseline`` text.
            known: The KPIs of the scenario.

        Raises:
            ObjectiveError: Saying which part is wrong (``kpi`` or ``excellent``).
        """
        try:
            Condition.parse(f"{kpi} >= 0", known)  # an unknown KPI gets the did-you-mean
        except ValueError as err:
            raise ObjectiveError("kpi", str(err)) from None
        if better(kpi) != way:
            verb = "maximise" if way == "higher" else "minimise"
            right = {"higher": "maximise", "lower": "minimise"}.get(str(better(kpi)))
            raise ObjectiveError("kpi", f"cannot {verb} {kpi}: " + (
                f"it is better {better(kpi)}; use {right}: {kpi}" if right else
                "more is neither better nor worse; choose profit, cost, a cycle time..."))
        if not isinstance(excellent, str):
            return cls(kpi, way, float(excellent), relative=False)
        relative = _OF_BASELINE.search(excellent) is not None
        match = _NUMBER.match(_OF_BASELINE.sub("", excellent))
        if match is None or (match["pct"] is None and relative):
            raise ObjectiveError("excellent", f"cannot read {excellent!r}; write a number in "
                                              "the KPI's unit or a share of the baseline, "
                                              "e.g. '104% of baseline'")
        value = float(match["value"]) / (100.0 if match["pct"] else 1.0)
        if relative and (value > 1) != (way == "higher"):
            raise ObjectiveError("excellent", f"{excellent!r} is not better than the "
                                              f"baseline; {kpi} is better {way}")
        return cls(kpi, way, value, relative)

    def words(self, baseline: float | None = None, currency: str = "") -> str:
        """What is scored beyond the conditions, with full marks' number once known.

        ``Profit as high as you can: full marks at 150% of the baseline's, i.e. 1.07M EUR
        (the baseline: 712k EUR)``.

        Args:
            baseline: The baseline's mean of the KPI, if known.
            currency: The currency of money KPIs.
        """
        way = "as high" if self.direction == "higher" else "as low"
        text = f"{kpi_words(self.kpi)} {way} as you can: full marks at "
        if not self.relative:
            return text + fmt_value(self.kpi, self.excellent, currency)
        text += f"{self.excellent * 100:g}% of the baseline's"
        if baseline is None or not math.isfinite(baseline):
            return text
        return (f"{text}, i.e. {fmt_value(self.kpi, self.excellent_value(baseline), currency)} "
                f"(the baseline: {fmt_value(self.kpi, baseline, currency)})")

    def excellent_value(self, baseline: float) -> float:
        """The excellent value in the KPI's unit, given the baseline's mean."""
        return self.excellent * baseline if self.relative else self.excellent

    def share(self, value: float, baseline: float) -> float:
        """How far from the baseline (0) to excellent (1) a mean got, clipped to [0, 1].

        Raises:
            ValueError: If the excellent value is not better than the baseline's.
        """
        target = self.excellent_value(baseline)
        gain = target - baseline if self.direction == "higher" else baseline - target
        if not gain > 0:
            raise ValueError(f"the exercise's excellent {self.kpi} ({target:,.4g}) is not "
                             f"better than the baseline's ({baseline:,.4g}); the trainer "
                             "should raise it")
        got = value - baseline if self.direction == "higher" else baseline - value
        return min(1.0, max(0.0, got / gain)) if math.isfinite(got) else 0.0


class ObjectiveError(ValueError):
    """An objective that cannot be scored.

    Attributes:
        part: ``kpi`` or ``excellent``: which part of the goal is wrong.
    """

    def __init__(self, part: str, message: str) -> None:
        self.part = part
        super().__init__(message)
