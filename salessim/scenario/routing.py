"""Who serves a lead: the routing rule of ``Team``, as one function of scenario data.

For a role and a lead's region, product (or bundle) and segment, the serving teams are:

* the team with the highest priority among those with reps of the role that cover the
  region, the segment and every product the lead buys;
* failing one, for each product of a bundle, the highest-priority team covering that
  product: they work the lead together (two product specialists visit one customer).

Regional, product, customer and hybrid structures are all this one rule applied to
different coverage lists. The loader uses it to refuse ties and uncovered leads; the
model uses it to build its routing table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the schema validates routing with this module: no import at run time
    from salessim.scenario.schema import Scenario, Team


@dataclass(frozen=True)
class RoutingProblem:
    """Why a lead cannot be routed for a role.

    Attributes:
        kind: ``"uncovered"`` (no team) or ``"tie"`` (several with the same priority).
        product: The product no team covers, or for which the tie arises.
        teams: The tied teams (empty when uncovered).
    """

    kind: str
    product: str
    teams: tuple[str, ...] = ()


def serving_teams(sc: Scenario, role: str, region: str, product: str, segment: str
                  ) -> tuple[Team, ...] | RoutingProblem:
    """The teams that serve a lead for ``role``, in the order of the bundle's products."""
    staffed = [t for t in sc.teams if t.staffed(role)]
    whole = _best(staffed, region, sc.components(product), segment, product)
    if not isinstance(whole, RoutingProblem) or whole.kind == "tie":
        return whole if isinstance(whole, RoutingProblem) else (whole,)
    teams: list[Team] = []
    for part in sc.components(product):
        best = _best(staffed, region, (part,), segment, part)
        if isinstance(best, RoutingProblem):
            return best
        if best not in teams:
            teams.append(best)
    return tuple(teams)


def _best(teams: Sequence[Team], region: str, products: tuple[str, ...], segment: str,
          label: str) -> Team | RoutingProblem:
    covering = [t for t in teams if t.covers(region, products, segment)]
    if not covering:
        return RoutingProblem("uncovered", label)
    top = max(t.priority for t in covering)
    tied = [t for t in covering if t.priority == top]
    if len(tied) > 1:
        return RoutingProblem("tie", label, tuple(t.name for t in tied))
    return tied[0]


def joins(attrs: Mapping[Any, str], when: Mapping[Any, tuple[str, ...]]) -> bool:
    """Whether joint work with filter ``when`` applies to a lead with these attributes."""
    return all(attrs[a] in values for a, values in when.items())
