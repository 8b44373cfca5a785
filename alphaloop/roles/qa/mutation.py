"""Proving each generated test tests something: run it against every mutant of the
change and keep it only if at least one mutant makes it fail (it "kills" that mutant).

A test that passes on every mutant cannot tell the change from its wrong versions: it is
discarded, and reported with the mutants it survived. A mutant the strategy refuses to
be built with (it checks its own values, as FinSage checks each tunable's range) judges
no test: it is reported as refused, and no test is kept for failing on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from alphaloop.records import QADiscardedTest, QAKeptTest, QAMutant
from alphaloop.roles.qa.checkouts import copy_checkout
from alphaloop.roles.qa.mutants import Mutation
from alphaloop.roles.qa.suite import run_suite
from alphaloop.sandbox import Sandbox

__all__ = ["kills_by_test", "sort_tests"]


def kills_by_test(sandbox: Sandbox, checkout: Path, scratch: Path, test_file: str,
                  mutations: Sequence[Mutation], tests: Sequence[str], *,
                  profile: str) -> tuple[dict[str, list[str]], list[QAMutant]]:
    """Test node id -> the mutants (by id) it fails on, for the tests of ``test_file``
    run on a copy of ``checkout`` with each mutation written over it; and the mutants,
    each marked ``refused`` when the strategy (``profile``) would not build with it."""
    kills: dict[str, list[str]] = {test: [] for test in tests}
    mutants: list[QAMutant] = []
    for index, mutation in enumerate(mutations):
        mutant = copy_checkout(checkout, scratch / f"mutant-{index}", mutation.files)
        run = run_suite(sandbox, mutant, scratch / f"mutant-{index}-out", paths=[test_file],
                        probe=profile)
        mutants.append(mutation.mutant.model_copy(update={"refused": run.refused}))
        if run.refused:
            continue
        for test in tests:
            result = run.tests.get(test)
            if result is None or result.outcome in ("failed", "error"):
                kills[test].append(mutation.mutant.id)
    return kills, mutants


def sort_tests(kills: dict[str, list[str]], mutants: Sequence[QAMutant]
               ) -> tuple[list[QAKeptTest], list[QADiscardedTest]]:
    """Kept tests (each with the mutants it kills) and discarded ones (with every mutant
    the strategy accepted, all survived)."""
    judged = [m.id for m in mutants if not m.refused]
    kept = [QAKeptTest(test=t, kills=k) for t, k in kills.items() if k]
    discarded = [QADiscardedTest(test=t, survived=judged) for t, k in kills.items() if not k]
    return kept, discarded
