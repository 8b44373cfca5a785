"""``policies/performance.toml``: how big the backtest cache may grow and where backtests
fan out. Optional; without it the defaults hold::

    [cache]
    max_mb = 2048          # size cap of .git/alphaloop/cache, in MiB

    [executor]
    workers = 2            # processes or Ray CPUs (default: the machine's cores)
    address = "ray://head:10001"   # the Ray cluster for --executor ray
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from alphaloop.policy.loader import load_optional

__all__ = ["DEFAULT_MAX_MB", "PERFORMANCE_POLICY", "CacheSettings", "ExecutorSettings",
           "PerformancePolicy", "read_performance_policy"]

#: The cache's cap when ``policies/performance.toml`` sets none.
DEFAULT_MAX_MB = 2048
#: Where a repository keeps these settings, relative to its root.
PERFORMANCE_POLICY = "policies/performance.toml"


class CacheSettings(BaseModel):
    """``[cache]``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_mb: int = Field(DEFAULT_MAX_MB, ge=1, description="size cap of the cache in MiB")

    @property
    def max_bytes(self) -> int:
        return self.max_mb * 1024 * 1024


class ExecutorSettings(BaseModel):
    """``[executor]``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    workers: int | None = Field(None, ge=1, description="parallel backtests (default: "
                                                         "the machine's cores)")
    address: str | None = Field(None, description="Ray cluster address (default: "
                                                  "RAY_ADDRESS, else a local instance)")


class PerformancePolicy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    cache: CacheSettings = Field(default_factory=CacheSettings)
    executor: ExecutorSettings = Field(default_factory=ExecutorSettings)


def read_performance_policy(repo_root: Path) -> PerformancePolicy:
    """The settings of the repository at ``repo_root`` (defaults without the file);
    :class:`PolicyError` naming the key when the file is wrong."""
    return load_optional(repo_root, PERFORMANCE_POLICY, PerformancePolicy)
