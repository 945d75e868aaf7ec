"""A plan's lifecycle statuses.

Apart from :mod:`secplan.model` so that reading the configuration (which validates status
mappings) does not build the model's classes: ``secplan --version`` reads no plan.
"""

from __future__ import annotations

STATUSES: tuple[str, ...] = (
    "draft",
    "review",
    "ready",
    "implementing",
    "implemented",
    "abandoned",
    "superseded",
)
#: Statuses from which a plan counts as "ready" for severity escalation.
READY_OR_LATER: frozenset[str] = frozenset({"ready", "implementing", "implemented"})
#: Statuses from which the tracker, not the plan, is the source of truth.
TRACKER_IS_TRUTH: frozenset[str] = frozenset({"implementing", "implemented"})
