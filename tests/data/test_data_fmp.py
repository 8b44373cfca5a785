"""The FMP client and FMPSource against a real HTTP server on 127.0.0.1 (see conftest)."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from support.fake_clock import FakeClock

from alphaloop.data import DataError
from alphaloop.data._http_cache import cache_key
from alphaloop.data._rate_limit import RateLimiter
from alphaloop.data.fmp import (
    FMPAuthError,
    FMPClient,
    FMPConfig,
    FMPError,
    FMPSource,
    fmp_symbol,
)


@pytest.fixture
def new_client(fmp_config: FMPConfig, clock) -> Iterator[Callable[..., FMPClient]]:
    """Make clients with some settings changed; every one is closed after the test."""
    made: list[FMPClient] = []

    def make(**changes: Any) -> FMPClient:
        made.append(FMPClient(fmp_config.model_copy(update=changes), clock=clock,
                              wall_clock=clock, sleep=clock.sleep))
        return made[-1]

    yield make
    for client in made:
        client.close()


def test_a_missing_key_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(FMPAuthError, match="FMP_API_KEY is not set"):
        FMPClient(FMPConfig())
    with pytest.raises(FMPAuthError, match="FMP_API_KEY is not set"):
        FMPClient(FMPConfig.from_env({"HOME": str(tmp_path)}))


def test_config_from_environment(tmp_path) -> None:
    config = FMPConfig.from_env({"FMP_API_KEY": "secret-123", "FMP_BASE_URL": "http://127.0.0.1:9/x",
                                 "ALPHALOOP_CACHE_DIR": str(tmp_path)})
    assert config.api_key is not None and config.api_key.get_secret_value() == "secret-123"
    assert config.base_url == "http://127.0.0.1:9/x"
    assert config.cache_dir == tmp_path / "fmp"
    assert "secret-123" not in repr(config)
    defaults = FMPConfig()
    assert defaults.base_url == "https://financialmodelingprep.com/stable"
    assert defaults.requests_per_minute == 750 and defaults.batch_size == 100
    assert defaults.cache_ttl_seconds == 24 * 3600
    assert defaults.endpoints["historical_price"] == "/historical-price-eod/full"


def test_the_key_is_sent_as_apikey(fake_fmp, fmp_client, fmp_key) -> None:
    fmp_client.quote("SPY")
    assert fake_fmp.requests[-1] == {"path": "/stable/quote",
                                     "query": {"symbol": "SPY", "apikey": fmp_key}}


def test_a_refused_key_is_not_retried(fake_fmp, fmp_config, clock, new_client) -> None:
    client = new_client(api_key=SecretStr("wrong-key-xyz"))
    with pytest.raises(FMPAuthError, match="HTTP 401") as info:
        client.quote("SPY")
    assert fake_fmp.total == 1 and not clock.sleeps
    assert "wrong-key-xyz" not in str(info.value)


# -- retries -----------------------------------------------------------------------------------
def test_429_then_success_backs_off_and_honours_retry_after(fake_fmp, fmp_client, clock
                                                            ) -> None:
    fake_fmp.fail_next(429, headers={"Retry-After": "7"})
    fake_fmp.fail_next(429)
    assert fmp_client.quote("SPY")["symbol"] == "SPY"
    assert fake_fmp.total == 3
    assert len(clock.sleeps) == 2 and clock.sleeps[0] >= 7
    assert fmp_client.requests_sent == 3


def test_server_errors_are_retried_with_growing_waits(fake_fmp, fmp_client, clock) -> None:
    fake_fmp.fail_next(503, 502, 500)
    fmp_client.quote("SPY")
    assert fake_fmp.total == 4
    assert clock.sleeps == sorted(clock.sleeps) and clock.sleeps[-1] > clock.sleeps[0]


def test_persistent_failure_gives_up_after_max_attempts(fake_fmp, fmp_client, fmp_key
                                                        ) -> None:
    fake_fmp.fail_next(503, 503, 503, 503, 503)
    with pytest.raises(FMPError, match=r"gave up after 4 attempts; last error: HTTP 503") \
            as info:
        fmp_client.quote("SPY")
    assert fake_fmp.total == 4
    assert fmp_key not in str(info.value)
    assert "/stable/quote?symbol=SPY" in str(info.value)


def test_connection_errors_are_retried_then_reported(clock, fmp_key, new_client) -> None:
    with socket.socket() as sock:  # a port on 127.0.0.1 that nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = new_client(base_url=f"http://127.0.0.1:{port}/stable",
                     max_attempts=3)
    with pytest.raises(FMPError, match="gave up after 3 attempts; last error: connection "
                                       "failed") as info:
        client.quote("SPY")
    assert len(clock.sleeps) == 2 and client.requests_sent == 3
    assert fmp_key not in str(info.value)


@pytest.mark.parametrize("status, body, message", [
    (404, "", "HTTP 404"),
    (400, "bad symbol", "HTTP 400: bad symbol"),
    (200, "<html>oops</html>", "not JSON"),
    (200, json.dumps({"Error Message": "Limit Reach"}), "FMP says: Limit Reach"),
])
def test_other_failures_are_not_retried(fake_fmp, fmp_client, clock, status, body, message
                                        ) -> None:
    fake_fmp.fail_next(status, body=body)
    with pytest.raises(FMPError, match=message):
        fmp_client.quote("SPY")
    assert fake_fmp.total == 1 and not clock.sleeps


# -- cache -------------------------------------------------------------------------------------
def test_answers_are_cached_on_disk_for_24_hours(fake_fmp, fmp_config, fmp_client, clock,
                                                 fmp_key, new_client) -> None:
    first = fmp_client.historical_prices("SPY", "2005-01-01", "2005-02-01")
    again = fmp_client.historical_prices("SPY", "2005-01-01", "2005-02-01")
    assert fake_fmp.total == 1
    pd.testing.assert_frame_equal(first, again)
    files = list(fmp_config.cache_dir.glob("*.json"))
    assert len(files) == 1 and fmp_key not in files[0].read_text()
    other_process = new_client()  # the cache outlives the client
    other_process.historical_prices("SPY", "2005-01-01", "2005-02-01")
    assert fake_fmp.total == 1
    clock.now += 24 * 3600 - 1
    fmp_client.historical_prices("SPY", "2005-01-01", "2005-02-01")
    assert fake_fmp.total == 1
    clock.now += 2
    fmp_client.historical_prices("SPY", "2005-01-01", "2005-02-01")
    assert fake_fmp.total == 2


def test_cache_key_ignores_the_key_and_parameter_order() -> None:
    a = cache_key("http://h/x", {"symbol": "A", "from": "2020", "apikey": "s1"})
    b = cache_key("http://h/x", {"from": "2020", "apikey": "s2", "symbol": "A", "to": None})
    assert a == b == "http://h/x?from=2020&symbol=A"


def test_a_corrupt_cache_entry_is_a_miss(fake_fmp, fmp_config, fmp_client) -> None:
    fmp_client.quote("SPY")
    for path in fmp_config.cache_dir.glob("*.json"):
        path.write_text("{not json")
    assert fmp_client.quote("SPY")["symbol"] == "SPY"
    assert fake_fmp.total == 2
    assert fmp_client.quote("SPY")["symbol"] == "SPY"
    assert fake_fmp.total == 2


def test_failures_are_not_cached_and_the_cache_can_be_off(fake_fmp, new_client) -> None:
    client = new_client(cache_dir=None)
    client.quote("SPY")
    client.quote("SPY")
    assert fake_fmp.total == 2
    cached = new_client()
    fake_fmp.fail_next(404)
    with pytest.raises(FMPError):
        cached.quote("TLT")
    assert cached.quote("TLT")["symbol"] == "TLT"


# -- rate limit and batches ----------------------------------------------------------------------
def test_client_keeps_to_the_rate_limit(fake_fmp, fmp_config, clock, new_client) -> None:
    client = new_client(requests_per_minute=2, cache_dir=None)
    start = clock.now
    for _ in range(5):
        client.quote("SPY")
    assert fake_fmp.total == 5
    assert clock.now - start >= 120  # requests 3 and 5 had to wait for a free slot
    assert client.limiter.waited >= 120


@settings(max_examples=60, deadline=None)
@given(gaps=st.lists(st.floats(0, 30, allow_nan=False), min_size=1, max_size=60),
       limit=st.integers(1, 5))
def test_rate_limiter_never_exceeds_its_window(gaps, limit) -> None:
    clock = FakeClock(start=0.0)
    limiter = RateLimiter(limit, 60.0, clock=clock, sleep=clock.sleep)
    stamps = []
    for gap in gaps:
        clock.now += gap
        limiter.acquire()
        stamps.append(clock.now)
    stamps_array = np.array(stamps)
    for t in stamps_array:
        in_window = ((stamps_array > t - 60.0) & (stamps_array <= t)).sum()
        assert in_window <= limit


def test_rate_limiter_does_not_wait_below_the_limit() -> None:
    clock = FakeClock(start=0.0)
    limiter = RateLimiter(750, clock=clock, sleep=clock.sleep)
    for _ in range(750):
        limiter.acquire()
    assert not clock.sleeps
    limiter.acquire()
    assert clock.sleeps == [60.0]


def test_batch_quotes_go_100_at_a_time(fake_fmp, fmp_client, clock) -> None:
    symbols = [f"S{i:03d}" for i in range(250)]
    quotes = fmp_client.batch_quotes(symbols)
    assert [q["symbol"] for q in quotes] == symbols
    sizes = [len(r["query"]["symbols"].split(",")) for r in fake_fmp.requests]
    assert sizes == [100, 100, 50]
    assert clock.sleeps == [0.1, 0.1]


def test_other_endpoints(fake_fmp, fmp_client) -> None:
    assert fmp_client.key_metrics_ttm("SPY")["peRatioTTM"] == 20.0
    assert fmp_client.ratios_ttm("SPY")["roeTTM"] == 0.2
    assert fmp_client.profile("SPY")["symbol"] == "SPY"
    assert list(fmp_client.listing("etf_list")["symbol"]) == ["AAA", "BBB"]
    assert fmp_client.screen_stocks(marketCapMoreThan=1000)["marketCap"][0] == 1001.0
    with pytest.raises(FMPError, match="unknown FMP endpoint 'nope'"):
        fmp_client.get("nope")
    with pytest.raises(FMPError, match="not a list endpoint"):
        fmp_client.listing("quote")


def test_historical_prices_are_oldest_first(fake_fmp, fmp_client, fmp_bars) -> None:
    frame = fmp_client.historical_prices("SPY")
    assert frame["date"].is_monotonic_increasing
    assert np.allclose(frame["close"], fmp_bars["SPY"]["close"])
    assert fmp_client.historical_prices("NOPE").empty


# -- FMPSource ---------------------------------------------------------------------------------
UNIVERSE = {"stocks": ["SPY"], "bonds": ["TLT"], "commodities": ["GLD"], "crypto": ["BTC-USD"]}


def test_fmp_source_builds_the_panel(fake_fmp, fmp_client, fmp_bars) -> None:
    source = FMPSource(UNIVERSE, "2005-01-01", "2005-12-31", client=fmp_client)
    data = source.load()
    assert data.tickers == ("SPY", "TLT", "GLD", "BTC-USD")
    assert data.asset_classes["BTC-USD"] == "crypto"
    assert data.n_days == 60
    assert np.allclose(data.prices[:, 3], fmp_bars["BTCUSD"]["close"])
    assert np.allclose(data.volumes[:, 0], fmp_bars["SPY"]["volume"])
    assert np.allclose(data.macro["VIX"], fmp_bars["^VIX"]["close"])
    assert fake_fmp.total == 5
    assert source.content_hash() == data.content_hash()
    assert fake_fmp.total == 5  # the second load came from the cache
    assert source.name == "fmp:start=2005-01-01,end=2005-12-31,universe=4-" + \
        source.name.rsplit("-", 1)[1]
    assert fmp_symbol("ETH-USD", "crypto") == "ETHUSD" and fmp_symbol("BRK-B", "stocks") == \
        "BRK-B"


def test_fmp_source_samples_crypto_on_exchange_days(fake_fmp, fmp_client, fmp_bars) -> None:
    days = pd.date_range(fmp_bars["SPY"]["date"].iloc[0], fmp_bars["SPY"]["date"].iloc[-1])
    fake_fmp.bars["BTCUSD"] = pd.DataFrame({"date": days, "close": np.arange(len(days)) + 1.0,
                                            "volume": 5.0})
    spy = fake_fmp.bars["SPY"].drop(index=10).reset_index(drop=True)  # a one-day gap
    fake_fmp.bars["SPY"] = spy
    data = FMPSource(UNIVERSE, "2005-01-01", "2005-12-31", client=fmp_client,
                     macro_symbols={}).load()
    assert (data.dates.day_of_week < 5).all() and len(data.dates) == 60
    gap = data.dates.get_loc(pd.Timestamp(fmp_bars["SPY"]["date"].iloc[10]))
    spy_col = data.tickers.index("SPY")
    assert data.prices[gap, spy_col] == data.prices[gap - 1, spy_col]  # carried forward
    assert data.volumes[gap, spy_col] == 0.0
    assert data.prices[gap, 3] == days.get_loc(data.dates[gap]) + 1.0


def test_fmp_source_errors(fake_fmp, fmp_client) -> None:
    with pytest.raises(DataError, match=r"no prices for XYZ \(symbol XYZ\)"):
        FMPSource({"stocks": ["XYZ"]}, "2005-01-01", "2005-12-31", client=fmp_client).load()
    frame = fake_fmp.bars["TLT"]
    fake_fmp.bars["TLT"] = frame.drop(index=range(10, 20)).reset_index(drop=True)
    with pytest.raises(DataError, match="TLT has no price for more than 5 days"):
        FMPSource(UNIVERSE, "2005-01-01", "2005-12-31", client=fmp_client).load()
    with pytest.raises(DataError, match="unknown asset class 'equity'"):
        FMPSource({"equity": ["SPY"]}, "2005-01-01", "2005-12-31", client=fmp_client)
    with pytest.raises(DataError, match="must be after start"):
        FMPSource(UNIVERSE, "2006-01-01", "2005-12-31", client=fmp_client)
    with pytest.raises(DataError, match="give each ticker once"):
        FMPSource({"stocks": ["SPY"], "reits": ["SPY"]}, "2005-01-01", "2005-12-31",
                  client=fmp_client)
