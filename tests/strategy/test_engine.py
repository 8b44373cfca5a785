"""The FinSage engine end to end: decisions, records, degraded inputs, errors, state."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np
import pytest

from alphaloop.contract import AssetInfo, MarketView, PortfolioState, validate_weights
from alphaloop.data.synthetic import SyntheticConfig, SyntheticSource
from strategy import EngineError, FinSageStrategy, create_strategy, load_profile
from strategy.records import IntegratedDecision
from strategy.risk import estimate_risk_model, hard_limit_breaches, screen_universe

STRATEGY = Path(__file__).resolve().parents[2] / "strategy"
MINE = [STRATEGY / "__init__.py", STRATEGY / "engine.py", STRATEGY / "records.py",
        *sorted((STRATEGY / "managers").glob("*.py")), *sorted((STRATEGY / "hedging").glob("*.py")),
        *sorted((STRATEGY / "risk").glob("*.py"))]


@pytest.fixture(scope="module")
def data():
    return SyntheticSource(SyntheticConfig(years=2.5)).load()


def state(view: MarketView, value: float = 1e6, peak: float = 1e6) -> PortfolioState:
    return PortfolioState(as_of=view.as_of.to_pydatetime(), weights={}, cash=1.0,
                          value=value, peak_value=peak)


def rebuilt(view: MarketView, prices: np.ndarray, assets=None) -> MarketView:
    return MarketView(as_of=view.as_of, assets=assets or view.assets, dates=view.dates,
                      prices=prices, volumes=view.volumes,
                      fundamentals={k: view.fundamental(k) for k in view.fundamental_fields},
                      macro={k: view.macro(k) for k in view.macro_series})


def assert_within_hard_limits(strategy: FinSageStrategy, view: MarketView, weights):
    limits = strategy.settings.limits
    screen = screen_universe(view, window=strategy.settings.window)
    model = estimate_risk_model(view, screen.tradable, window=strategy.settings.window,
                                shrinkage=strategy.settings.shrinkage)
    assert set(weights) <= set(screen.tradable)
    w = model.vector(weights)
    assert hard_limit_breaches(w, model.classes, limits, model.value_at_risk) == []


def test_decide_returns_valid_weights_and_a_complete_record(data):
    strategy = create_strategy("default")
    view = data.view(400, strategy.lookback)
    decision = strategy.decide(view, state(view))
    validate_weights(decision, view.tickers, as_of=view.as_of)
    assert_within_hard_limits(strategy, view, decision.weights)
    record = IntegratedDecision.model_validate(json.loads(json.dumps(decision.record)))
    assert record.timestamp == str(view.as_of.date())
    assert record.profile == "default"
    assert sum(record.target_allocation.values()) == pytest.approx(1.0)
    assert {k: v for k, v in record.target_allocation.items() if k != "cash"} == \
        pytest.approx(decision.weights)
    assert {c.asset_class for c in record.class_contributions} == {
        "stocks", "bonds", "commodities", "reits", "crypto", "cash"}
    assert len(record.expert_contributions) == 5
    assert any(k.startswith("stocks.") for k in record.factor_exposures)
    assert record.risk_report is not None and record.risk_report.checks
    assert record.individual_decisions.portfolio_manager.tools
    assert strategy.lookback >= 252


def test_decisions_are_deterministic(data):
    view = data.view(450, 300)
    a = create_strategy("default").decide(view, state(view))
    b = create_strategy("default").decide(view, state(view))
    assert a == b


def test_timing_hook_sees_every_component(data):
    seen: list[str] = []
    strategy = create_strategy("default", timings=lambda name, seconds: seen.append(name))
    view = data.view(400, strategy.lookback)
    strategy.decide(view, state(view))
    assert {"screen", "risk_model", "experts", "portfolio_manager", "position_sizing",
            "hedging", "coordinator", "risk_controller", "record"} <= set(seen)


def test_missing_and_stale_prices_exclude_the_asset_with_a_reason(data):
    strategy = create_strategy("default")
    view = data.view(400, strategy.lookback)
    prices = np.array(view.prices)
    spy, tlt = view.column("SPY"), view.column("TLT")
    prices[-1, spy] = np.nan
    prices[-20:, tlt] = prices[-21, tlt]
    bad = rebuilt(view, prices)
    decision = strategy.decide(bad, state(bad))
    assert "SPY" not in decision.weights and "TLT" not in decision.weights
    excluded = decision.record["excluded_assets"]
    assert "no valid price" in excluded["SPY"] and "stale" in excluded["TLT"]
    assert {"screen"} <= {f["component"] for f in decision.record["fallbacks"]}
    assert_within_hard_limits(strategy, bad, decision.weights)


def test_a_class_without_tradable_assets_hands_its_weight_on(data):
    strategy = create_strategy("default")
    no_crypto = data.select([t for t in data.tickers if not t.endswith("-USD")])
    view = no_crypto.view(400, strategy.lookback)
    decision = strategy.decide(view, state(view))
    record = decision.record
    assert record["class_allocation"].get("crypto", 0.0) == 0.0
    assert any("no tradable crypto" in f["reason"] for f in record["fallbacks"])
    assert sum(record["target_allocation"].values()) == pytest.approx(1.0)


def test_a_singular_covariance_is_repaired_and_recorded(data):
    strategy = create_strategy("default", COVARIANCE_SHRINKAGE="sample")
    view = data.view(400, strategy.lookback)
    twin = AssetInfo(ticker="SPY2", asset_class="stocks")
    prices = np.column_stack([view.prices, view.prices[:, view.column("SPY")]])
    volumes = np.column_stack([view.volumes, view.volumes[:, view.column("SPY")]])
    doubled = MarketView(
        as_of=view.as_of, assets=[*view.assets, twin], dates=view.dates, prices=prices,
        volumes=volumes,
        fundamentals={k: np.column_stack([view.fundamental(k),
                                          view.fundamental(k)[:, view.column("SPY")]])
                      for k in view.fundamental_fields},
        macro={k: view.macro(k) for k in view.macro_series})
    decision = strategy.decide(doubled, state(doubled))
    assert any(f["component"] == "risk_model" and "singular" in f["reason"]
               for f in decision.record["fallbacks"])
    assert_within_hard_limits(strategy, doubled, decision.weights)


def test_a_short_history_falls_back_to_priors_and_simpler_optimisers(data):
    strategy = create_strategy("aggressive", PORTFOLIO_OPTIMIZER="cvar",
                               CONVICTION_CONFIDENCE=1.0)
    view = data.view(1, strategy.lookback)  # two prices: one return
    decision = strategy.decide(view, state(view))
    components = {f["component"] for f in decision.record["fallbacks"]}
    assert "risk_model" in components
    assert any("cvar needs return history" in f["reason"] for f in decision.record["fallbacks"])
    assert_within_hard_limits(strategy, view, decision.weights)


def test_drawdown_trigger_and_state_round_trip(data):
    strategy = create_strategy("default")
    view = data.view(400, strategy.lookback)
    hit = strategy.decide(view, state(view, value=8e5, peak=1e6))
    assert hit.record["risk_report"]["derisked"]
    assert sum(hit.weights.values()) <= 0.5 + 1e-9
    saved = json.loads(json.dumps(strategy.get_state()))
    restored = create_strategy("default")
    restored.set_state(saved)
    later = data.view(405, strategy.lookback)
    assert restored.decide(later, state(later, 8e5, 1e6)) == \
        strategy.decide(later, state(later, 8e5, 1e6))


class FailingLLM:
    def complete(self, system: str, user: str) -> str:
        raise ConnectionError("provider unreachable")


class NonsenseLLM:
    def __init__(self) -> None:
        self.calls = 0

    def complete(self, system: str, user: str) -> str:
        self.calls += 1
        return "I would rather not say."


def test_an_unexpected_error_names_the_date_and_component(data):
    strategy = create_strategy("default", llm=FailingLLM())
    view = data.view(400, strategy.lookback)
    with pytest.raises(EngineError, match=rf"{view.as_of.date()} in experts") as info:
        strategy.decide(view, state(view))
    assert info.value.component == "experts"
    assert isinstance(info.value.__cause__, ConnectionError)


def test_invalid_llm_answers_fall_back_to_rules_everywhere(data):
    llm = NonsenseLLM()
    strategy = create_strategy("default", llm=llm, LLM_MAX_RETRIES=0)
    view = data.view(400, strategy.lookback)
    decision = strategy.decide(view, state(view))
    components = {f["component"] for f in decision.record["fallbacks"]}
    assert {"experts.stocks", "portfolio_manager.llm_allocation", "portfolio_manager.llm_tools",
            "position_sizing.llm", "hedging.llm"} <= components
    assert llm.calls >= 9
    assert_within_hard_limits(strategy, view, decision.weights)


def test_create_strategy_overrides():
    strategy = create_strategy("conservative", EXPERT_TILT_STRENGTH=0.2,
                               risk={"target_volatility": 0.05})
    assert strategy.config.params["EXPERT_TILT_STRENGTH"] == 0.2
    assert strategy.settings.limits.target_volatility == 0.05
    assert strategy.settings.limits.max_single_asset == load_profile(
        "conservative").risk.max_single_asset
    with pytest.raises(ValueError, match="unknown override"):
        create_strategy("default", colour="blue")
    with pytest.raises(ValueError, match="unknown profile"):
        create_strategy("reckless")


ALLOWED_ROOTS = {"__future__", "collections", "contextlib", "dataclasses", "functools", "json",
                 "re", "time", "typing", "numpy", "scipy", "pandas", "pydantic", "strategy"}


def test_engine_modules_import_only_the_contract_and_pure_libraries():
    for path in MINE:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                    assert node.func.id not in {"open", "exec", "eval", "__import__"}, path
                continue
            for name in names:
                root = name.split(".")[0]
                assert root in ALLOWED_ROOTS or name == "alphaloop.contract", (path, name)


def test_command_line_runs_a_backtest_and_writes_its_outputs(tmp_path, capsys):
    from strategy.__main__ import main

    code = main(["--start", "2006-01-02", "--end", "2006-06-30", "--frequency", "monthly",
                 "--config", "conservative", "--data", "synthetic:years=4",
                 "--out", str(tmp_path / "run")])
    assert code == 0
    assert (tmp_path / "run" / "result.json").is_file()
    assert (tmp_path / "run" / "equity.png").is_file()
    shown = capsys.readouterr().out
    assert "FinSage (conservative)" in shown and "sharpe" in shown
    assert main(["--start", "2030-01-01", "--end", "2030-02-01", "--data",
                 "synthetic:years=2", "--out", str(tmp_path / "none")]) == 2
    assert not (tmp_path / "none").exists()


def test_engine_files_pass_the_repository_ast_policy():
    from alphaloop.checks.ast_policy import check_strategy_files
    from alphaloop.policy.loader import load_policies

    root = STRATEGY.parent
    paths = [str(p.relative_to(root)) for p in [*MINE, STRATEGY / "__main__.py"]]
    findings = check_strategy_files(root, paths, load_policies(root))
    assert findings == []
