"""Options of ``alphaloop cycle``: what the CLI builds and the cycle runs with."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from alphaloop.contract import TRADING_DAYS_PER_YEAR
from alphaloop.errors import Failure
from alphaloop.harness.windows import HOLDOUT_DAYS, MIN_HOLDOUT_DAYS
from alphaloop.llm import LLMConfig

__all__ = ["CycleError", "CycleOptions"]


class CycleError(Failure, RuntimeError):
    """The cycle cannot go on; the message says why and what to do. Nothing is lost."""


class CycleOptions(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    data: str = Field(default="synthetic", description="data source spec")
    until: date | None = Field(default=None, description="use the data up to this date "
                                                          "only; the clock is its last "
                                                          "session on or before it")
    clock: date | None = Field(default=None, description="start the loop's clock here "
                                                         "when no deployment has moved it: "
                                                         "research sees the data up to it, "
                                                         "deployments trade the bars after it")
    profile: str = "default"
    frequency: str = Field(default="weekly", pattern="^(daily|weekly|monthly)$")
    holdout_days: int = Field(default=HOLDOUT_DAYS, ge=MIN_HOLDOUT_DAYS)
    n_folds: int = Field(default=4, ge=0)
    warmup_days: int = Field(default=TRADING_DAYS_PER_YEAR, ge=0)
    base_branch: str | None = Field(default=None, description="default: main")
    sandbox: str = "process"
    allow_unsandboxed: bool = False
    executor: str = Field(default="process", pattern="^(serial|process|ray)$",
                          description="where independent backtests fan out: serial, "
                                      "process (a local pool) or ray")
    structural_every: int = Field(default=3, ge=0,
                                  description="every Nth cycle tries a code change")
    wall_seconds: float = Field(default=900.0, gt=0, description="sandbox wall-time limit")
    forge: str = Field(default="local", pattern="^(local|github)$",
                       description="where pull requests live: local (git) or github")
    llm: LLMConfig = Field(default_factory=LLMConfig,
                           description="the model the roles think with (offline: none)")
