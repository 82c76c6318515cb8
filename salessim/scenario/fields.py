"""The field types every scenario model shares: frozen strict models and checked numbers."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from salessim.scenario.limits import MAX_AMOUNT


class Frozen(BaseModel):
    """A validated, immutable part of a scenario: unknown keys refused, no coercion."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, strict=True)


Probability = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
NonNegative = Annotated[float, Field(ge=0.0, le=MAX_AMOUNT, allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0.0, le=MAX_AMOUNT, allow_inf_nan=False)]
Logit = Annotated[float, Field(ge=-20.0, le=20.0, allow_inf_nan=False)]
Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z][A-Za-z0-9_\-]*$")]
Scale = Annotated[float, Field(gt=0.0, le=1000.0, allow_inf_nan=False)]
"""A factor on a duration (1: as it is; 2: twice as long)."""
