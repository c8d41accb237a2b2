"""Moving SimCord's virtual clock by hours in steps: each `advance_time` must settle within SimCord's
real-time budget (5 s), and every scheduler round does database work, so long advances go in pieces."""

from __future__ import annotations

from typing import Any

STEP_S = 1800


async def advance(env: Any, seconds: float, *, step: float = STEP_S) -> None:
    left = seconds
    while left > 0:
        await env.advance_time(min(step, left))
        left -= step
