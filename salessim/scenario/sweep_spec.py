"""A sweep file: which values of a base scenario to vary, as data.

```yaml
grid:                                   # every combination is a point
  teams.north.ae.headcount: [3, 4, 5, 6]
  stages.contract.effort_hours.value: [2, 8]
```
or
```yaml
changes:                                # named change sets, one point each
  pre-review: {stages.contract.customer_delay_days: {dist: gamma, mean: 2, sd: 1}}
  one-more-se: {teams.solutions.se.headcount: 8}
```
Key paths and values are checked against the base scenario when the sweep starts
(``salessim.sweep``), before anything runs.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from salessim.scenario.errors import KeyPathError, validate_document

KeyPath = Annotated[str, Field(min_length=1, max_length=200)]


class SweepSpec(BaseModel):
    """What a sweep varies: exactly one of ``grid`` and ``changes``.

    Attributes:
        grid: Key path -> the values it takes; every combination is a point.
        changes: Name -> change set (key path -> value); each set is a point.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    grid: dict[KeyPath, Annotated[list[Any], Field(min_length=1)]] | None = Field(
        default=None, min_length=1)
    changes: dict[KeyPath, Annotated[dict[KeyPath, Any], Field(min_length=1)]] | None = Field(
        default=None, min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _given_empty(cls, data: Any) -> Any:
        if isinstance(data, dict):
            empty = [key for key in ("grid", "changes") if key in data and data[key] is None]
            if empty:
                raise KeyPathError([(key, "must be a mapping of key path -> list of values "
                                          "(grid) or of name -> changes (changes); got "
                                          "nothing (the value is empty)") for key in empty])
        return data

    @model_validator(mode="after")
    def _one_kind(self) -> SweepSpec:
        if (self.grid is None) == (self.changes is None):
            raise KeyPathError([("", "give either grid (key path -> list of values) or "
                                     "changes (name -> key path -> value), not both and "
                                     "not neither")])
        return self

    @classmethod
    def from_document(cls, document: Any, source: str) -> SweepSpec:
        """Validate the plain data of a sweep file.

        Raises:
            ScenarioError: Naming ``source``, the key path and what is allowed.
        """
        return validate_document(cls, document, source, (
            "a sweep file is a mapping with the key grid (key path -> list of values) "
            "or changes (name -> key path -> value)"))
