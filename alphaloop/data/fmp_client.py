"""Client for the Financial Modeling Prep (FMP) API, as FinSage's data layer uses it.

Spec: FinSage technical doc sections 2.6 and 7.1-7.3. Requests go to
``{base_url}{endpoint}?...&apikey=KEY`` (stable API); the client keeps to the tier's rate
limit (750 requests a minute for Ultra), asks for batch quotes 100 symbols at a time,
caches every JSON answer on disk for 24 hours under a key that leaves the API key out,
and retries rate-limit (429), server (5xx) and connection failures with exponential
backoff (honouring ``Retry-After``). A missing key or a 401/403 raises
:class:`FMPAuthError` at once. Nothing here prints or stores the key.

Exceptions::

    DataError (ValueError)
    └── FMPError            any failure talking to FMP; the message names the URL
        └── FMPAuthError    no key, or the key was refused

:class:`~alphaloop.data.fmp.FMPSource` turns historical prices into a
:class:`~alphaloop.data.panel.MarketData`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pandas as pd
import requests
from pydantic import BaseModel, ConfigDict, Field, SecretStr
from tenacity import (
    RetryCallState,
    RetryError,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from alphaloop.data._http_cache import ResponseCache, cache_key
from alphaloop.data._rate_limit import RateLimiter
from alphaloop.data.panel import DataError

__all__ = ["DEFAULT_ENDPOINTS", "FMPAuthError", "FMPClient", "FMPConfig", "FMPError"]

DEFAULT_ENDPOINTS: Mapping[str, str] = MappingProxyType({
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
})
"""FinSage's endpoint table (spec 2.6), relative to ``base_url``."""


class FMPError(DataError):
    """A request to FMP failed; the message names the URL (never the key)."""


class FMPAuthError(FMPError):
    """No API key was configured, or FMP refused it."""


def _default_cache_dir(environ: Mapping[str, str]) -> Path:
    if environ.get("ALPHALOOP_CACHE_DIR"):
        return Path(environ["ALPHALOOP_CACHE_DIR"]) / "fmp"
    base = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "alphaloop" / "fmp"


