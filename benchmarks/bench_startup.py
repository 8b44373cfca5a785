"""Benchmark of the command line's start-up: how long ``alphaloop --help`` takes.

Each command runs as a fresh process, the way a user types it: ``alphaloop --help``,
``alphaloop --version`` and ``alphaloop backtest --help``, ``--repeat`` times each (the
median and the best are reported). The commands are the ``alphaloop`` script installed
beside this Python (``python -m alphaloop`` where there is none).

The package timed is this repository's ``alphaloop/`` (first on ``PYTHONPATH``, the
commands run from an empty folder). ``--baseline REV`` also times the package as
committed at ``REV`` (its ``alphaloop/`` exported to a temporary folder), the runs of both
trees taking turns so that load on the machine falls on both alike. The report also
lists which heavy libraries ``import alphaloop.cli`` loads in each tree.

Run from the repository root::

    python -m benchmarks.bench_startup [--repeat 7] [--baseline REV]

Results go to ``benchmarks/results/startup.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results"
COMMANDS = (("--help",), ("--version",), ("backtest", "--help"))
HEAVY = ("pandas", "scipy", "matplotlib", "numpy")
WORKING_TREE = "this tree"


def _alphaloop() -> list[str]:
    """The installed ``alphaloop`` script of this Python, else ``python -m alphaloop``."""
    script = shutil.which("alphaloop", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "alphaloop"]


def _environment(package_root: Path) -> dict[str, str]:
    """This environment with ``package_root`` (the folder holding ``alphaloop/``) first
    on ``PYTHONPATH``."""
    path = os.pathsep.join(filter(None, [str(package_root), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path, "COLUMNS": "100"}


def _run_once(command: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def _loaded(env: dict[str, str], cwd: Path) -> list[str]:
    """The heavy libraries ``import alphaloop.cli`` loads with this environment."""
    code = (f"import sys, alphaloop.cli; "
            f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=cwd, check=True,
                          capture_output=True, text=True)
    return done.stdout.split()


def _export(rev: str, folder: Path) -> Path:
    """``alphaloop/`` as committed at ``rev``, written below ``folder``."""
    archive = subprocess.run(["git", "archive", "--format=tar", rev, "alphaloop"], cwd=ROOT,
                             check=True, capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def measure(trees: dict[str, Path], repeat: int,
            cwd: Path) -> dict[str, dict[str, list[float]]]:
    """Seconds per run: tree -> command -> runs. The trees take turns, run by run."""
    base = _alphaloop()
    envs = {name: _environment(root) for name, root in trees.items()}
    times: dict[str, dict[str, list[float]]] = {
        name: {" ".join(args): [] for args in COMMANDS} for name in trees}
    for env in envs.values():  # a first, unmeasured run of each: warm the disk cache
        for args in COMMANDS:
            _run_once([*base, *args], env, cwd)
    for _ in range(repeat):
        for args in COMMANDS:
            for name, env in envs.items():
                times[name][" ".join(args)].append(_run_once([*base, *args], env, cwd))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs of each command")
    parser.add_argument("--baseline", metavar="REV",
                        help="also time alphaloop/ as committed at this revision")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="alphaloop-startup-") as scratch:
        empty = Path(scratch) / "cwd"  # where the commands run: no package found by chance
        empty.mkdir()
        trees: dict[str, Path] = {WORKING_TREE: ROOT}
        if args.baseline:
            label = subprocess.run(["git", "rev-parse", "--short", args.baseline], cwd=ROOT,
                                   check=True, capture_output=True, text=True).stdout.strip()
            baseline = _export(args.baseline, Path(scratch) / "baseline")
            trees = {f"{label} (baseline)": baseline, **trees}
        times = measure(trees, args.repeat, empty)
        loaded = {name: _loaded(_environment(root), empty) for name, root in trees.items()}
    program = "alphaloop" if len(_alphaloop()) == 1 else "python -m alphaloop"
    lines = [
        "# Start-up benchmark",
        "",
        f"Wall time of each command as a fresh process (`{program}`, output discarded), "
        f"{args.repeat} runs each after one unmeasured run; median and best in seconds. "
        "Produced by `python -m benchmarks.bench_startup"
        + (f" --baseline {args.baseline}" if args.baseline else "") + "`.",
        "",
        "| tree | command | median (s) | best (s) |",
        "| --- | --- | ---: | ---: |",
    ]
    for name, by_command in times.items():
        for command, runs in by_command.items():
            lines.append(f"| {name} | `alphaloop {command}` | {statistics.median(runs):.3f} | "
                         f"{min(runs):.3f} |")
    lines += ["", "Heavy libraries loaded by `import alphaloop.cli`:", ""]
    lines += [f"- {name}: {', '.join(found) or 'none'}" for name, found in loaded.items()]
    lines += [
        "",
        f"Machine: Python {platform.python_version()}, {platform.platform()}, "
        f"{os.cpu_count()} cores, load average {load:.1f} at the start (timings on a busy "
        "machine are noisy; compare the best columns).",
        "",
    ]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "startup.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
