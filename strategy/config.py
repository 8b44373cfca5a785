"""FinSage configuration: one validated tree and three named profiles (spec section 2).

``FinSageConfig`` holds five sections and the tunables::

    FinSageConfig
    ├── llm      LLMConfig      whether and which model the experts ask (no credentials)
    ├── trading  TradingConfig  capital, costs, rebalance frequency and threshold
    ├── risk     RiskConfig     hard limits (veto) and soft limits (warning)
    ├── assets   AssetConfig    allocation bounds per asset class, default universe
    ├── data     DataConfig     FMP data settings (plain values)
    └── params   dict           every tunable of strategy/tunables.py, by name

``load_profile("default" | "conservative" | "aggressive")`` builds the spec's templates
(section 2.7) with ``params`` read from ``strategy/tunables.py``. Every model forbids
unknown fields, and validation errors name the field and the rule broken.

``trading.rebalance_threshold`` and the tunable ``REBALANCE_THRESHOLD`` are one setting:
when only one is given the other follows it; :meth:`FinSageConfig.with_params` keeps both
in step; giving two different values is an error.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from alphaloop.contract import ASSET_CLASSES
from strategy.parameters import ParameterValue, current_values, validate_values

__all__ = [
    "PROFILES",
    "AssetConfig",
    "ClassBounds",
    "ConfigError",
    "DataConfig",
    "FMPConfig",
    "FMPRateLimit",
    "FinSageConfig",
    "LLMConfig",
    "RiskConfig",
    "TradingConfig",
    "load_profile",
]

PROFILES: tuple[str, ...] = ("default", "conservative", "aggressive")
_STRICT = ConfigDict(frozen=True, extra="forbid")


class ConfigError(ValueError):
    """A configuration or profile name is invalid; the message says which and why."""


class LLMConfig(BaseModel):
    """The model the experts ask when an LLM client is handed in (spec 2.2).

    Credentials never live here: the client is built outside the engine and passed in.
    ``enabled`` asks the run for a client: off (the default), the experts are
    factor-only and the managers follow their rules unless a client is passed to
    :func:`~strategy.factory.create_strategy`; on, the engine says it wants a model
    (``FinSageStrategy.wants_llm``) and the sandbox hands it the harness's, which
    answers from recorded answers and otherwise refuses (the decision records say why).
    """

    model_config = _STRICT

    enabled: bool = Field(default=False, description="ask the run for a model")
    provider: Literal["openai", "anthropic", "local", "offline"] = "openai"
    model: str = Field(default="gpt-4o-mini", min_length=1)
    temperature: float = Field(default=0.7, ge=0.0, le=2.0)
    max_tokens: int = Field(default=2000, gt=0)
    timeout: int = Field(default=60, gt=0, description="seconds")


class TradingConfig(BaseModel):
    """Capital, costs and rebalancing (spec 2.3)."""

    model_config = _STRICT

    initial_capital: float = Field(default=1_000_000.0, gt=0)
    transaction_cost: float = Field(default=0.001, ge=0, lt=0.1, description="commission")
    slippage: float = Field(default=0.0005, ge=0, lt=0.1)
    min_trade_value: float = Field(default=100.0, ge=0)
    rebalance_frequency: Literal["daily", "weekly", "monthly"] = "daily"
    rebalance_threshold: float = Field(default=0.02, ge=0, le=0.2)


class RiskConfig(BaseModel):
    """Hard limits (a breach vetoes) and soft limits (a breach warns), spec 2.4."""

    model_config = _STRICT

    max_single_asset: float = Field(default=0.15, gt=0, le=1)
    max_asset_class: float = Field(default=0.50, gt=0, le=1)
    max_drawdown_trigger: float = Field(default=0.15, gt=0, lt=1)
    max_portfolio_var_95: float = Field(default=0.03, gt=0, lt=1, description="daily loss")
    target_volatility: float = Field(default=0.12, gt=0, le=2, description="annualised")
    max_correlation_cluster: float = Field(default=0.60, gt=0, le=1)
    min_diversification_ratio: float = Field(default=1.2, ge=1)

    @model_validator(mode="after")
    def _single_within_class(self) -> RiskConfig:
        if self.max_single_asset > self.max_asset_class:
            raise ValueError(
                f"risk.max_single_asset ({self.max_single_asset:g}) exceeds "
                f"risk.max_asset_class ({self.max_asset_class:g}); one asset cannot be "
                "allowed more than its whole class")
        return self


class ClassBounds(BaseModel):
    """Allocation range and default weight of one asset class."""

    model_config = _STRICT

    min: float = Field(ge=0, le=1)
    max: float = Field(ge=0, le=1)
    default: float = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _ordered(self) -> ClassBounds:
        if not self.min <= self.default <= self.max:
            raise ValueError(
                f"bounds must satisfy min <= default <= max, got min={self.min:g}, "
                f"default={self.default:g}, max={self.max:g}")
        return self


def _bounds(lo: float, hi: float, default: float) -> ClassBounds:
    return ClassBounds(min=lo, max=hi, default=default)


def _default_bounds() -> dict[str, ClassBounds]:
    return {
        "stocks": _bounds(0.30, 0.50, 0.40),
        "bonds": _bounds(0.15, 0.35, 0.25),
        "commodities": _bounds(0.10, 0.25, 0.15),
        "reits": _bounds(0.05, 0.15, 0.10),
        "crypto": _bounds(0.00, 0.10, 0.05),
        "cash": _bounds(0.02, 0.15, 0.05),
    }


def _default_universe() -> dict[str, tuple[str, ...]]:
    return {
        "stocks": ("SPY", "QQQ", "IWM", "AAPL", "MSFT", "GOOGL", "AMZN", "NVDA"),
        "bonds": ("TLT", "IEF", "SHY", "LQD", "HYG", "AGG"),
        "commodities": ("GLD", "SLV", "USO", "DBA", "COPX"),
        "reits": ("VNQ", "IYR", "DLR", "EQIX"),
        "crypto": ("BTC-USD", "ETH-USD"),
    }


class AssetConfig(BaseModel):
    """Allocation bounds for every asset class (cash included) and the default universe.

    Rules: all six classes of ``alphaloop.contract.ASSET_CLASSES`` have bounds; the mins
    sum to at most 1 and the maxes to at least 1 (so a full allocation exists); the
    defaults sum to 1; each ticker belongs to one class; cash is not a ticker.
    """

    model_config = _STRICT

    allocation_bounds: dict[str, ClassBounds] = Field(default_factory=_default_bounds)
    default_universe: dict[str, tuple[str, ...]] = Field(default_factory=_default_universe)

    @field_validator("allocation_bounds")
    @classmethod
    def _all_classes(cls, value: dict[str, ClassBounds]) -> dict[str, ClassBounds]:
        unknown = sorted(set(value) - set(ASSET_CLASSES))
        missing = [c for c in ASSET_CLASSES if c not in value]
        if unknown or missing:
            raise ValueError(
                f"allocation_bounds must name exactly the classes {', '.join(ASSET_CLASSES)}"
                f" (unknown: {unknown or 'none'}, missing: {missing or 'none'})")
        low = math.fsum(b.min for b in value.values())
        high = math.fsum(b.max for b in value.values())
        default = math.fsum(b.default for b in value.values())
        if low > 1 + 1e-9:
            raise ValueError(f"allocation_bounds mins sum to {low:.4g} > 1: no allocation fits")
        if high < 1 - 1e-9:
            raise ValueError(f"allocation_bounds maxes sum to {high:.4g} < 1: the portfolio "
                             "cannot be fully allocated (raise a max, e.g. cash)")
        if abs(default - 1) > 1e-6:
            raise ValueError(f"allocation_bounds defaults sum to {default:.6g}, expected 1")
        return {c: value[c] for c in ASSET_CLASSES}

    @field_validator("default_universe")
    @classmethod
    def _tickers_once(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        allowed = [c for c in ASSET_CLASSES if c != "cash"]
        unknown = sorted(set(value) - set(allowed))
        if unknown:
            raise ValueError(f"default_universe has unknown classes {unknown}; allowed: "
                             f"{', '.join(allowed)} (cash is not a ticker)")
        seen: dict[str, str] = {}
        for asset_class, tickers in value.items():
            for ticker in tickers:
                if not ticker.strip():
                    raise ValueError(f"default_universe[{asset_class!r}] has an empty ticker")
                if ticker in seen:
                    raise ValueError(f"ticker {ticker!r} is listed under both "
                                     f"{seen[ticker]!r} and {asset_class!r}")
                seen[ticker] = asset_class
        return value

    def bounds(self, asset_class: str) -> ClassBounds:
        try:
            return self.allocation_bounds[asset_class]
        except KeyError:
            raise ConfigError(f"no allocation bounds for class {asset_class!r}; known: "
                              f"{', '.join(self.allocation_bounds)}") from None

    @property
    def asset_class_of(self) -> dict[str, str]:
        """Ticker -> asset class for the default universe."""
        return {t: c for c, tickers in self.default_universe.items() for t in tickers}


class FMPRateLimit(BaseModel):
    model_config = _STRICT

    requests_per_minute: int = Field(default=750, gt=0)
    batch_size: int = Field(default=100, gt=0)
    delay_between_batches: float = Field(default=0.1, ge=0, description="seconds")


def _fmp_endpoints() -> dict[str, str]:
    return {
        "company_screener": "/company-screener",
        "quote": "/quote",
        "batch_quote": "/batch-quote",
        "stock_list": "/stock-list",
        "etf_list": "/etf-list",
        "profile": "/profile",
        "cryptocurrency_list": "/cryptocurrency-list",
        "commodities_list": "/commodities-list",
        "income_statement": "/income-statement",
        "balance_sheet": "/balance-sheet-statement",
        "cash_flow": "/cash-flow-statement",
        "key_metrics_ttm": "/key-metrics-ttm",
        "ratios_ttm": "/ratios-ttm",
        "financial_scores": "/financial-scores",
        "historical_price": "/historical-price-eod/full",
        "stock_news": "/stock-news",
    }


class FMPConfig(BaseModel):
    """Financial Modeling Prep settings (spec 2.6), as plain values; the key lives outside."""

    model_config = _STRICT

    base_url: str = "https://financialmodelingprep.com/stable"
    tier: str = "ultra"
    endpoints: dict[str, str] = Field(default_factory=_fmp_endpoints)
    rate_limit: FMPRateLimit = Field(default_factory=FMPRateLimit)

    @field_validator("endpoints")
    @classmethod
    def _paths(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [k for k, v in value.items() if not v.startswith("/")]
        if bad:
            raise ValueError(f"endpoint paths must start with '/': {bad}")
        return value


class DataConfig(BaseModel):
    model_config = _STRICT

    fmp: FMPConfig = Field(default_factory=FMPConfig)
    cache_ttl_hours: int = Field(default=24, gt=0)


class FinSageConfig(BaseModel):
    """The whole engine configuration (spec 2.1) plus the tunables in ``params``."""

    model_config = _STRICT

    llm: LLMConfig = Field(default_factory=LLMConfig)
    trading: TradingConfig = Field(default_factory=TradingConfig)
    risk: RiskConfig = Field(default_factory=RiskConfig)
    assets: AssetConfig = Field(default_factory=AssetConfig)
    data: DataConfig = Field(default_factory=DataConfig)
    params: dict[str, ParameterValue] = Field(default_factory=current_values)

    @field_validator("params", mode="before")
    @classmethod
    def _complete_params(cls, value: Any) -> Any:
        if not isinstance(value, Mapping):
            return value
        return validate_values({**current_values(), **value}, complete=True)

    @model_validator(mode="before")
    @classmethod
    def _one_rebalance_threshold(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        data = dict(data)
        params = data.get("params")
        trading = data.get("trading")
        from_params = params.get("REBALANCE_THRESHOLD") if isinstance(params, Mapping) else None
        if isinstance(trading, TradingConfig):
            from_trading = (trading.rebalance_threshold
                            if "rebalance_threshold" in trading.model_fields_set else None)
        elif isinstance(trading, Mapping):
            from_trading = trading.get("rebalance_threshold")
        else:
            from_trading = None
        if from_params is not None and from_trading is not None:
            if float(from_params) != float(from_trading):
                raise ConfigError(
                    f"trading.rebalance_threshold ({from_trading}) differs from params "
                    f"REBALANCE_THRESHOLD ({from_params}); they are one setting: give one, "
                    "or use FinSageConfig.with_params(REBALANCE_THRESHOLD=...)")
        elif from_trading is not None:
            data["params"] = {**(params or {}), "REBALANCE_THRESHOLD": from_trading}
        else:
            threshold = from_params if from_params is not None else (
                current_values()["REBALANCE_THRESHOLD"])
            base = trading if isinstance(trading, TradingConfig) else TradingConfig.model_validate(
                trading or {})
            data["trading"] = base.model_copy(update={"rebalance_threshold": float(threshold)})
        return data

    def param(self, name: str) -> ParameterValue:
        """One tunable's value; raises :class:`ConfigError` naming unknown tunables."""
        try:
            return self.params[name]
        except KeyError:
            raise ConfigError(f"unknown tunable {name!r}; see strategy/parameters.py") from None

    def with_params(self, **values: object) -> FinSageConfig:
        """A copy with some tunables changed (validated; trading mirrors the threshold)."""
        checked = validate_values(values)
        params = {**self.params, **checked}
        trading = self.trading.model_copy(
            update={"rebalance_threshold": float(params["REBALANCE_THRESHOLD"])})
        return FinSageConfig.model_validate(
            {**self.model_dump(exclude={"params", "trading"}), "params": params,
             "trading": trading.model_dump()})


