"""`ExpertSettings`: the tunables an expert reads, typed and validated."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field

from strategy.factors.settings import FactorSettings
from strategy.parameters import current_values, validate_values

__all__ = ["ExpertSettings"]


class ExpertSettings(BaseModel):
    """Factor settings plus the LLM blending weight and retry budget."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    factors: FactorSettings
    factor_weight: float = Field(ge=0, le=1, description="factor share of the blend (0.4)")
    llm_max_retries: int = Field(ge=0, description="extra requests after an invalid answer")

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> ExpertSettings:
        """Read the expert tunables out of ``params`` (missing names: tunables.py values)."""
        p = validate_values({**current_values(), **params})
        return cls(factors=FactorSettings.from_params(p),
                   factor_weight=float(p["FACTOR_WEIGHT"]),
                   llm_max_retries=int(p["LLM_MAX_RETRIES"]))

    @classmethod
    def default(cls) -> ExpertSettings:
        return cls.from_params({})
