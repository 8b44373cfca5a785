"""The backtest cache: keyed by version too, bounded with least-recently-used eviction,
safe when several processes share it, and a corrupt entry is a miss, never a crash."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from alphaloop.cli import app
from alphaloop.data.panel import MarketData
from alphaloop.data.synthetic import SyntheticConfig, generate
from alphaloop.evaluation import EvalSettings, Evaluator
from alphaloop.evaluation import cache as cache_module
from alphaloop.evaluation.cache import IN_USE_SECONDS, BacktestCache, read_cache_settings
from alphaloop.evaluation.performance import DEFAULT_MAX_MB
from alphaloop.harness import BacktestResult, Window, simulate
from alphaloop.policy.errors import PolicyError
from alphaloop.repo import GitRepo, Identity
from alphaloop.sandbox import open_sandbox

STRATEGY = """\
class Fixed:
    lookback = 5

    def decide(self, view, portfolio):
        return {"SPY": 0.5, "TLT": 0.3}


def create_strategy(profile="default", **overrides):
    return Fixed()
"""


class _Fixed:
    lookback = 1

    def decide(self, view: object, portfolio: object) -> dict[str, float]:
        return {"SPY": 0.6, "TLT": 0.2}


def _panel() -> MarketData:
    config = SyntheticConfig(seed=3, years=0.5,
                             universe={"stocks": ("SPY",), "bonds": ("TLT",)})
    return generate(config)[0]


@pytest.fixture(scope="module")
def result() -> BacktestResult:
    data = _panel()
    return simulate(_Fixed(), data, Window(start=data.dates[0].date(),
                                           end=data.dates[-1].date()))


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_a_stored_result_comes_back_equal_and_counts_as_a_hit(tmp_path: Path,
                                                               result: BacktestResult) -> None:
    cache = BacktestCache(tmp_path)
    key = cache.key({"tree": "t1"})
    assert cache.get(key) is None
    cache.put(key, result)
    assert cache.get(key) == result
    shown = cache.info()
    assert (shown.entries, shown.hits, shown.misses) == (1, 1, 1)
    assert shown.size_bytes >= cache.path(key).stat().st_size


def test_a_result_read_once_is_served_from_memory_while_its_file_is_unchanged(
        tmp_path: Path, result: BacktestResult) -> None:
    root = tmp_path / "cache"
    writer = BacktestCache(root)
    key = writer.key({"tree": "t1"})
    writer.put(key, result)
    reader = BacktestCache(root)
    first = reader.get(key)
    assert first == result
    assert reader.get(key) is first and reader.get(key) is first  # parsed once
    assert reader.info().hits == 3
    # another process stores another result under the key: the new file is read
    data = _panel()
    other = simulate(_Fixed(), data, Window(start=data.dates[20].date(),
                                            end=data.dates[-1].date()))
    writer.put(key, other)
    assert reader.get(key) == other != result
    # an entry removed meanwhile is a miss, whatever was read before
    writer.prune(everything=True)
    assert reader.get(key) is None


def test_the_results_kept_in_memory_are_bounded(tmp_path: Path, result: BacktestResult,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    writer = BacktestCache(tmp_path)
    keys = [writer.key({"tree": f"t{i}"}) for i in range(3)]
    for key in keys:
        writer.put(key, result)
    size = writer.path(keys[0]).stat().st_size
    monkeypatch.setattr(cache_module, "MEMO_BYTES", 2 * size)
    cache = BacktestCache(tmp_path)
    read = [cache.get(key) for key in keys]  # the first is forgotten for the third
    assert cache.get(keys[2]) is read[2] and cache.get(keys[1]) is read[1]
    again = cache.get(keys[0])
    assert again == result and again is not read[0]
    monkeypatch.setattr(cache_module, "MEMO_BYTES", size - 1)  # too big to keep
    assert cache.get(keys[1]) is not cache.get(keys[1])


def test_another_alphaloop_version_is_another_key(monkeypatch: pytest.MonkeyPatch) -> None:
    before = BacktestCache.key({"tree": "t1"})
    monkeypatch.setattr(cache_module, "__version__", "99.0.0")
    assert BacktestCache.key({"tree": "t1"}) != before


@pytest.mark.parametrize("damage", [b"", b"{\"dates\": [", b"not json at all",
                                    b"{\"unexpected\": 1}"])
def test_a_corrupt_entry_is_a_miss_and_is_removed(tmp_path: Path, result: BacktestResult,
                                                  damage: bytes) -> None:
    cache = BacktestCache(tmp_path)
    key = cache.key({"tree": "t1"})
    cache.put(key, result)
    cache.path(key).write_bytes(damage)
    assert cache.get(key) is None
    assert not cache.path(key).exists()
    cache.put(key, result)
    assert cache.get(key) == result


def test_the_least_recently_used_entries_go_first(tmp_path: Path,
                                                  result: BacktestResult) -> None:
    cache = BacktestCache(tmp_path, max_bytes=10**9)
    keys = [cache.key({"tree": f"t{i}"}) for i in range(4)]
    for age, key in zip((400, 300, 200, 100), keys, strict=True):
        cache.put(key, result)
        _age(cache.path(key), age)
    assert cache.get(keys[0]) is not None  # the oldest is used again: now the newest
    entry = cache.path(keys[0]).stat().st_size
    cache.max_bytes = 2 * entry + entry // 2 + (tmp_path / "stats").stat().st_size
    cache.enforce()
    assert [cache.contains(k) for k in keys] == [True, False, False, True]
    assert cache.size() <= cache.max_bytes


def test_eviction_spares_what_other_processes_are_writing_or_running(
        tmp_path: Path, result: BacktestResult) -> None:
    cache = BacktestCache(tmp_path, max_bytes=1)
    writing = cache.backtests / ".abc.json.123.tmp"
    writing.parent.mkdir(parents=True)
    writing.write_bytes(b"half")
    partial = cache.checkouts / ".tree1.42.partial" / "strategy"
    partial.mkdir(parents=True)
    running = cache.checkouts / "tree2" / "strategy"
    running.mkdir(parents=True)
    (running / "__init__.py").write_text(STRATEGY)
    old = cache.checkouts / "tree3" / "strategy"
    old.mkdir(parents=True)
    (old / "__init__.py").write_text(STRATEGY)
    _age(old.parent, IN_USE_SECONDS + 60)
    key = cache.key({"tree": "t"})
    cache.put(key, result)  # over the cap at once: evicts what it may
    assert writing.exists() and partial.exists() and running.exists()
    assert not old.parent.exists() and not cache.contains(key)
    # a prune clears leftovers of dead writers once they are old enough
    _age(writing, IN_USE_SECONDS + 60)
    report = cache.prune(everything=True)
    assert not writing.exists() and partial.exists() and running.exists()
    assert report.removed == 1


def test_two_processes_writing_one_key_never_show_a_partial_entry(
        tmp_path: Path, result: BacktestResult) -> None:
    source = tmp_path / "result.json"
    result.save(source)
    root = tmp_path / "cache"
    key = BacktestCache.key({"tree": "shared"})
    writer = (
        "import sys\nfrom pathlib import Path\n"
        "from alphaloop.evaluation.cache import BacktestCache\n"
        "from alphaloop.harness import BacktestResult\n"
        "r = BacktestResult.load(Path(sys.argv[1]))\n"
        "c = BacktestCache(Path(sys.argv[2]))\n"
        "for _ in range(40):\n    c.put(sys.argv[3], r)\n")
    writers = [subprocess.Popen([sys.executable, "-c", writer, str(source), str(root), key])
               for _ in range(2)]
    reader = BacktestCache(root)
    seen = 0
    while any(w.poll() is None for w in writers):
        got = reader.get(key)
        if got is not None:
            assert got == result
            seen += 1
    assert [w.wait() for w in writers] == [0, 0]
    assert reader.get(key) == result
    assert reader.info().entries == 1
    leftovers = [p.name for p in root.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []


def test_the_cap_comes_from_performance_toml(tmp_path: Path) -> None:
    assert read_cache_settings(tmp_path).max_mb == DEFAULT_MAX_MB
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "performance.toml").write_text("[cache]\nmax_mb = 64\n")
    assert read_cache_settings(tmp_path).max_bytes == 64 * 1024 * 1024
    (tmp_path / "policies" / "performance.toml").write_text("[cache]\nmax_mib = 64\n")
    with pytest.raises(PolicyError, match="max_mib"):
        read_cache_settings(tmp_path)


def _repo(tmp_path: Path) -> tuple[GitRepo, str]:
    repo = GitRepo.init(tmp_path / "repo")
    package = tmp_path / "repo" / "strategy" / "__init__.py"
    package.parent.mkdir()
    package.write_text(STRATEGY)
    sha = repo.commit_all(tmp_path / "repo", "strategy",
                          Identity(name="AlphaLoop Quant", email="quant@alphaloop.invalid"))
    return repo, sha


def test_the_evaluator_reruns_a_backtest_whose_entry_is_corrupt(tmp_path: Path) -> None:
    repo, sha = _repo(tmp_path)
    data = _panel()
    window = Window(start=data.dates[10].date(), end=data.dates[-1].date())
    evaluator = Evaluator(repo, open_sandbox("none", allow_unsandboxed=True),
                          EvalSettings(frequency="monthly", reward_lambda=0.5))
    try:
        first = evaluator.backtest(sha, data, window)
        [entry] = evaluator.cache.backtests.iterdir()
        assert evaluator.cache.root == repo.alphaloop_dir / "cache"
        entry.write_bytes(entry.read_bytes()[:100])
        assert evaluator.backtest(sha, data, window) == first
        assert (evaluator.runs, evaluator.hits) == (2, 0)
        assert evaluator.backtest(sha, data, window) == first
        assert evaluator.hits == 1
    finally:
        evaluator.close()


def test_cache_info_and_prune_on_the_command_line(tmp_path: Path,
                                                  result: BacktestResult) -> None:
    repo, _ = _repo(tmp_path)
    cache = BacktestCache(repo.alphaloop_dir / "cache")
    for i in range(3):
        cache.put(cache.key({"tree": f"t{i}"}), result)
    runner = CliRunner()
    shown = runner.invoke(app, ["cache", "info", "--repo", str(repo.work_tree), "--json"])
    assert shown.exit_code == 0, shown.output
    info = json.loads(shown.stdout)
    assert info["entries"] == 3 and info["location"] == str(cache.root)
    table = runner.invoke(app, ["cache", "info", "--repo", str(repo.work_tree)])
    assert "results    3" in table.stdout
    pruned = runner.invoke(app, ["cache", "prune", "--repo", str(repo.work_tree),
                                 "--max-mb", "0"])
    assert pruned.exit_code == 0 and "removed 3 entries" in pruned.stdout
    assert cache.info().entries == 0
    bad = runner.invoke(app, ["cache", "prune", "--repo", str(repo.work_tree), "--all",
                              "--max-mb", "1"])
    assert bad.exit_code == 2 and "not both" in bad.stderr
    (repo.work_tree / "policies").mkdir()
    (repo.work_tree / "policies" / "performance.toml").write_text("[cache]\nmax_mb = -1\n")
    broken = runner.invoke(app, ["cache", "info", "--repo", str(repo.work_tree)])
    assert broken.exit_code == 1 and "performance.toml" in broken.stderr
    assert "Traceback" not in broken.output
