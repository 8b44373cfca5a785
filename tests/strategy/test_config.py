"""FinSage configuration, profiles, tunables and the parameter space."""

from __future__ import annotations

import ast
import inspect
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from alphaloop.contract import ASSET_CLASSES
from strategy import parameters, tunables
from strategy.config import (
    PROFILES,
    AssetConfig,
    ClassBounds,
    ConfigError,
    FinSageConfig,
    LLMConfig,
    RiskConfig,
    load_profile,
)
from strategy.parameters import (
    PARAMETER_SPACE,
    ParameterError,
    ParameterSpec,
    current_values,
    validate_values,
)

STRATEGY = Path(parameters.__file__).resolve().parent
MY_MODULES = [STRATEGY / "config.py", STRATEGY / "parameters.py", STRATEGY / "tunables.py",
              *sorted((STRATEGY / "experts").glob("*.py")),
              *sorted((STRATEGY / "factors").glob("*.py"))]


# -- profiles -----------------------------------------------------------------------------

def test_default_profile_has_the_spec_values() -> None:
    config = load_profile()
    assert config.llm == LLMConfig(provider="openai", model="gpt-4o-mini", temperature=0.7,
                                   max_tokens=2000, timeout=60)
    t = config.trading
    assert (t.initial_capital, t.transaction_cost, t.slippage, t.min_trade_value,
            t.rebalance_frequency) == (1_000_000.0, 0.001, 0.0005, 100.0, "daily")
    r = config.risk
    assert (r.max_single_asset, r.max_asset_class, r.max_drawdown_trigger,
            r.max_portfolio_var_95) == (0.15, 0.50, 0.15, 0.03)
    assert (r.target_volatility, r.max_correlation_cluster,
            r.min_diversification_ratio) == (0.12, 0.60, 1.2)
    bounds = {c: (b.min, b.max, b.default) for c, b in config.assets.allocation_bounds.items()}
    assert bounds == {"stocks": (0.30, 0.50, 0.40), "bonds": (0.15, 0.35, 0.25),
                      "commodities": (0.10, 0.25, 0.15), "reits": (0.05, 0.15, 0.10),
                      "crypto": (0.00, 0.10, 0.05), "cash": (0.02, 0.15, 0.05)}
    assert config.assets.default_universe["crypto"] == ("BTC-USD", "ETH-USD")
    assert sum(len(v) for v in config.assets.default_universe.values()) == 25
    assert config.data.fmp.rate_limit.requests_per_minute == 750
    assert config.data.fmp.endpoints["historical_price"] == "/historical-price-eod/full"


def test_conservative_and_aggressive_profiles_follow_the_spec() -> None:
    conservative, aggressive = load_profile("conservative"), load_profile("aggressive")
    assert (conservative.risk.max_single_asset, conservative.risk.max_asset_class,
            conservative.risk.target_volatility) == (0.10, 0.40, 0.08)
    assert conservative.assets.bounds("bonds") == ClassBounds(min=0.30, max=0.50, default=0.40)
    assert conservative.assets.bounds("crypto").max == 0.02
    assert (aggressive.risk.max_single_asset, aggressive.risk.max_asset_class,
            aggressive.risk.target_volatility) == (0.20, 0.60, 0.18)
    assert aggressive.assets.bounds("stocks") == ClassBounds(min=0.40, max=0.70, default=0.55)
    assert aggressive.assets.bounds("cash") == ClassBounds(min=0.0, max=0.05, default=0.03)
    for name in PROFILES:  # untouched sections stay at the defaults
        assert load_profile(name).llm == LLMConfig()


def test_unknown_profile_names_the_choices() -> None:
    with pytest.raises(ConfigError, match="default, conservative, aggressive"):
        load_profile("yolo")


def test_profiles_read_the_tunables_and_accept_overrides() -> None:
    assert load_profile().params == current_values()
    config = load_profile("aggressive", params={"FACTOR_WEIGHT": 0.25})
    assert config.param("FACTOR_WEIGHT") == 0.25
    assert config.param("MOMENTUM_LOOKBACK_DAYS") == tunables.MOMENTUM_LOOKBACK_DAYS
    with pytest.raises(ParameterError, match="outside its range"):
        load_profile(params={"FACTOR_WEIGHT": 1.5})
    with pytest.raises(ConfigError, match="unknown tunable"):
        config.param("NOPE")


