"""Shared fixtures of the market-data tests: synthetic panels, a fake clock, a fake FMP.

``FakeFMP`` is a small fake of the FMP stable API on 127.0.0.1: it speaks the endpoints the
client uses, checks the ``apikey`` parameter, counts and records every request, and can be
told to answer the next requests with given statuses (e.g. 429 then 503) before answering
normally.
"""

from __future__ import annotations

import json
import threading
from collections import Counter, deque
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pandas as pd
import pytest
from support.fake_clock import FakeClock

from alphaloop.data import MarketData, SyntheticConfig, SyntheticSource
from alphaloop.data.fmp import FMPClient, FMPConfig

KEY = "test-key-0123456789"


class FakeFMP:
    """``with FakeFMP(bars) as fmp: ... fmp.base_url ...``; ``bars`` maps symbol to a
    frame with date, close and volume columns."""

    def __init__(self, bars: Mapping[str, pd.DataFrame] | None = None,
                 key: str = KEY) -> None:
        self.bars = dict(bars or {})
        self.key = key
        self.counts: Counter[str] = Counter()
        self.requests: list[dict[str, Any]] = []
        self.script: deque[tuple[int, dict[str, str], str]] = deque()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/stable"

    def fail_next(self, *statuses: int, headers: Mapping[str, str] | None = None,
                  body: str = "") -> None:
        """Answer the next requests with these statuses, in order."""
        for status in statuses:
            self.script.append((status, dict(headers or {}), body))

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def __enter__(self) -> FakeFMP:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # -- answers ------------------------------------------------------------------------
    def answer(self, path: str, query: dict[str, str]) -> tuple[int, Any]:
        endpoint = path.removeprefix("/stable")
        if query.get("apikey") != self.key:
            return 401, {"Error Message": "Invalid API KEY. Please retry or visit our "
                                          "documentation."}
        if endpoint == "/historical-price-eod/full":
            return 200, self._history(query)
        if endpoint == "/quote":
            return 200, [self._quote(query["symbol"])]
        if endpoint == "/batch-quote":
            return 200, [self._quote(s) for s in query["symbols"].split(",")]
        if endpoint in ("/key-metrics-ttm", "/ratios-ttm", "/profile"):
            return 200, [{"symbol": query["symbol"], "peRatioTTM": 20.0, "roeTTM": 0.2}]
        if endpoint in ("/etf-list", "/cryptocurrency-list", "/commodities-list",
                        "/stock-list"):
            return 200, [{"symbol": "AAA", "name": "A"}, {"symbol": "BBB", "name": "B"}]
        if endpoint == "/company-screener":
            return 200, [{"symbol": "AAA", "marketCap": float(query.get("marketCapMoreThan",
                                                                         0)) + 1}]
        return 404, {"Error Message": f"unknown endpoint {endpoint}"}

    def _quote(self, symbol: str) -> dict[str, Any]:
        frame = self.bars.get(symbol)
        price = float(frame["close"].iloc[-1]) if frame is not None else 100.0
        return {"symbol": symbol, "price": price}

    def _history(self, query: dict[str, str]) -> list[dict[str, Any]]:
        frame = self.bars.get(query["symbol"])
        if frame is None:
            return []
        dates = pd.to_datetime(frame["date"])
        mask = pd.Series(True, index=frame.index)
        if "from" in query:
            mask &= dates >= pd.Timestamp(query["from"])
        if "to" in query:
            mask &= dates <= pd.Timestamp(query["to"])
        rows = frame[mask].iloc[::-1]  # FMP answers newest first
        return [{"symbol": query["symbol"], "date": str(pd.Timestamp(r.date).date()),
                 "close": float(r.close), "volume": float(r.volume)}
                for r in rows.itertuples()]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parsed = urlparse(self.path)
                query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
                with fake._lock:
                    fake.counts[parsed.path] += 1
                    fake.requests.append({"path": parsed.path, "query": query})
                    scripted = fake.script.popleft() if fake.script else None
                if scripted is not None:
                    status, headers, body = scripted
                    self._send(status, body.encode(), headers)
                    return
                status, payload = fake.answer(parsed.path, query)
                self._send(status, json.dumps(payload).encode(),
                           {"Content-Type": "application/json"})

            def _send(self, status: int, body: bytes, headers: Mapping[str, str]) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                return

        return Handler


@pytest.fixture(scope="session")
def default_source() -> SyntheticSource:
    """The default 20-year synthetic market (generated once per session)."""
    source = SyntheticSource()
    source.load()
    return source


@pytest.fixture(scope="session")
def small_panel() -> MarketData:
    return SyntheticSource(SyntheticConfig(seed=5, years=3)).load()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fmp_bars(small_panel: MarketData) -> dict[str, pd.DataFrame]:
    """Daily bars for a few symbols, as FMP would spell them."""
    panel = small_panel.slice(end=small_panel.dates[59])
    bars = {}
    for ticker, symbol in (("SPY", "SPY"), ("TLT", "TLT"), ("GLD", "GLD"),
                           ("BTC-USD", "BTCUSD")):
        j = panel.tickers.index(ticker)
        bars[symbol] = pd.DataFrame({"date": panel.dates, "close": panel.prices[:, j],
                                     "volume": panel.volumes[:, j]})
    bars["^VIX"] = pd.DataFrame({"date": panel.dates, "close": panel.macro["VIX"],
                                 "volume": 0.0})
    return bars


@pytest.fixture
def fake_fmp(fmp_bars: dict[str, pd.DataFrame]) -> Iterator[FakeFMP]:
    with FakeFMP(fmp_bars) as server:
        yield server


@pytest.fixture
def fmp_config(fake_fmp: FakeFMP, tmp_path: Path) -> FMPConfig:
    return FMPConfig(api_key=KEY, base_url=fake_fmp.base_url, cache_dir=tmp_path / "cache",
                     timeout_seconds=5.0, max_attempts=4)


@pytest.fixture
def fmp_client(fmp_config: FMPConfig, clock: FakeClock) -> Iterator[FMPClient]:
    with FMPClient(fmp_config, clock=clock, wall_clock=clock, sleep=clock.sleep) as client:
        yield client


@pytest.fixture
def fmp_key() -> str:
    return KEY


REAL_FIXTURE = (Path(__file__).parents[1] / "fixtures" / "real-multiasset"
                / "real_multiasset_2015_2020.csv")


@pytest.fixture(scope="session")
def real_fixture() -> MarketData:
    """The committed slice of the real multi-asset dataset, aligned on NYSE sessions."""
    from alphaloop.data import FileSource

    return FileSource(REAL_FIXTURE).load()
