"""Risk: the independent reviewer with a veto (see :mod:`.review`)."""

from alphaloop.roles.risk.review import HOLDOUT_READS_WARNING, RiskOfficer

__all__ = ["HOLDOUT_READS_WARNING", "RiskOfficer"]