def test_config_round_trips_through_json() -> None:
    for name in PROFILES:
        config = load_profile(name)
        assert FinSageConfig.model_validate_json(config.model_dump_json()) == config


# -- validation ---------------------------------------------------------------------------

def _bounds(**changes: tuple[float, float, float]) -> dict[str, dict[str, float]]:
    base = {c: {"min": b.min, "max": b.max, "default": b.default}
            for c, b in AssetConfig().allocation_bounds.items()}
    for c, (lo, hi, d) in changes.items():
        base[c] = {"min": lo, "max": hi, "default": d}
    return base


@pytest.mark.parametrize(("bounds", "message"), [
    (_bounds(stocks=(0.5, 0.4, 0.45)), "min <= default <= max"),
    (_bounds(stocks=(0.6, 0.7, 0.65), bonds=(0.3, 0.35, 0.3)), "mins sum to"),
    (_bounds(cash=(0.0, 0.0, 0.0), stocks=(0.3, 0.3, 0.3), bonds=(0.15, 0.2, 0.2),
             commodities=(0.1, 0.1, 0.1), reits=(0.05, 0.1, 0.1)), "maxes sum to"),
    (_bounds(stocks=(0.30, 0.50, 0.45)), "defaults sum to"),
])
def test_class_bounds_are_checked(bounds: dict[str, dict[str, float]], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        AssetConfig(allocation_bounds=bounds)


def test_allocation_bounds_must_name_every_class_exactly() -> None:
    missing = _bounds()
    del missing["cash"]
    with pytest.raises(ValidationError, match="missing: \\['cash'\\]"):
        AssetConfig(allocation_bounds=missing)
    with pytest.raises(ValidationError, match="unknown: \\['gold'\\]"):
        AssetConfig(allocation_bounds={**_bounds(), "gold": {"min": 0, "max": 0, "default": 0}})
    assert tuple(AssetConfig().allocation_bounds) == ASSET_CLASSES


def test_universe_tickers_belong_to_one_class_and_cash_is_not_a_ticker() -> None:
    with pytest.raises(ValidationError, match="'SPY' is listed under both"):
        AssetConfig(default_universe={"stocks": ("SPY",), "bonds": ("SPY",)})
    with pytest.raises(ValidationError, match="cash is not a ticker"):
        AssetConfig(default_universe={"cash": ("USD",)})
    assert AssetConfig().asset_class_of["GLD"] == "commodities"


def test_risk_limits_are_consistent_and_no_credentials_are_accepted() -> None:
    with pytest.raises(ValidationError, match="max_single_asset"):
        RiskConfig(max_single_asset=0.6, max_asset_class=0.5)
    with pytest.raises(ValidationError, match="api_key"):
        LLMConfig.model_validate({"api_key": "sk-123"})
    with pytest.raises(ValidationError, match="extra"):
        FinSageConfig.model_validate({"data": {"fmp": {"api_key": "x"}}})


def test_rebalance_threshold_is_one_setting() -> None:
    config = load_profile()
    moved = config.with_params(REBALANCE_THRESHOLD=0.05)
    assert moved.trading.rebalance_threshold == 0.05 == moved.param("REBALANCE_THRESHOLD")
    from_trading = FinSageConfig(trading={"rebalance_threshold": 0.03})
    assert from_trading.param("REBALANCE_THRESHOLD") == 0.03
    from_params = FinSageConfig(params={"REBALANCE_THRESHOLD": 0.04})
    assert from_params.trading.rebalance_threshold == 0.04
    with pytest.raises(ValidationError, match="they are one setting"):
        FinSageConfig(trading={"rebalance_threshold": 0.03},
                      params={"REBALANCE_THRESHOLD": 0.04})
    assert moved.with_params(FACTOR_WEIGHT=0.5).trading.rebalance_threshold == 0.05


# -- tunables and their space ---------------------------------------------------------------

def test_every_tunable_is_declared_in_range_and_every_declaration_exists() -> None:
    values = current_values()
    assert set(values) == set(PARAMETER_SPACE)
    assert validate_values(values, complete=True) == values


def test_tunables_file_is_flat_literals_with_a_comment_each() -> None:
    source = Path(tunables.__file__).read_text(encoding="utf-8")
    tree = ast.parse(source)
    lines = source.splitlines()
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # the module docstring
        assert isinstance(node, ast.Assign), f"line {node.lineno}: only assignments allowed"
        assert len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
        assert node.targets[0].id.isupper()
        value = node.value
        if isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.USub):
            value = value.operand
        assert isinstance(value, ast.Constant), f"{node.targets[0].id} is not a literal"
        assert "#" in lines[node.lineno - 1], f"{node.targets[0].id} has no comment"


