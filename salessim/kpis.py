"""The KPI vocabulary shared by comparisons and sweeps: which way is better, conditions.

A condition such as ``"cycle_time_p90_days <= 40"`` is parsed by a regular expression
into (KPI, operator, number); it is never evaluated as code.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from salessim.scenario.errors import unknown

HIGHER_IS_BETTER = frozenset({
    "won", "conversion_rate", "revenue", "collected", "collection_rate", "profit",
    "on_time_delivery_rate", "satisfaction_mean", "repurchase_rate", "net_revenue_retention",
    "customer_lifetime_value", "referral_leads", "repeat_revenue",
    "collected_within_terms_rate", "target_attainment_mean", "at_target_share",
    "price_realisation",
})
LOWER_IS_BETTER = frozenset({
    "lost", "open", "cycle_time_mean_days", "cycle_time_p50_days", "cycle_time_p90_days",
    "response_time_mean_days", "cost", "cost_per_won", "full_book_share", "complaint_rate",
    "churn_rate_per_year", "service_wait_mean_days", "days_sales_outstanding",
    "cost_of_sales_share", "approval_wait_mean_days", "period_end_close_share",
    "forecast_mape_pct", "cleared_deals",
})

Direction = Literal["higher", "lower"]


def better(kpi: str) -> Direction | None:
    """Which way a KPI improves: ``"higher"``, ``"lower"``, or None (utilisation, leads).

    Utilisation has no better direction: too low wastes salaries, too high makes queues.
    """
    if kpi in HIGHER_IS_BETTER:
        return "higher"
    if kpi in LOWER_IS_BETTER:
        return "lower"
    return None


def direction_of(kpi: str, known: Sequence[str]) -> Direction:
    """``better(kpi)``, or a ValueError naming the KPIs that have a direction.

    Args:
        kpi: The KPI to rank by.
        known: The KPIs of the results at hand.
    """
    check_kpi(kpi, known)
    way = better(kpi)
    if way is None:
        ranked = [k for k in known if better(k) is not None]
        raise ValueError(f"{kpi!r} has no better direction (more is not simply better or "
                         f"worse); rank by one of: {', '.join(ranked)}")
    return way


def check_kpi(kpi: str, known: Sequence[str]) -> None:
    """Raise a ValueError unless ``kpi`` is one of ``known``, with a did-you-mean."""
    if kpi not in known:
        raise ValueError(unknown("KPI", kpi, list(known), "KPIs are"))


_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt,
    "==": operator.eq,
}
_CONDITION = re.compile(
    r"^\s*(?P<kpi>[A-Za-z_][A-Za-z0-9_]*)\s*(?P<op><=|>=|==|<|>)\s*"
    r"(?P<value>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(?P<percent>%)?\s*$"
)


@dataclass(frozen=True)
class Condition:
    """A bound on a KPI's mean, e.g. ``cycle_time_p90_days <= 40``.

    Attributes:
        kpi: KPI name.
        op: One of ``<=``, ``>=``, ``<``, ``>``, ``==``.
        value: The bound, in the KPI's unit (a share for rates: ``25%`` is 0.25).
    """

    kpi: str
    op: str
    value: float

    @classmethod
    def parse(cls, text: str, known: Sequence[str]) -> Condition:
        """Read ``"KPI OP NUMBER"`` (``%`` after the number divides it by 100).

        Raises:
            ValueError: If the text is not of that form or names an unknown KPI.
        """
        match = _CONDITION.match(text)
        if match is None:
            raise ValueError(f"cannot read the condition {text!r}; write it as KPI OPERATOR "
                             "NUMBER, e.g. 'cycle_time_p90_days <= 40' or "
                             "'conversion_rate >= 25%' (operators: <=, >=, <, >, ==)")
        check_kpi(match["kpi"], known)
        value = float(match["value"]) / (100.0 if match["percent"] else 1.0)
        return cls(match["kpi"], match["op"], value)

    def holds(self, value: float) -> bool:
        """Whether a KPI value meets the bound (NaN never does)."""
        return bool(_OPERATORS[self.op](value, self.value))

    def __str__(self) -> str:
        return f"{self.kpi} {self.op} {self.value:g}"
