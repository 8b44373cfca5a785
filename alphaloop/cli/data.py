"""``alphaloop data check FILE``: what a data file holds and what a cycle can do with it.

The data library (pandas) is imported when the command runs, not with this module.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from alphaloop.cli._errors import fail
from alphaloop.data.defaults import AUTO, SUSPICIOUS_MOVE
from alphaloop.errors import Failure

if TYPE_CHECKING:
    from alphaloop.data.report import DataReport

__all__ = ["register"]

data_app = typer.Typer(help="Inspect market data files.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(data_app, name="data")


@data_app.command("check")
def check(
    file: Annotated[Path, typer.Argument(help="CSV or Parquet file (long or wide layout)")],
    calendar: Annotated[str, typer.Option(
        help="auto (NYSE sessions, 24/7 when all assets are crypto), 24/7, file, or an "
             "exchange-calendars name such as XNYS")] = AUTO,
    move_limit: Annotated[float, typer.Option(
        min=0.0, help="daily moves larger than this are listed as suspicious")]
    = SUSPICIOUS_MOVE,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")]
    = False,
) -> None:
    """Coverage per asset, calendar alignment, gaps, odd moves, missing fields, real
    stress windows, and what a cycle will and will not be able to assess."""
    from alphaloop.data import FileSource
    from alphaloop.data.report import data_report

    try:
        data, alignment = FileSource(file, calendar=calendar).load_aligned()
    except Failure as exc:
        raise fail("data check", str(exc)) from None
    report = data_report(data, alignment, move_limit=move_limit)
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
        return
    _print(report, move_limit)


_SHORT_RULES = {"same session": "session", "next session after its UTC day": "next session",
                "own date": "own date"}


def _print(report: DataReport, move_limit: float) -> None:
    console = Console(soft_wrap=True)
    console.print(f"[bold]{escape(report.source)}[/]: {len(report.assets)} assets, "
                  f"{report.sessions} sessions {report.first} to {report.last} on the "
                  f"[bold]{report.calendar}[/] calendar", highlight=False)
    console.print("aligned: 'session' = a row belongs to the session of its date; 'next "
                  "session' = a UTC-day bar (crypto) belongs to the first session after "
                  "its day (weekends roll into Monday, the latest bar wins); 'merged' rows "
                  "were folded into a later row's session", highlight=False)
    table = Table(title="coverage per asset")
    for column in ("ticker", "class", "first", "last", "rows", "sessions", "share",
                   "aligned", "merged", "filled", "zero vol", "no vol",
                   f"moves >{move_limit:.0%}"):
        table.add_column(column, no_wrap=True)
    for a in report.assets:
        table.add_row(a.ticker, a.asset_class, str(a.first), str(a.last),
                      str(a.rows if a.rows is not None else "-"), str(a.sessions),
                      f"{a.share:.0%}", _SHORT_RULES.get(a.rule, a.rule), str(a.merged_rows),
                      str(a.filled), str(a.zero_volume), str(a.missing_volume),
                      str(len(a.suspicious)))
    Console(width=max(console.width, 160)).print(table)
    for a in report.assets:
        if a.filled:
            console.print(f"gaps: {a.ticker} had no row on {a.filled} session(s), last price "
                          f"kept: {', '.join(map(str, a.filled_sessions))}", highlight=False)
        if a.zero_volume:
            console.print(f"zero volume: {a.ticker} on {a.zero_volume} session(s): "
                          f"{', '.join(map(str, a.zero_volume_sessions))}", highlight=False)
        if a.dropped_rows:
            console.print(f"left out: {a.dropped_rows} row(s) of {a.ticker} usable only after "
                          "the last session", highlight=False)
        for move in a.suspicious:
            console.print(f"suspicious move: {a.ticker} {move.ret:+.1%} on {move.date}",
                          highlight=False)
    missing = report.missing_fields
    console.print(f"volume: {report.volume}; fundamentals: "
                  f"{', '.join(report.fundamentals) or 'none'}; macro: "
                  f"{', '.join(report.macro) or 'none'}", highlight=False)
    if missing:
        console.print(f"missing fields: {', '.join(missing)}", highlight=False)
    for crisis in report.crises:
        mark = "[green]covered[/]" if crisis.covered else "[yellow]not covered[/]"
        console.print(f"real stress window {crisis.name} ({crisis.start} to {crisis.end}): "
                      f"{mark}, {escape(crisis.reason)}", highlight=False)
    verdicts = Table(title="what a cycle can assess on this data")
    for column in ("topic", "assessed", "how"):
        verdicts.add_column(column)
    for item in report.assessments:
        verdicts.add_row(item.topic, "yes" if item.possible else "no", item.note)
    console.print(verdicts)
