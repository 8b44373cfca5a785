"""What every optimiser returns, and the one error it may raise.

An optimiser either answers with an :class:`OptimizationResult` (possibly produced by a
simpler fallback method, which the result says) or raises :class:`OptimizationError`
when the request itself cannot be honoured: unknown method or option, inputs of the
wrong shape or holding NaN, or bounds that no portfolio can satisfy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["OptimizationError", "OptimizationResult"]


class OptimizationError(ValueError):
    """The optimisation request is invalid; the message names the input and the fix."""


@dataclass(frozen=True)
class OptimizationResult:
    """Target weights and how they were obtained.

    Attributes:
        weights: one weight per asset, in the order of the covariance matrix; they lie
            within the requested bounds and sum to the budget (both within 1e-9). The
            array is read-only.
        method: the method that was asked for (canonical name from ``METHODS``).
        converged: ``True`` when that method solved the problem itself; ``False`` when a
            fallback produced the weights.
        fallback: name of the simpler method that produced the weights, or ``None``.
        message: what happened, in words: repairs made to the inputs, why a solver was
            abandoned, which bounds were active. Empty when there is nothing to say.
        details: method-specific numbers worth recording (e.g. the Black-Litterman
            posterior returns, the CVaR value at the optimum), JSON-able.
    """

    weights: np.ndarray
    method: str
    converged: bool
    fallback: str | None = None
    message: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        frozen = np.array(self.weights, dtype=float, copy=True)
        frozen.setflags(write=False)
        object.__setattr__(self, "weights", frozen)

    def to_record(self, tickers: list[str] | tuple[str, ...] | None = None) -> dict[str, Any]:
        """A JSON-able summary for a decision record.

        Args:
            tickers: asset names in weight order; when given, weights are keyed by ticker.
        """
        if tickers is not None and len(tickers) != self.weights.size:
            raise OptimizationError(
                f"to_record got {len(tickers)} tickers for {self.weights.size} weights; "
                "pass the tickers in the order of the covariance matrix"
            )
        weights: dict[str, float] | list[float]
        if tickers is None:
            weights = [float(x) for x in self.weights]
        else:
            weights = {t: float(x) for t, x in zip(tickers, self.weights, strict=True)}
        return {
            "method": self.method,
            "converged": self.converged,
            "fallback": self.fallback,
            "message": self.message,
            "weights": weights,
            "details": dict(self.details),
        }
