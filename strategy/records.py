"""Decision records: what each FinSage manager decided and why (spec section 4.1).

Every record is a pydantic model that survives ``model_dump(mode="json")`` and
``model_validate`` unchanged, so the engine can hand the whole decision chain to the
harness as the ``record`` of a :class:`alphaloop.contract.Decision` and attribution can
rebuild it later.

Conventions used throughout:

- weights are fractions of portfolio value; allocations keyed by ticker carry the
  unallocated part under the key ``"cash"``;
- risk figures (VaR, CVaR, drawdown) are *positive* loss fractions, daily unless the
  name says otherwise, matching the harness's metrics;
- ``severity`` follows the Risk-MAS scale: 0 pass, 1 warn, 2 restrict, 3 block.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "CASH",
    "HEDGE_STRATEGIES",
    "SIZING_METHODS",
    "ClassContribution",
    "DiscussionRound",
    "ExpertContribution",
    "Fallback",
    "HedgeCandidate",
    "HedgeInstrument",
    "HedgeRecommendation",
    "HedgeStrategy",
    "HedgingDecision",
    "IndividualDecisions",
    "IntegratedDecision",
    "PortfolioDecision",
    "PositionSizingDecision",
    "Rebalance",
    "RiskAlert",
    "RiskCheck",
    "RiskReport",
    "SizingMethod",
    "TailRiskMetrics",
    "Trade",
]

CASH = "cash"

HedgeStrategy = Literal[
    "put_protection", "collar", "tail_hedge", "dynamic_hedge", "diversification",
    "safe_haven", "none",
]
HEDGE_STRATEGIES: tuple[str, ...] = (
    "put_protection", "collar", "tail_hedge", "dynamic_hedge", "diversification",
    "safe_haven", "none",
)

SizingMethod = Literal["equal_weight", "risk_parity", "volatility_target", "kelly", "max_sharpe"]
SIZING_METHODS: tuple[str, ...] = (
    "equal_weight", "risk_parity", "volatility_target", "kelly", "max_sharpe",
)

Source = Literal["rules", "llm"]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Fallback(_Record):
    """A degraded path the engine took instead of failing: what, why, and what it did."""

    component: str
    reason: str
    action: str


class Trade(_Record):
    """One change of weight from the current (drifted) portfolio to the target."""

    ticker: str
    asset_class: str
    current_weight: float
    target_weight: float
    delta: float
    side: Literal["buy", "sell"]


class PortfolioDecision(_Record):
    """The portfolio manager's answer: class budgets and the assets inside them (spec 4.1.1)."""

    timestamp: str
    class_allocation: dict[str, float] = Field(description="asset class -> weight, incl. cash")
    target_allocation: dict[str, float] = Field(description="ticker -> weight, incl. cash")
    trades: list[Trade] = Field(default_factory=list)
    hedging_tool_used: str = Field(description="optimiser used for the largest class")
    tools: dict[str, str] = Field(default_factory=dict, description="class -> optimiser")
    allocation_source: Source = "rules"
    tool_source: Source = "rules"
    volatility_regime: Literal["low", "normal", "high"] = "normal"
    reasoning: str = ""
    risk_metrics: dict[str, float] = Field(default_factory=dict)
    expert_summary: dict[str, str] = Field(default_factory=dict)
    fallbacks: list[Fallback] = Field(default_factory=list)


class PositionSizingDecision(_Record):
    """The position-sizing agent's answer (spec 4.1.2); sizes are ticker weights incl. cash."""

    timestamp: str
    position_sizes: dict[str, float]
    sizing_method: SizingMethod
    source: Source = "rules"
    reasoning: str = ""
    risk_contribution: dict[str, float] = Field(
        default_factory=dict, description="ticker -> share of portfolio variance")
    fallbacks: list[Fallback] = Field(default_factory=list)


class TailRiskMetrics(_Record):
    """Tail risk of a portfolio over the estimation window (positive loss fractions)."""

    vix: float
    vix_level: Literal["low", "moderate", "high", "extreme"]
    var_95: float
    var_99: float
    cvar_95: float
    cvar_99: float
    skewness: float
    kurtosis: float = Field(description="raw kurtosis (3 for a normal distribution)")
    max_drawdown: float
    annual_volatility: float
    n_obs: int


class HedgeCandidate(_Record):
    """One asset of the view scored as a hedge for the current portfolio."""

    ticker: str
    asset_class: str
    correlation: float
    tail_return: float = Field(description="mean return on the portfolio's worst 5% days")
    adv_usd: float
    spread_bps: float
    score: float


class HedgeInstrument(_Record):
    """A hedge position the integration step adds (weight is a fraction of the portfolio)."""

    ticker: str
    asset_class: str
    weight: float
    correlation: float
    cost_bps: float
    role: str


