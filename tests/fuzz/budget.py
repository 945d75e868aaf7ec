"""How much each fuzz target runs, and how long one input may take.

Two hypothesis profiles: ``fuzz-ci`` (the default: 100 inputs per target, the whole
fuzz set well under a minute) and ``fuzz-nightly`` (thousands per target, for a scheduled run).
``SECPLAN_FUZZ=nightly`` selects the long one; ``SECPLAN_FUZZ_EXAMPLES=N`` sets the count. The
time bound is generous (1 s per 100 KB of input plus a fixed allowance for a loaded machine):
it catches quadratic work on a 100 KB input, which takes tens of seconds, not noise.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TypeVar

from hypothesis import HealthCheck, settings

_COMMON = {
    "deadline": None,  # the time bound below is proportional to the input, not fixed
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
    "derandomize": False,
}
settings.register_profile("fuzz-ci", max_examples=100, **_COMMON)  # type: ignore[arg-type]
settings.register_profile("fuzz-nightly", max_examples=5_000, **_COMMON)  # type: ignore[arg-type]

PROFILE = f"fuzz-{os.environ.get('SECPLAN_FUZZ', 'ci')}"
_examples = os.environ.get("SECPLAN_FUZZ_EXAMPLES")
#: Apply to every fuzz target: ``@FUZZ`` under ``@given``.
FUZZ = settings(
    settings.get_profile(PROFILE),
    **({"max_examples": int(_examples)} if _examples else {}),
)

#: Seconds an input may take: a fixed allowance plus 1 s per 100 KB.
FIXED_ALLOWANCE = 2.0
PER_100_KB = 1.0

R = TypeVar("R")


def time_bound(size: int) -> float:
    """The most one call may take on an input of ``size`` characters."""
    return FIXED_ALLOWANCE + PER_100_KB * size / 100_000


def within_bound(size: int, run: Callable[[], R]) -> R:
    """``run()``'s result; fails when it took longer than :func:`time_bound` (CPU time, so
    other processes on the machine do not count)."""
    start = time.process_time()
    result = run()
    took = time.process_time() - start
    assert took <= time_bound(size), f"{took:.2f} s on {size} characters"
    return result
