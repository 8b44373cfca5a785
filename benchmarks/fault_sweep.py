"""Kill a whole cycle at every stage boundary and after every git command, in turn.

    python benchmarks/fault_sweep.py [--every K] [--first N] [--last N]

The exhaustive form of ``tests/faults/test_kill_points.py`` (which samples the writes):
each kill point runs the reference cycle in a forked child that SIGKILLs itself there
(``ALPHALOOP_FAULT_KILL_AT_GIT_CALL``), resumes it, and compares the result with the
uninterrupted reference: outcome, refs, history, PRs, reviews, ledger, worktrees and
``alphaloop audit verify``. Prints one line per kill point and exits 1 if any differs.
A full sweep takes about five seconds per git command of the cycle.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from faults.crash import KEY, killed_then_resumed, make_reference

STAGES = ["plan", "quant_review", "hypothesis", "implement", "risk_review", "merge",
          "report"]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=int, default=1, help="kill after every Kth call")
    parser.add_argument("--first", type=int, default=1)
    parser.add_argument("--last", type=int, default=None)
    args = parser.parse_args(argv)
    os.environ["ALPHALOOP_REVIEW_KEY"] = KEY
    failed = 0
    with tempfile.TemporaryDirectory(prefix="fault-sweep-") as scratch:
        root = Path(scratch)
        os.environ["XDG_CONFIG_HOME"] = str(root / "config")
        reference = make_reference(root / "reference")
        last = min(args.last or len(reference.commands), len(reference.commands))
        points: list[tuple[str, dict]] = [(f"before {s}", {"stage": s}) for s in STAGES]
        points += [(f"after git call {n}: git {' '.join(reference.commands[n - 1])[:60]}",
                    {"call": n}) for n in range(args.first, last + 1, args.every)]
        print(f"reference: {reference.summary.outcome.value}, "
              f"{len(reference.commands)} git calls; {len(points)} kill points", flush=True)
        for index, (label, where) in enumerate(points):
            started = time.monotonic()
            problems = killed_then_resumed(root / f"kill-{index}", reference, **where)
            failed += bool(problems)
            verdict = "ok" if not problems else "FAILED: " + " | ".join(problems)
            print(f"{label}: {verdict} ({time.monotonic() - started:.1f}s)", flush=True)
    print(f"{len(points) - failed} of {len(points)} kill points resume to the reference")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
