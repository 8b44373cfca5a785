"""Market data: the panel, its sources (synthetic, files, FMP) and stress scenarios.

``open_source("synthetic")`` gives the embedded default; every source returns a validated
:class:`MarketData` from ``load()`` and the hash of exactly that panel from
``content_hash()``. Strategies never receive a ``MarketData``: the harness hands them
point-in-time views (``MarketData.view``).
"""

from alphaloop.data.base import DataSource
from alphaloop.data.calendar import Alignment, AssetAlignment
from alphaloop.data.crises import CRISIS_WINDOWS, CrisisCoverage, CrisisWindow, crisis_coverage
from alphaloop.data.files import FileSource
from alphaloop.data.fmp import FMPAuthError, FMPClient, FMPConfig, FMPError, FMPSource
from alphaloop.data.panel import DataError, MarketData
from alphaloop.data.registry import open_source
from alphaloop.data.schema import (
    DEFAULT_UNIVERSE,
    FUNDAMENTAL_FIELDS,
    MACRO_SERIES,
    FieldSpec,
    fields_for_class,
)
from alphaloop.data.stress import (
    STRESS_SCENARIOS,
    Scenario,
    StressScenario,
    StressWindow,
    skipped_crises,
    stress_panel,
    stress_scenarios,
)
from alphaloop.data.synthetic import REGIMES, SyntheticConfig, SyntheticSource

__all__ = [
    "CRISIS_WINDOWS",
    "DEFAULT_UNIVERSE",
    "FUNDAMENTAL_FIELDS",
    "MACRO_SERIES",
    "REGIMES",
    "STRESS_SCENARIOS",
    "Alignment",
    "AssetAlignment",
    "CrisisCoverage",
    "CrisisWindow",
    "DataError",
    "DataSource",
    "FMPAuthError",
    "FMPClient",
    "FMPConfig",
    "FMPError",
    "FMPSource",
    "FieldSpec",
    "FileSource",
    "MarketData",
    "Scenario",
    "StressScenario",
    "StressWindow",
    "SyntheticConfig",
    "SyntheticSource",
    "crisis_coverage",
    "fields_for_class",
    "open_source",
    "skipped_crises",
    "stress_panel",
    "stress_scenarios",
]
