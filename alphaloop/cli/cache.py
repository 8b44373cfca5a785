"""``alphaloop cache info|prune``: the backtest cache under ``.git/alphaloop/cache``.

``info`` shows where the cache is, its size against its cap (``[cache] max_mb`` of
``policies/performance.toml``), how many results and checkouts it holds and how many
lookups hit. ``prune`` removes the least recently used entries until the cache is under
``--max-mb`` (the cap by default); ``--all`` empties it. Neither removes what a running
cycle may be using (see :mod:`alphaloop.evaluation.cache`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from alphaloop.cli._errors import EXIT_USER_ERROR, fail
from alphaloop.errors import Failure

if TYPE_CHECKING:
    from alphaloop.evaluation.cache import BacktestCache

__all__ = ["register"]

RepoOption = Annotated[Path, typer.Option("--repo", help="repository whose cache is used")]

cache_app = typer.Typer(help="The backtest cache (.git/alphaloop/cache).",
                        no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(cache_app, name="cache")


def _open(repo: Path) -> BacktestCache:
    from alphaloop.evaluation.cache import BacktestCache, read_cache_settings
    from alphaloop.repo import GitRepo

    opened = GitRepo.open(repo)
    return BacktestCache(opened.alphaloop_dir / "cache",
                         max_bytes=read_cache_settings(opened.work_tree).max_bytes)


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB"


@cache_app.command("info")
def info(repo: RepoOption = Path("."),
         as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False) -> None:
    """Show the cache's location, size, cap, entries and hit counts."""
    try:
        shown = _open(repo).info()
    except Failure as exc:
        raise fail("cache info", str(exc)) from None
    out = Console(soft_wrap=True, highlight=False)
    if as_json:
        out.print(escape(json.dumps(shown.model_dump(), indent=2)))
        return
    lookups = shown.hits + shown.misses
    rate = f" ({shown.hits / lookups:.0%} hit)" if lookups else ""
    for label, value in (
            ("location", shown.location),
            ("size", f"{_mb(shown.size_bytes)} of {_mb(shown.max_bytes)}"),
            ("results", f"{shown.entries} ({_mb(shown.entry_bytes)})"),
            ("checkouts", f"{shown.checkouts} ({_mb(shown.checkout_bytes)})"),
            ("other", f"{_mb(shown.other_bytes)} (scratch, files being written)"),
            ("lookups", f"{shown.hits} hits, {shown.misses} misses{rate}")):
        out.print(f"{label:<10} {escape(value)}")


@cache_app.command("prune")
def prune(repo: RepoOption = Path("."),
          max_mb: Annotated[int | None, typer.Option(
              "--max-mb", help="evict least recently used entries down to this many MiB "
                               "(default: the cap)")] = None,
          everything: Annotated[bool, typer.Option(
              "--all", help="remove every entry (what a running cycle uses stays)")] = False,
          ) -> None:
    """Evict least recently used entries down to the cap, or everything with --all."""
    if max_mb is not None and max_mb < 0:
        raise fail("cache prune", f"--max-mb must be 0 or more (got {max_mb})",
                   EXIT_USER_ERROR)
    if everything and max_mb is not None:
        raise fail("cache prune", "give --max-mb or --all, not both", EXIT_USER_ERROR)
    try:
        report = _open(repo).prune(None if max_mb is None else max_mb * 1024 * 1024,
                                   everything=everything)
    except Failure as exc:
        raise fail("cache prune", str(exc)) from None
    Console(soft_wrap=True, highlight=False).print(
        f"removed {report.removed} entries, freed {_mb(report.freed_bytes)}; "
        f"the cache now holds {_mb(report.size_bytes)}")