def _conservative() -> dict[str, Any]:
    return {
        "risk": {"max_single_asset": 0.10, "max_asset_class": 0.40, "target_volatility": 0.08},
        "assets": {"allocation_bounds": {
            "stocks": {"min": 0.20, "max": 0.40, "default": 0.30},
            "bonds": {"min": 0.30, "max": 0.50, "default": 0.40},
            "commodities": {"min": 0.05, "max": 0.15, "default": 0.10},
            "reits": {"min": 0.05, "max": 0.10, "default": 0.08},
            "crypto": {"min": 0.00, "max": 0.02, "default": 0.02},
            "cash": {"min": 0.05, "max": 0.20, "default": 0.10},
        }},
    }


def _aggressive() -> dict[str, Any]:
    return {
        "risk": {"max_single_asset": 0.20, "max_asset_class": 0.60, "target_volatility": 0.18},
        "assets": {"allocation_bounds": {
            "stocks": {"min": 0.40, "max": 0.70, "default": 0.55},
            "bonds": {"min": 0.05, "max": 0.20, "default": 0.10},
            "commodities": {"min": 0.10, "max": 0.25, "default": 0.15},
            "reits": {"min": 0.05, "max": 0.15, "default": 0.10},
            "crypto": {"min": 0.00, "max": 0.15, "default": 0.07},
            "cash": {"min": 0.00, "max": 0.05, "default": 0.03},
        }},
    }


def load_profile(name: str = "default", *, params: Mapping[str, object] | None = None
                 ) -> FinSageConfig:
    """The spec's ``default``, ``conservative`` or ``aggressive`` configuration.

    ``params`` come from ``strategy/tunables.py``; ``params=`` overrides some of them.
    """
    builders = {"default": dict, "conservative": _conservative, "aggressive": _aggressive}
    builder = builders.get(name)
    if builder is None:
        raise ConfigError(f"unknown profile {name!r}; choose one of {', '.join(PROFILES)}")
    data: dict[str, Any] = builder()
    data["params"] = {**current_values(), **validate_values(params or {})}
    return FinSageConfig.model_validate(data)
