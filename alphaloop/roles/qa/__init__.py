"""QA: writes tests for each change, runs them in the sandbox, keeps only those a mutant
of the change fails, and vetoes a change its tests fail on (see :mod:`.role`)."""

from alphaloop.roles.qa.role import QA, QAOptions

__all__ = ["QA", "QAOptions"]
