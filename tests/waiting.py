"""Waiting for a condition instead of sleeping a guessed time: on a loaded machine a fixed sleep is
sometimes too short, while a generous deadline only costs time when the code under test is broken."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

DEADLINE_S = 10.0


async def wait_until(condition: Callable[[], bool], what: str, *, timeout: float = DEADLINE_S) -> None:
    """Return as soon as `condition()` holds; fail the test with `what` if it does not within `timeout`."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting until {what}")
        await asyncio.sleep(0.005)
