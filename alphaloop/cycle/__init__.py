"""The cycle: the stage machine, its records, the ledger, the lock and the merge gate.

:func:`alphaloop.cycle.run.run_cycles` runs ``alphaloop cycle``;
:func:`alphaloop.cycle.run.dry_run` shows what the next cycle would do. This package
module stays light (records and options only) because the roles import the records.
"""

from alphaloop.cycle.options import CycleError, CycleOptions
from alphaloop.records import CycleSummary, Outcome, Stage

__all__ = ["CycleError", "CycleOptions", "CycleSummary", "Outcome", "Stage"]
