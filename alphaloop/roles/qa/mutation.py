"""Proving each generated test tests something: run it against every mutant of the
change and keep it only if at least one mutant makes it fail (it "kills" that mutant).

A test that passes on every mutant cannot tell the change from its wrong versions: it is
discarded, and reported with the mutants it survived.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from alphaloop.records import QADiscardedTest, QAKeptTest
from alphaloop.roles.qa.checkouts import copy_checkout
from alphaloop.roles.qa.mutants import Mutation
from alphaloop.roles.qa.suite import run_suite
from alphaloop.sandbox import Sandbox

__all__ = ["kills_by_test", "sort_tests"]


def kills_by_test(sandbox: Sandbox, checkout: Path, scratch: Path, test_file: str,
                  mutations: Sequence[Mutation], tests: Sequence[str]) -> dict[str, list[str]]:
    """Test node id -> the mutants (by id) it fails on, for the tests of ``test_file``
    run on a copy of ``checkout`` with each mutation written over it."""
    kills: dict[str, list[str]] = {test: [] for test in tests}
    for index, mutation in enumerate(mutations):
        mutant = copy_checkout(checkout, scratch / f"mutant-{index}", mutation.files)
        run = run_suite(sandbox, mutant, scratch / f"mutant-{index}-out", paths=[test_file])
        for test in tests:
            result = run.tests.get(test)
            if result is None or result.outcome in ("failed", "error"):
                kills[test].append(mutation.mutant.id)
    return kills


def sort_tests(kills: dict[str, list[str]], mutants: Sequence[str]
               ) -> tuple[list[QAKeptTest], list[QADiscardedTest]]:
    """Kept tests (each with the mutants it kills) and discarded ones (with every
    mutant, all survived)."""
    kept = [QAKeptTest(test=t, kills=k) for t, k in kills.items() if k]
    discarded = [QADiscardedTest(test=t, survived=list(mutants))
                 for t, k in kills.items() if not k]
    return kept, discarded
