"""Market data: the panel, its sources (synthetic, files, FMP) and stress scenarios.

``open_source("synthetic")`` gives the embedded default; every source returns a validated
:class:`MarketData` from ``load()`` and the hash of exactly that panel from
``content_hash()``. Strategies never receive a ``MarketData``: the harness hands them
point-in-time views (``MarketData.view``).
"""

from __future__ import annotations

from alphaloop.lazy import lazy_exports

# Each module of the package and the public names it defines. A name is imported on
# first use (PEP 562): reading a file or a constant does not load the synthetic data's
# scipy, nor the FMP client's HTTP stack.
_EXPORTS: dict[str, tuple[str, ...]] = {
    "base": ("DataSource",),
    "calendar": ("Alignment", "AssetAlignment"),
    "crises": ("CRISIS_WINDOWS", "CrisisCoverage", "CrisisWindow", "crisis_coverage"),
    "files": ("FileSource",),
    "fmp": ("FMPAuthError", "FMPClient", "FMPConfig", "FMPError", "FMPSource"),
    "panel": ("DataError", "MarketData"),
    "registry": ("open_source",),
    "schema": ("DEFAULT_UNIVERSE", "FUNDAMENTAL_FIELDS", "MACRO_SERIES", "FieldSpec",
               "fields_for_class"),
    "stress": ("STRESS_SCENARIOS", "Scenario", "StressScenario", "StressWindow",
               "skipped_crises", "stress_panel", "stress_scenarios"),
    "synthetic": ("REGIMES", "SyntheticConfig", "SyntheticSource"),
}

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

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
