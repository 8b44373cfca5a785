"""Opening a data source from a short text spec, as the CLI and configs name them.

Specs::

    synthetic                                   the seeded default market
    synthetic:seed=11,years=5                   options of SyntheticConfig
    synthetic:seed=3,start=2010-01-04,signal_strength=0
    file:PATH  or  PATH.csv / PATH.parquet      a CSV or Parquet file (FileSource)
    fmp                                         FMP daily prices of the default universe
    fmp:start=2015-01-01,end=2024-12-31         (needs FMP_API_KEY)

A source's ``name`` is a spec that opens the same source again (synthetic markets of
the default universe, files, and FMP over the default universe).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from pydantic import ValidationError

from alphaloop.data.base import DataSource
from alphaloop.data.files import FileSource
from alphaloop.data.fmp import FMPClient, FMPConfig, FMPSource
from alphaloop.data.panel import DataError
from alphaloop.data.schema import DEFAULT_UNIVERSE
from alphaloop.data.synthetic import SyntheticConfig, SyntheticSource

__all__ = ["SPEC_HELP", "open_source"]

SPEC_HELP = ("synthetic[:seed=N,years=Y,start=YYYY-MM-DD,signal_strength=S], "
             "file:PATH (or a path ending in .csv or .parquet), "
             "fmp[:start=YYYY-MM-DD,end=YYYY-MM-DD]")

_FILE_SUFFIXES = (".csv", ".parquet", ".pq")
_FMP_OPTIONS = ("start", "end")


def _options(spec: str, text: str) -> dict[str, str]:
    options: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise DataError(f"data source {spec!r}: option {part!r} is not key=value")
        options[key.strip()] = value.strip()
    return options


def _synthetic(spec: str, text: str) -> SyntheticSource:
    options: dict[str, Any] = _options(spec, text)
    allowed = sorted(set(SyntheticConfig.model_fields) - {"universe"})
    unknown = sorted(set(options) - set(allowed))
    if "universe" in options:
        raise DataError(f"data source {spec!r}: a custom universe cannot be written in a "
                        "spec; build SyntheticConfig(universe=...) in code")
    if unknown:
        raise DataError(f"data source {spec!r}: unknown option(s) {', '.join(unknown)}; "
                        f"synthetic takes {', '.join(allowed)}")
    try:
        return SyntheticSource(SyntheticConfig(**options))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                             for e in exc.errors())
        raise DataError(f"data source {spec!r}: {problems}") from None


def _fmp(spec: str, text: str, environ: Mapping[str, str] | None) -> FMPSource:
    options = _options(spec, text)
    unknown = sorted(set(options) - set(_FMP_OPTIONS))
    if unknown:
        raise DataError(f"data source {spec!r}: unknown option(s) {', '.join(unknown)}; "
                        f"fmp takes {', '.join(_FMP_OPTIONS)}")
    client = FMPClient(FMPConfig.from_env(environ))
    return FMPSource(DEFAULT_UNIVERSE, options.get("start", "2005-01-01"),
                     options.get("end", str(date.today())), client=client)


def open_source(spec: str, *, environ: Mapping[str, str] | None = None) -> DataSource:
    """The data source ``spec`` names (see the module docstring for the forms).

    ``environ`` replaces ``os.environ`` for the FMP settings. Raises :class:`DataError`
    for an unknown or malformed spec, naming it and listing the choices.
    """
    text = spec.strip()
    kind, _, rest = text.partition(":")
    if kind == "synthetic":
        return _synthetic(spec, rest)
    if kind == "file" and rest:
        return FileSource(rest)
    if text.lower().endswith(_FILE_SUFFIXES):
        return FileSource(text)
    if kind == "fmp":
        return _fmp(spec, rest, environ)
    raise DataError(f"unknown data source {spec!r}; choose one of: {SPEC_HELP}")