class HedgeRecommendation(_Record):
    """The dynamic hedge selector's output: the scored candidates and the chosen basket."""

    strategy: HedgeStrategy
    hedge_ratio: float
    tool: str
    candidates: list[HedgeCandidate] = Field(default_factory=list)
    selected: list[HedgeInstrument] = Field(default_factory=list)
    reasoning: str = ""


class HedgingDecision(_Record):
    """The hedging agent's answer (spec 4.1.3)."""

    timestamp: str
    hedging_strategy: HedgeStrategy
    hedge_ratio: float
    hedge_instruments: list[HedgeInstrument] = Field(default_factory=list)
    expected_cost: float = Field(description="one-off cost of the hedge trades, fraction")
    expected_protection: float = Field(description="relative reduction of daily CVaR 95%")
    source: Source = "rules"
    reasoning: str = ""
    tail_risk_metrics: TailRiskMetrics
    dynamic_recommendation: HedgeRecommendation | None = None
    fallbacks: list[Fallback] = Field(default_factory=list)


class RiskCheck(_Record):
    """One rule of the risk controller, before and after its adjustment."""

    name: str
    kind: Literal["hard", "soft"]
    limit: float
    before: float
    after: float
    status: Literal["ok", "adjusted", "warning", "derisked"]
    message: str = ""


class RiskAlert(_Record):
    """A message for the alert observers (intraday monitoring and rule breaches)."""

    as_of: str
    code: str
    severity: int = Field(ge=0, le=3)
    message: str
    value: float | None = None
    limit: float | None = None


class RiskReport(_Record):
    """What the risk controller checked and changed on one decision."""

    checks: list[RiskCheck] = Field(default_factory=list)
    alerts: list[RiskAlert] = Field(default_factory=list)
    severity: int = Field(default=0, ge=0, le=3)
    derisked: bool = False
    drawdown: float = 0.0
    metrics_before: dict[str, float] = Field(default_factory=dict)
    metrics_after: dict[str, float] = Field(default_factory=dict)
    fallbacks: list[Fallback] = Field(default_factory=list)


class DiscussionRound(_Record):
    """One phase-2 round of the coordinator: how far sizing and hedging moved."""

    round: int
    sizing_method: str
    sizing_change: float
    hedging_strategy: str
    hedge_ratio: float
    hedge_change: float
    consensus: bool


class IndividualDecisions(_Record):
    """The three managers' last decisions before integration.

    The portfolio manager's trades are left out here: the integrated decision lists the
    trades once, for the final target.
    """

    portfolio_manager: PortfolioDecision
    position_sizing: PositionSizingDecision
    hedging: HedgingDecision
    rounds: list[DiscussionRound] = Field(default_factory=list)


class ClassContribution(_Record):
    """How one asset class moved through the chain, for attribution."""

    asset_class: str
    default_weight: float
    pm_weight: float
    integrated_weight: float
    final_weight: float
    n_assets: int
    tool: str


class ExpertContribution(_Record):
    """What one expert said and how much class weight it moved away from the default."""

    expert: str
    asset_class: str
    overall_view: str
    confidence: float
    class_tilt: float
    top_picks: list[str] = Field(default_factory=list)
    source: str = "factors"


class Rebalance(_Record):
    """Whether the engine traded to its target or kept the holdings (spec 2.3)."""

    traded: bool = True
    largest_move: float = 0.0
    threshold: float = 0.0
    reason: str = ""


class IntegratedDecision(_Record):
    """The coordinator's integrated decision (spec 4.1.4), completed by the risk controller."""

    timestamp: str
    profile: str = "default"
    target_allocation: dict[str, float] = Field(description="final ticker weights incl. cash")
    class_allocation: dict[str, float] = Field(default_factory=dict)
    pre_risk_allocation: dict[str, float] = Field(default_factory=dict)
    position_sizes: dict[str, float] = Field(default_factory=dict)
    hedging_strategy: HedgeStrategy = "none"
    hedge_ratio: float = 0.0
    hedge_instruments: list[HedgeInstrument] = Field(default_factory=list)
    trades: list[Trade] = Field(default_factory=list)
    risk_metrics: dict[str, float] = Field(default_factory=dict)
    tail_risk_metrics: TailRiskMetrics
    discussion_rounds: int = 0
    consensus_reached: bool = False
    individual_decisions: IndividualDecisions
    final_reasoning: str = ""
    class_contributions: list[ClassContribution] = Field(default_factory=list)
    expert_contributions: list[ExpertContribution] = Field(default_factory=list)
    factor_exposures: dict[str, float] = Field(default_factory=dict)
    excluded_assets: dict[str, str] = Field(default_factory=dict)
    fallbacks: list[Fallback] = Field(default_factory=list)
    risk_report: RiskReport | None = None
    rebalance: Rebalance | None = None
