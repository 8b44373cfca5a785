"""What an expert hands the managers: per-asset recommendations and a class report
(spec 3.1.2, 3.1.3 and 5.2)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from strategy.experts.actions import Action
from strategy.factors.records import FactorScore, FactorSignal

__all__ = ["AnalysisMode", "ExpertRecommendation", "ExpertReport", "OverallView"]

OverallView = Literal["bullish", "bearish", "neutral"]
AnalysisMode = Literal["factor", "llm+factor", "factor (llm fallback)"]

_RECORD = ConfigDict(frozen=True, extra="forbid")


class ExpertRecommendation(BaseModel):
    """One asset's recommendation, with the factor evidence behind it."""

    model_config = _RECORD

    asset_class: str
    symbol: str
    action: Action
    confidence: float = Field(ge=0, le=1)
    target_weight: float = Field(ge=0, le=1, description="share of the class's allocation")
    current_weight: float = Field(default=0.0, description="portfolio weight before deciding")
    reasoning: str = ""
    market_view: dict[str, Any] = Field(default_factory=dict)
    risk_assessment: dict[str, float] = Field(default_factory=dict)
    factor_score: FactorScore | None = None
    factor_signal: FactorSignal | None = None
    factor_alpha: float | None = Field(default=None, description="expected alpha, annualised")

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class ExpertReport(BaseModel):
    """An expert's full answer for its asset class on one date."""

    model_config = _RECORD

    expert_name: str
    asset_class: str
    timestamp: str = Field(description="the decision date (the view's as_of), ISO format")
    recommendations: list[ExpertRecommendation]
    overall_view: OverallView
    sector_allocation: dict[str, float] = Field(description="symbol -> share of the class")
    key_factors: list[str]
    confidence: float = Field(ge=0, le=1, description="mean confidence behind the view")
    net_signal: float = Field(ge=-1, le=1,
                              description="mean of confidence * weight adjustment")
    mode: AnalysisMode
    factors_used: tuple[str, ...] = ()
    factors_missing: dict[str, str] = Field(default_factory=dict)
    symbols_missing: tuple[str, ...] = Field(
        default=(), description="configured symbols the data does not hold")
    llm_attempts: int = Field(default=0, ge=0)
    llm_error: str | None = None
    llm_overall_view: OverallView | None = None

    def recommendation(self, symbol: str) -> ExpertRecommendation:
        for rec in self.recommendations:
            if rec.symbol == symbol:
                return rec
        raise KeyError(f"{self.expert_name} has no recommendation for {symbol!r}")

    def top_picks(self, n: int = 3) -> list[str]:
        """Symbols with the largest target weight (ties: higher confidence first)."""
        ranked = sorted(self.recommendations,
                        key=lambda r: (-r.target_weight, -r.confidence, r.symbol))
        return [r.symbol for r in ranked[:n]]

    def summary(self) -> dict[str, Any]:
        """A compact JSON-able record of the report (for decision records and prompts)."""
        return {
            "view": self.overall_view,
            "confidence": round(self.confidence, 4),
            "net_signal": round(self.net_signal, 4),
            "mode": self.mode,
            "actions": {r.symbol: r.action.value for r in self.recommendations},
            "weights": {k: round(v, 4) for k, v in self.sector_allocation.items()},
            "composite": {r.symbol: round(r.factor_score.composite, 4)
                          for r in self.recommendations if r.factor_score is not None},
            "factors_used": list(self.factors_used),
            **({"llm_error": self.llm_error} if self.llm_error else {}),
        }
