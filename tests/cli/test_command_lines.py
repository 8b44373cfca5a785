"""Both command lines follow one set of conventions: ``alphaloop`` and
``python -m strategy`` are typer commands whose help shows flags as flags, with the same
flag names, defaults and units, and bad input exits with code 2 and no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from alphaloop.cli import app

ROOT = Path(__file__).resolve().parents[2]
DATA = "synthetic:years=4"  # the window below ends long before the held-out years


def _command_paths(command: object, prefix: list[str]) -> list[list[str]]:
    paths = [prefix]
    for name, sub in getattr(command, "commands", {}).items():
        paths += _command_paths(sub, [*prefix, name])
    return paths


def test_no_help_screen_shows_a_flag_as_taking_a_value() -> None:
    shown = 0
    for path in _command_paths(typer.main.get_command(app), []):
        run = CliRunner().invoke(app, [*path, "--help"])
        assert run.exit_code == 0, (path, run.output)
        assert "<bool>" not in run.output, path
        shown += 1
    assert shown >= 10
    cycle_help = CliRunner().invoke(app, ["cycle", "--help"]).output
    assert "--dry-run" in cycle_help and "--no-resume" not in cycle_help


def _strategy(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    from strategy.__main__ import main

    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_python_m_strategy_has_the_same_flags_and_defaults(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _strategy("--help", capsys=capsys)
    assert code == 0
    text = " ".join(out.replace("│", " ").split())
    assert "--profile,--config" in text and "--frequency" in text
    assert "[default: weekly]" in text and "[default: default]" in text
    assert "<bool>" not in text
    code, _, err = _strategy("--frequency", "hourly", capsys=capsys)
    assert code == 2 and "'hourly' is not one of" in err


def test_python_m_strategy_refuses_bad_input_in_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _strategy("--profile", "nosuch", "--data", DATA, "--out",
                             str(tmp_path / "out"), capsys=capsys)
    assert code == 2
    assert err.startswith("python -m strategy: error:") and "unknown profile 'nosuch'" in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_python_m_strategy_shows_fractions_as_percents(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _strategy("--start", "2006-01-02", "--end", "2006-06-30", "--frequency",
                             "monthly", "--profile", "conservative", "--data", DATA,
                             "--out", str(tmp_path / "out"), capsys=capsys)
    assert code == 0, out
    lines = {line.strip().split("  ")[0]: line for line in out.splitlines()
             if line.startswith("  ")}
    assert lines["max drawdown"].endswith("%") and lines["annual return"].endswith("%")
    assert not lines["sharpe"].endswith("%")
    assert "FinSage (conservative)" in out and "monthly rebalancing" in out
