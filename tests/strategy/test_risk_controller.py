"""The FinSage risk controller: hard limits always hold, soft limits warn and adjust,
the drawdown trigger de-risks for a cooldown and re-enters on a recovery, alerts reach
their handlers."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alphaloop.contract import AssetInfo, MarketView, PortfolioState
from strategy.config import load_profile
from strategy.records import RiskAlert
from strategy.risk import (
    HARD_TOLERANCE,
    ControllerSettings,
    RiskController,
    RiskLimits,
    enforce_hard_limits,
    estimate_risk_model,
    hard_limit_breaches,
    screen_universe,
)
from strategy.risk.model import quantile

CLASSES = ("stocks", "bonds", "commodities", "reits", "crypto")
VOLS = {"stocks": 0.25, "bonds": 0.08, "commodities": 0.3, "reits": 0.3, "crypto": 1.2}


def make_view(seed: int, n_days: int = 300, per_class: int = 3, *, vol_scale: float = 1.0,
              nan_assets: int = 0, flat_assets: int = 0, vix: float = 18.0) -> MarketView:
    rng = np.random.default_rng(seed)
    assets = [AssetInfo(ticker=f"{c[:3].upper()}{i}", asset_class=c)  # type: ignore[arg-type]
              for c in CLASSES for i in range(per_class)]
    sigma = np.array([VOLS[a.asset_class] for a in assets]) * vol_scale / np.sqrt(252)
    common = rng.standard_t(4, size=(n_days, 1)) * 0.6
    shocks = (common + rng.standard_t(4, size=(n_days, len(assets)))) * sigma / 1.3
    prices = 100 * np.exp(np.cumsum(shocks, axis=0))
    for j in range(nan_assets):
        prices[-1 - j % 3:, j] = np.nan
    for j in range(flat_assets if n_days > 16 else 0):
        prices[-15:, -1 - j] = prices[-16, -1 - j]
    dates = pd.bdate_range("2020-01-01", periods=n_days)
    return MarketView(as_of=dates[-1], assets=assets, dates=dates, prices=prices,
                      volumes=np.full(prices.shape, 1e6),
                      macro={"VIX": np.full(n_days, vix)})


def portfolio(view: MarketView, value: float = 1e6, peak: float = 1e6,
              weights: dict[str, float] | None = None) -> PortfolioState:
    return PortfolioState(as_of=view.as_of.to_pydatetime(), weights=weights or {},
                          cash=1.0, value=value, peak_value=peak)


def measured(view: MarketView, controller: RiskController):
    screen = screen_universe(view, window=controller.settings.window)
    return screen, estimate_risk_model(view, screen.tradable, window=controller.settings.window)


# -- the hard projection on its own -------------------------------------------------------

@settings(max_examples=150, deadline=None)
@given(
    weights=st.lists(st.floats(-0.5, 2.0) | st.just(float("nan")), min_size=6, max_size=6),
    single=st.floats(0.05, 0.5),
    klass=st.floats(0.1, 0.9),
    var_limit=st.floats(0.001, 0.05),
    scale=st.floats(0.001, 0.2),
)
def test_enforce_hard_limits_never_leaves_a_breach(weights, single, klass, var_limit, scale):
    classes = ["stocks", "stocks", "bonds", "bonds", "crypto", "crypto"]
    limits = RiskLimits(max_single_asset=single, max_asset_class=klass,
                        max_portfolio_var_95=var_limit)
    sigma = np.array([1.0, 1.2, 0.3, 0.4, 3.0, 3.5]) * scale

    def var(w: np.ndarray) -> float:
        return 1.645 * float(np.sqrt(np.sum((w * sigma) ** 2)))

    out, checks = enforce_hard_limits(np.array(weights), classes, limits, var)
    assert hard_limit_breaches(out, classes, limits, var) == []
    assert np.all(out >= 0) and out.sum() <= 1 + HARD_TOLERANCE
    clean = np.clip(np.nan_to_num(np.array(weights), nan=0.0), 0, None)
    assert np.all(out <= clean + 1e-12), "the projection only ever removes weight"
    assert {c.name for c in checks} == {"single_asset", "asset_class", "var_95",
                                        "gross_exposure"}


def test_projection_clips_a_single_asset_and_keeps_the_others():
    limits = RiskLimits(max_single_asset=0.15, max_asset_class=0.5, max_portfolio_var_95=1.0)
    out, checks = enforce_hard_limits(np.array([0.4, 0.1, 0.1]), ["stocks", "bonds", "reits"],
                                      limits, lambda w: 0.0)
    assert out == pytest.approx([0.15, 0.1, 0.1])
    single = next(c for c in checks if c.name == "single_asset")
    assert single.status == "adjusted" and single.before == pytest.approx(0.4)


def test_projection_scales_exactly_to_the_var_limit():
    limits = RiskLimits(max_single_asset=1.0, max_asset_class=1.0, max_portfolio_var_95=0.01)
    out, _ = enforce_hard_limits(np.array([0.5, 0.5]), ["stocks", "bonds"], limits,
                                 lambda w: 0.04 * float(w.sum()))
    assert out.sum() == pytest.approx(0.25, rel=1e-6)


def test_quantile_matches_numpy():
    values = np.random.default_rng(3).normal(size=257)
    for q in (0.01, 0.05, 0.5, 0.95):
        assert quantile(values, q) == pytest.approx(float(np.quantile(values, q)))


# -- the controller on random market views ---------------------------------------------------

@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    n_days=st.integers(1, 120),
    per_class=st.integers(1, 4),
    vol_scale=st.floats(0.2, 8.0),
    nan_assets=st.integers(0, 3),
    flat_assets=st.integers(0, 2),
    profile=st.sampled_from(["default", "conservative", "aggressive"]),
    raw=st.lists(st.floats(0.0, 1.0), min_size=20, max_size=20),
    drawdown=st.floats(0.0, 0.5),
)
def test_controller_output_never_breaks_a_hard_limit(seed, n_days, per_class, vol_scale,
                                                     nan_assets, flat_assets, profile, raw,
                                                     drawdown):
    config = load_profile(profile)
    limits = RiskLimits.from_config(config.risk)
    controller = RiskController(limits, ControllerSettings(window=60))
    view = make_view(seed, n_days, per_class, vol_scale=vol_scale, nan_assets=nan_assets,
                     flat_assets=flat_assets)
    upstream = {t: raw[i % len(raw)] * 0.6 for i, t in enumerate(view.tickers)}
    state = portfolio(view, value=1e6 * (1 - drawdown), peak=1e6)
    outcome = controller.review(upstream, view, state)
    screen, model = measured(view, controller)
    w = model.vector(outcome.weights)
    assert set(outcome.weights) <= set(screen.tradable)
    assert hard_limit_breaches(w, model.classes, limits, model.value_at_risk) == []
    assert all(v > 0 for v in outcome.weights.values())
    if drawdown >= limits.max_drawdown_trigger:
        assert outcome.report.derisked
        assert sum(outcome.weights.values()) <= controller.settings.derisk_factor + 1e-9


def test_untradable_assets_get_no_weight_and_are_reported():
    view = make_view(1, nan_assets=1, flat_assets=1)
    controller = RiskController()
    outcome = controller.review({t: 0.04 for t in view.tickers}, view, portfolio(view))
    assert view.tickers[0] not in outcome.weights  # no price today
    assert view.tickers[-1] not in outcome.weights  # stale
    assert any(f.component == "risk_controller.screen" for f in outcome.report.fallbacks)


# -- soft limits ------------------------------------------------------------------------------

def test_volatility_above_target_is_scaled_down_to_it():
    view = make_view(2, vol_scale=3.0)
    limits = RiskLimits(target_volatility=0.10, max_portfolio_var_95=1.0,
                        min_diversification_ratio=1.0, max_correlation_cluster=1.0)
    controller = RiskController(limits, ControllerSettings(volatility_scaling=1.0))
    outcome = controller.review({t: 1 / 15 for t in view.tickers}, view, portfolio(view))
    check = next(c for c in outcome.report.checks if c.name == "target_volatility")
    assert check.before > 0.10
    assert check.status == "adjusted"
    assert outcome.report.metrics_after["annual_volatility"] == pytest.approx(0.10, rel=1e-6)


def test_volatility_scaling_zero_only_warns():
    view = make_view(2, vol_scale=3.0)
    limits = RiskLimits(target_volatility=0.10, max_portfolio_var_95=1.0,
                        min_diversification_ratio=1.0, max_correlation_cluster=1.0)
    controller = RiskController(limits, ControllerSettings(volatility_scaling=0.0))
    upstream = {t: 1 / 15 for t in view.tickers}
    outcome = controller.review(upstream, view, portfolio(view))
    check = next(c for c in outcome.report.checks if c.name == "target_volatility")
    assert check.status == "warning"
    assert sum(outcome.weights.values()) == pytest.approx(1.0)


def test_low_diversification_blends_toward_max_diversification():
    view = make_view(4)
    limits = RiskLimits(min_diversification_ratio=5.0, max_portfolio_var_95=1.0,
                        target_volatility=5.0, max_single_asset=0.5, max_asset_class=1.0)
    controller = RiskController(limits, ControllerSettings(diversification_blend=0.5))
    stocks = [t for t in view.tickers if view.asset_class(t) == "stocks"]
    upstream = {stocks[0]: 0.45, stocks[1]: 0.05, "BON0": 0.05}
    outcome = controller.review(upstream, view, portfolio(view))
    check = next(c for c in outcome.report.checks if c.name == "diversification_ratio")
    assert check.status == "adjusted"
    assert check.after > check.before
    assert sum(outcome.weights.values()) == pytest.approx(0.55)
    assert outcome.weights[stocks[0]] < 0.45


# -- drawdown trigger and state -------------------------------------------------------------

def prefix(view: MarketView, n_days: int) -> MarketView:
    """The first ``n_days`` of ``view`` (a view that ends earlier)."""
    dates = view.dates[:n_days]
    return MarketView(as_of=dates[-1], assets=view.assets, dates=dates,
                      prices=view.prices[:n_days], volumes=view.volumes[:n_days],
                      macro={k: view.macro(k)[:n_days] for k in view.macro_series})


def test_drawdown_trigger_derisks_for_the_cooldown_then_reenters_within_the_trigger():
    view = make_view(5, n_days=200)
    controller = RiskController(RiskLimits(max_portfolio_var_95=1.0, target_volatility=5.0),
                                ControllerSettings(derisk_factor=0.5, cooldown_days=5))
    upstream = {t: 0.05 for t in view.tickers[:12]}
    calm = controller.review(upstream, prefix(view, 150), portfolio(view, 9e5, 1e6))
    assert not calm.report.derisked
    hit = controller.review(upstream, prefix(view, 150), portfolio(view, 8e5, 1e6))
    assert hit.report.derisked
    assert sum(hit.weights.values()) == pytest.approx(0.5 * sum(calm.weights.values()), rel=1e-6)
    assert any(a.code == "drawdown_trigger" and a.severity == 3 for a in hit.report.alerts)
    during = controller.review(upstream, prefix(view, 153), portfolio(view, 8.9e5, 1e6))
    assert during.report.derisked, "3 of 5 cooldown days: still de-risked, even within the trigger"
    later = controller.review(upstream, prefix(view, 160), portfolio(view, 8.6e5, 1e6))
    assert not later.report.derisked, "cooldown over and the drawdown (14%) is within the trigger"
    assert controller.get_state() == {"derisk_since": None, "reentry_drawdown": None}
    fall = controller.review(upstream, prefix(view, 165), portfolio(view, 8.45e5, 1e6))
    assert fall.report.derisked, "15.5% from the same peak (never reset) triggers again"


def _trending_view(seed: int, n_days: int, daily: float) -> MarketView:
    """A view whose last 30 days move every price by ``daily`` a day."""
    view = make_view(seed, n_days=n_days)
    prices = np.array(view.prices)
    prices[-30:] = prices[-31] * np.cumprod(np.full((30, prices.shape[1]), 1 + daily), axis=0)
    return MarketView(as_of=view.as_of, assets=view.assets, dates=view.dates, prices=prices,
                      volumes=view.volumes, macro={"VIX": view.macro("VIX")})


def test_after_the_cooldown_a_falling_market_keeps_the_portfolio_derisked():
    limits = RiskLimits(max_portfolio_var_95=1.0, target_volatility=5.0)
    controller = RiskController(limits, ControllerSettings(derisk_factor=0.25, cooldown_days=5))
    falling = _trending_view(11, 200, -0.004)
    upstream = {t: 0.05 for t in falling.tickers[:12]}
    controller.set_state({"derisk_since": str(falling.dates[-10].date())})
    outcome = controller.review(upstream, falling, portfolio(falling, 8e5, 1e6))
    assert outcome.report.derisked
    assert "lost" in outcome.report.checks[0].message
    assert controller.get_state()["derisk_since"] == str(falling.as_of.date()), \
        "a fresh cooldown starts"


def test_a_reentry_beyond_the_trigger_is_on_probation():
    limits = RiskLimits(max_portfolio_var_95=1.0, target_volatility=5.0)
    controller = RiskController(limits, ControllerSettings(derisk_factor=0.25, cooldown_days=5))
    rising = _trending_view(12, 200, 0.004)
    upstream = {t: 0.05 for t in rising.tickers[:12]}
    controller.set_state({"derisk_since": str(rising.dates[-10].date())})
    back = controller.review(upstream, rising, portfolio(rising, 8e5, 1e6))
    assert not back.report.derisked, "the proposed portfolio gained over the cooldown"
    assert controller.get_state()["reentry_drawdown"] == pytest.approx(0.2)
    held = controller.review(upstream, rising, portfolio(rising, 8.1e5, 1e6))
    assert not held.report.derisked, "a drawdown shallower than at re-entry is kept"
    worse = controller.review(upstream, rising, portfolio(rising, 7.95e5, 1e6))
    assert worse.report.derisked, "deeper than at re-entry: de-risked again at once"


def test_state_round_trips_and_a_fresh_controller_continues_identically():
    view = make_view(6)
    first = RiskController()
    first.review({t: 0.05 for t in view.tickers}, view.tail(200), portfolio(view, 8e5, 1e6))
    state = first.get_state()
    assert state["derisk_since"] is not None
    second = RiskController()
    second.set_state(state)
    a = first.review({t: 0.05 for t in view.tickers}, view, portfolio(view, 8e5, 1e6))
    b = second.review({t: 0.05 for t in view.tickers}, view, portfolio(view, 8e5, 1e6))
    assert a.weights == b.weights and a.report == b.report


# -- alerts -------------------------------------------------------------------------------------

def test_alert_handlers_receive_every_alert_in_order():
    received: list[RiskAlert] = []
    view = make_view(7, vix=45.0)
    limits = RiskLimits(max_single_asset=0.05, target_volatility=5.0, max_portfolio_var_95=1.0)
    controller = RiskController(limits, alert_handlers=[received.append])
    outcome = controller.review({t: 0.2 for t in view.tickers}, view, portfolio(view))
    assert received == outcome.report.alerts
    codes = {a.code for a in received}
    assert {"single_asset", "vix_spike"} <= codes
    assert outcome.report.severity == max(a.severity for a in received)


def test_monitor_flags_an_intraday_loss_of_the_held_portfolio():
    view = make_view(8, n_days=60)
    prices = np.array(view.prices)
    prices[-1] = prices[-2] * 0.9  # everything fell 10% today
    crashed = MarketView(as_of=view.as_of, assets=view.assets, dates=view.dates, prices=prices,
                         volumes=view.volumes, macro={"VIX": view.macro("VIX")})
    seen: list[RiskAlert] = []
    controller = RiskController(alert_handlers=[seen.append])
    held = {t: 0.06 for t in crashed.tickers}
    alerts = controller.monitor(crashed, PortfolioState(
        as_of=datetime(2020, 1, 1), weights=held, cash=0.1, value=1e6, peak_value=1e6))
    loss = [a for a in alerts if a.code == "intraday_loss"]
    assert loss and loss[0].value == pytest.approx(0.09, rel=1e-6)
    assert seen == alerts