class FMPConfig(BaseModel):
    """How to reach FMP. ``cache_dir=None`` turns the on-disk cache off."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    api_key: SecretStr | None = None
    base_url: str = "https://financialmodelingprep.com/stable"
    tier: str = "ultra"
    endpoints: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_ENDPOINTS))
    requests_per_minute: int = Field(default=750, ge=1)
    batch_size: int = Field(default=100, ge=1)
    delay_between_batches: float = Field(default=0.1, ge=0)
    cache_dir: Path | None = None
    cache_ttl_seconds: float = Field(default=86_400.0, ge=0)
    timeout_seconds: float = Field(default=30.0, gt=0)
    max_attempts: int = Field(default=5, ge=1)
    backoff_initial: float = Field(default=1.0, ge=0)
    backoff_max: float = Field(default=30.0, ge=0)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any
                 ) -> FMPConfig:
        """Settings from ``FMP_API_KEY``, ``FMP_BASE_URL``, ``FMP_API_TIER`` and the
        cache directory (``ALPHALOOP_CACHE_DIR``/fmp, else the user's cache folder)."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {"cache_dir": _default_cache_dir(env)}
        if env.get("FMP_API_KEY"):
            values["api_key"] = SecretStr(env["FMP_API_KEY"])
        if env.get("FMP_BASE_URL"):
            values["base_url"] = env["FMP_BASE_URL"]
        if env.get("FMP_API_TIER"):
            values["tier"] = env["FMP_API_TIER"]
        values.update(overrides)
        return cls(**values)

    def endpoint_url(self, endpoint: str) -> str:
        try:
            return self.base_url.rstrip("/") + self.endpoints[endpoint]
        except KeyError:
            raise FMPError(f"unknown FMP endpoint {endpoint!r}; known: "
                           f"{', '.join(sorted(self.endpoints))}") from None


class _Retryable(Exception):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _retry_after(response: requests.Response) -> float | None:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return None


class FMPClient:
    """Typed access to the FMP endpoints FinSage uses.

    ``session``, ``clock`` (monotonic, for the rate limit), ``wall_clock`` (for cache
    ages) and ``sleep`` can be injected, so tests run against a local server and never
    actually wait.
    """

    def __init__(self, config: FMPConfig | None = None, *,
                 session: requests.Session | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 wall_clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.config = config or FMPConfig.from_env()
        if self.config.api_key is None or not self.config.api_key.get_secret_value():
            raise FMPAuthError("FMP_API_KEY is not set: export FMP_API_KEY=<your key> "
                               "(or pass FMPConfig(api_key=...)) to use FMP data, or use "
                               "the synthetic or file data sources instead")
        self._key = self.config.api_key.get_secret_value()
        self._own_session = session is None
        self._session = session or requests.Session()
        self._sleep = sleep
        self.limiter = RateLimiter(self.config.requests_per_minute, 60.0,
                                   clock=clock, sleep=sleep)
        self.cache = (ResponseCache(self.config.cache_dir, self.config.cache_ttl_seconds,
                                    clock=wall_clock)
                      if self.config.cache_dir is not None else None)
        self.requests_sent = 0
        """HTTP requests actually sent (cache hits excluded), for reports and tests."""

    def close(self) -> None:
        """Close the pooled connections of the client's own session (it reconnects when
        used again); a session passed in is the caller's to close."""
        if self._own_session:
            self._session.close()

    def __enter__(self) -> FMPClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transport ----------------------------------------------------------------------
    def get(self, endpoint: str, **params: Any) -> Any:
        """The JSON answer of ``endpoint`` for ``params`` (cached, rate-limited, retried)."""
        url = self.config.endpoint_url(endpoint)
        key = cache_key(url, params)
        if self.cache is not None:
            hit, payload = self.cache.get(key)
            if hit:
                return payload
        retrying = Retrying(
            stop=stop_after_attempt(self.config.max_attempts),
            wait=self._wait,
            retry=retry_if_exception_type(_Retryable),
            sleep=self._sleep,
        )
        try:
            payload = retrying(self._fetch, url, key, params)
        except RetryError as exc:
            last = exc.last_attempt.exception()
            raise FMPError(f"{key}: gave up after {self.config.max_attempts} attempts; "
                           f"last error: {last}") from None
        if self.cache is not None:
            self.cache.put(key, payload)
        return payload

    def _wait(self, state: RetryCallState) -> float:
        backoff = wait_exponential(multiplier=self.config.backoff_initial,
                                   max=self.config.backoff_max)(state)
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, _Retryable) and error.retry_after is not None:
            return max(backoff, min(error.retry_after, 60.0))
        return backoff

    def _fetch(self, url: str, key: str, params: Mapping[str, Any]) -> Any:
        self.limiter.acquire()
        query = {k: v for k, v in params.items() if v is not None}
        query["apikey"] = self._key
        self.requests_sent += 1
        try:
            response = self._session.get(url, params=query,
                                         timeout=self.config.timeout_seconds)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise _Retryable(f"connection failed ({self._redact(str(exc))})") from None
        status = response.status_code
        if status in (401, 403):
            raise FMPAuthError(f"{key}: FMP refused the API key (HTTP {status}); check "
                               "FMP_API_KEY and that your plan covers this endpoint")
        if status == 429 or status >= 500:
            raise _Retryable(f"HTTP {status}", _retry_after(response) if status == 429
                             else None)
        if status >= 400:
            raise FMPError(f"{key}: HTTP {status}: {self._redact(response.text[:200])}")
        try:
            payload = response.json()
        except ValueError:
            raise FMPError(f"{key}: the answer is not JSON: "
                           f"{self._redact(response.text[:200])!r}") from None
        if isinstance(payload, dict) and "Error Message" in payload:
            raise FMPError(f"{key}: FMP says: {self._redact(str(payload['Error Message']))}")
        return payload

    def _redact(self, text: str) -> str:
        return text.replace(self._key, "***")

    # -- endpoints ----------------------------------------------------------------------
    def historical_prices(self, symbol: str, start: str | None = None,
                          end: str | None = None) -> pd.DataFrame:
        """Daily bars of ``symbol`` (oldest first): date, close, volume and what FMP adds.

        ``close`` is the dividend-adjusted close when FMP gives one (``adjClose``).
        """
        payload = self.get("historical_price", symbol=symbol, **{"from": start, "to": end})
        rows = payload.get("historical", []) if isinstance(payload, dict) else payload
        if not isinstance(rows, list):
            raise FMPError(f"historical prices of {symbol}: unexpected answer {payload!r:.200}")
        if not rows:
            return pd.DataFrame({"date": pd.DatetimeIndex([]), "close": [], "volume": []})
        frame = pd.DataFrame(rows)
        for column in ("date", "close"):
            if column not in frame:
                raise FMPError(f"historical prices of {symbol}: no {column!r} in the answer")
        if "adjClose" in frame:
            frame["close"] = frame["adjClose"]
        if "volume" not in frame:
            frame["volume"] = float("nan")
        frame["date"] = pd.to_datetime(frame["date"]).dt.normalize()
        return frame.sort_values("date").drop_duplicates("date", keep="last").reset_index(
            drop=True)

    def quote(self, symbol: str) -> dict[str, Any]:
        rows = self.get("quote", symbol=symbol)
        if not rows:
            raise FMPError(f"no quote for {symbol!r}")
        return dict(rows[0])

    def batch_quotes(self, symbols: Iterable[str]) -> list[dict[str, Any]]:
        """Quotes for many symbols, ``batch_size`` per request with a pause between."""
        symbols = list(symbols)
        out: list[dict[str, Any]] = []
        size = self.config.batch_size
        for i in range(0, len(symbols), size):
            if i:
                self._sleep(self.config.delay_between_batches)
            out.extend(self.get("batch_quote", symbols=",".join(symbols[i:i + size])))
        return out

    def key_metrics_ttm(self, symbol: str) -> dict[str, Any]:
        rows = self.get("key_metrics_ttm", symbol=symbol)
        return dict(rows[0]) if rows else {}

    def ratios_ttm(self, symbol: str) -> dict[str, Any]:
        rows = self.get("ratios_ttm", symbol=symbol)
        return dict(rows[0]) if rows else {}

    def profile(self, symbol: str) -> dict[str, Any]:
        rows = self.get("profile", symbol=symbol)
        return dict(rows[0]) if rows else {}

    def screen_stocks(self, **filters: Any) -> pd.DataFrame:
        """The company screener (e.g. ``marketCapMoreThan=1e9, sector="Technology"``)."""
        return pd.DataFrame(self.get("company_screener", **filters))

    def listing(self, endpoint: str) -> pd.DataFrame:
        """One of the list endpoints: stock_list, etf_list, cryptocurrency_list,
        commodities_list."""
        if not endpoint.endswith("_list"):
            raise FMPError(f"{endpoint!r} is not a list endpoint")
        return pd.DataFrame(self.get(endpoint))
