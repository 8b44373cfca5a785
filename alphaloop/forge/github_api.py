"""Calls to the GitHub REST API that wait out rate limits, a bounded number of times.

GitHub answers 403 or 429 when a rate limit is hit. Its reference says: if
``retry-after`` is present, wait that many seconds; if ``x-ratelimit-remaining`` is 0,
wait until ``x-ratelimit-reset`` (UTC epoch seconds); otherwise wait at least a minute.
:class:`RateLimitedCalls` does exactly that with tenacity, for at most ``attempts`` tries
and never a single wait longer than ``max_wait`` seconds: past that it raises
:class:`RateLimited`, which says when to try again. A failed call is not retried for
any other reason: a 403 that is not a rate limit is a missing permission, and a request
GitHub failed (5xx) or never answered may have done its work, so only the caller can tell
whether repeating it is safe. Either is a :class:`GitHubAPIError` naming the request; a
request that got no answer (refused, reset, timed out) has no ``status``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from github import Auth, Github, GithubException
from requests import RequestException
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from alphaloop.forge.errors import ForgeError
from alphaloop.forge.github_settings import GitHubSettings

__all__ = ["GitHubAPIError", "RateLimited", "RateLimitedCalls", "connect", "rate_limit_wait"]

T = TypeVar("T")

#: GitHub's advice when a 403/429 carries no header saying how long to wait.
DEFAULT_WAIT = 60.0


class GitHubAPIError(ForgeError):
    """GitHub refused a request; the message carries its status and message."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class RateLimited(GitHubAPIError):
    """GitHub's rate limit would take longer to reset than the forge may wait."""


def _header(headers: Mapping[str, Any] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return str(value)
    return None


def is_rate_limited(error: BaseException) -> bool:
    """Whether ``error`` is GitHub saying "slow down" (403/429 with a rate-limit sign)."""
    if not isinstance(error, GithubException) or error.status not in (403, 429):
        return False
    headers = error.headers
    message = str((error.data or {}).get("message", "")).lower() \
        if isinstance(error.data, dict) else ""
    return (error.status == 429 or _header(headers, "retry-after") is not None
            or _header(headers, "x-ratelimit-remaining") == "0" or "rate limit" in message)


def rate_limit_wait(headers: Mapping[str, Any] | None, now: float) -> float:
    """Seconds to wait before retrying, from a rate-limited response's headers."""
    retry_after = _header(headers, "retry-after")
    if retry_after is not None:
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            pass
    reset = _header(headers, "x-ratelimit-reset")
    if _header(headers, "x-ratelimit-remaining") == "0" and reset is not None:
        try:
            return max(0.0, float(reset) - now) + 1.0
        except ValueError:
            pass
    return DEFAULT_WAIT


class RateLimitedCalls:
    """Run API calls, waiting for a rate limit to reset between at most ``attempts`` tries."""

    def __init__(self, *, max_wait: float = 900.0, attempts: int = 4,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.time) -> None:
        self.max_wait = max_wait
        self.attempts = attempts
        self._sleep = sleep
        self._clock = clock

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        headers = error.headers if isinstance(error, GithubException) else None
        seconds = rate_limit_wait(headers, self._clock())
        if seconds > self.max_wait:
            reset = datetime.fromtimestamp(self._clock() + seconds, UTC)
            raise RateLimited(
                f"GitHub's rate limit resets in {seconds:.0f} s (at {reset:%H:%M:%S} UTC), "
                f"longer than the {self.max_wait:.0f} s this command waits; run it again "
                "after that time.")
        return seconds

    def __call__(self, what: str, call: Callable[[], T]) -> T:
        """``call()``, retried while rate limited; ``what`` names it in errors."""
        retrying = Retrying(retry=retry_if_exception(is_rate_limited), wait=self._wait,
                            stop=stop_after_attempt(self.attempts), sleep=self._sleep,
                            reraise=True)
        try:
            return retrying(call)
        except GithubException as error:
            message = error.data.get("message") if isinstance(error.data, dict) else error.data
            if is_rate_limited(error):
                raise RateLimited(f"{what}: GitHub still rate-limits after {self.attempts} "
                                  "tries; run the command again later.") from None
            raise GitHubAPIError(f"{what}: GitHub answered {error.status} ({message}).",
                                 error.status) from None
        except RequestException as error:  # refused, reset, timed out: no answer at all
            reason = type(error).__name__
            raise GitHubAPIError(f"{what}: GitHub did not answer ({reason}: "
                                 f"{_first_line(error)}); it may or may not have done it. "
                                 "Check the network and GITHUB_API_URL, then run the command "
                                 "again.") from None


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else "no detail"


def connect(settings: GitHubSettings) -> Github:
    """A PyGithub client for ``settings``; its own retries are off (see
    :class:`RateLimitedCalls`), and writes are spaced by ``settings.write_interval``."""
    return Github(auth=Auth.Token(settings.token.get_secret_value()),
                  base_url=settings.api_url.rstrip("/"), retry=None, per_page=100,
                  timeout=settings.timeout,
                  seconds_between_requests=None,
                  seconds_between_writes=settings.write_interval or None)