def test_optimizer_choices_are_the_optimizer_library_methods() -> None:
    from strategy.optimizers import METHODS

    assert set(parameters.OPTIMIZER_NAMES) == set(METHODS)
    assert PARAMETER_SPACE["PORTFOLIO_OPTIMIZER"].choices == parameters.OPTIMIZER_NAMES


def test_validate_values_names_the_problem() -> None:
    with pytest.raises(ParameterError, match="did you mean FACTOR_WEIGHT"):
        validate_values({"FACTOR_WIEGHT": 0.4})
    with pytest.raises(ParameterError, match="whole number"):
        validate_values({"MOMENTUM_LOOKBACK_DAYS": 126.5})
    with pytest.raises(ParameterError, match="must be a number"):
        validate_values({"FACTOR_WEIGHT": True})
    with pytest.raises(ParameterError, match="not one of"):
        validate_values({"PORTFOLIO_OPTIMIZER": "magic"})
    with pytest.raises(ParameterError, match="missing a value"):
        validate_values({"FACTOR_WEIGHT": 0.4}, complete=True)
    with pytest.raises(ParameterError, match="must exceed"):
        validate_values({"FACTOR_SIGNAL_THRESHOLD": 0.5, "FACTOR_STRONG_SIGNAL_THRESHOLD": 0.5})
    assert validate_values({"MOMENTUM_LOOKBACK_DAYS": 126.0}) == {"MOMENTUM_LOOKBACK_DAYS": 126}
    assert isinstance(validate_values({"FACTOR_WEIGHT": 1})["FACTOR_WEIGHT"], float)


def test_parameter_specs_are_self_consistent() -> None:
    with pytest.raises(ValidationError, match="needs choices"):
        ParameterSpec(name="X", kind="choice", description="x")
    with pytest.raises(ValidationError, match="low <= high"):
        ParameterSpec(name="X", kind="float", low=2, high=1, description="x")
    for spec in PARAMETER_SPACE.values():
        assert spec.description and spec.name in PARAMETER_SPACE


@settings(max_examples=80, deadline=None)
@given(name=st.sampled_from(sorted(n for n, s in PARAMETER_SPACE.items() if s.kind != "choice")),
       fraction=st.floats(-1.0, 2.0))
def test_numeric_tunables_accept_exactly_their_range(name: str, fraction: float) -> None:
    spec = PARAMETER_SPACE[name]
    low, high = float(spec.low or 0), float(spec.high or 0)
    value = low + fraction * (high - low)
    if spec.kind == "int":
        value = float(math.floor(value))
    if low <= value <= high:
        assert spec.check(value) == value
    else:
        with pytest.raises(ParameterError, match="outside its range"):
            spec.check(value)


# -- engine purity of these modules -----------------------------------------------------------

ALLOWED_ROOTS = {"__future__", "abc", "collections", "dataclasses", "difflib", "enum", "math",
                 "re", "types", "typing", "numpy", "pandas", "scipy", "pydantic", "strategy"}
FORBIDDEN_NAMES = {"open", "exec", "eval", "__import__", "compile", "input"}


@pytest.mark.parametrize("path", MY_MODULES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_module_imports_only_pure_libraries_and_does_no_io(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            if isinstance(node, ast.Name):
                assert node.id not in FORBIDDEN_NAMES, f"{path.name}:{node.lineno} {node.id}"
            continue
        for name in names:
            root = name.split(".")[0]
            assert root in ALLOWED_ROOTS or name == "alphaloop.contract", (
                f"{path.name}:{node.lineno} imports {name}")


def test_engine_modules_are_importable_without_side_effects() -> None:
    import strategy.experts
    import strategy.factors

    for module in (strategy.experts, strategy.factors, parameters):
        assert sorted(module.__all__) == sorted(set(module.__all__))
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__}.{name}"
    assert inspect.ismodule(tunables)
