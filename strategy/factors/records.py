"""Records the factor scorers produce: per-factor exposures and per-asset scores.

Sign convention everywhere: a positive exposure, composite or expected alpha means the
factor finds the asset *attractive* (for example a cheap valuation, a positive trend or a
low crash risk), whatever the raw field's own direction.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ClassFactorScores", "FactorExposure", "FactorScore", "FactorSignal", "Normalisation"]

FactorSignal = Literal["STRONG_BUY", "BUY", "HOLD", "SELL", "STRONG_SELL"]
Normalisation = Literal["zscore", "rank"]

_RECORD = ConfigDict(frozen=True, extra="forbid")


class FactorExposure(BaseModel):
    """One factor across the assets of a class: inputs, both normalisations and the blend.

    Every mapping is keyed by symbol; an asset the factor does not cover is left out.
    """

    model_config = _RECORD

    factor: str
    source: str = Field(description="data behind it: field names, 'price', or a proxy")
    weight: float = Field(ge=0, description="the factor's configured relative weight")
    raw: dict[str, float | None] = Field(description="the input in its own units")
    cross_section: dict[str, float] = Field(description="normalised rank within the class")
    time_series: dict[str, float | None] = Field(
        description="against the asset's own history or risk (None: not defined)")
    exposure: dict[str, float] = Field(description="the blend of both, clipped to [-3, 3]")


class FactorScore(BaseModel):
    """All factors of one asset combined into a signal."""

    model_config = _RECORD

    symbol: str
    asset_class: str
    exposures: dict[str, float] = Field(description="factor -> blended exposure")
    weights: dict[str, float] = Field(description="factor -> share in the composite")
    composite: float = Field(description="weighted mean exposure (z-score units)")
    composite_score: float = Field(ge=0, le=1, description="normal CDF of composite; 0.5 = none")
    signal: FactorSignal
    confidence: float = Field(ge=0, le=1, description="conviction: 2 * |composite_score - 0.5|")
    expected_alpha: float = Field(
        description="annualised: information coefficient * volatility * composite")
    volatility: float = Field(ge=0, description="annualised realised volatility")


class ClassFactorScores(BaseModel):
    """A scorer's answer for one asset class on one date."""

    model_config = _RECORD

    asset_class: str
    as_of: str
    normalisation: Normalisation = Field(
        description="cross-sectional z-scores, or normal scores of ranks for small classes")
    scores: dict[str, FactorScore]
    factors: dict[str, FactorExposure] = Field(description="per-factor detail, by factor")
    factors_used: tuple[str, ...]
    factors_missing: dict[str, str] = Field(description="factor -> why it was left out")

    def composite(self, symbol: str) -> float:
        return self.scores[symbol].composite
