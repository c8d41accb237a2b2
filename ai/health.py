"""Remembers that the model server is down (or the model missing) for a while.

Without this, every ticket message would wait for a connect timeout while Ollama is
down ("the bot thinks forever"). While a failure is remembered, requests fail in
microseconds; a background probe checks again after ``retry_after`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from ai.errors import LLMError, LLMUnavailable, ModelNotFound

log = logging.getLogger(__name__)


class Health:
    """Availability of the server as last observed.

    ``probe`` raises an ``LLMError`` when the server is still unusable and returns
    normally when it is fine again.
    """

    def __init__(self, retry_after: float, probe: Callable[[], Awaitable[None]], name: str = "LLM server") -> None:
        self.name = name
        self.retry_after = retry_after
        self.available: bool = True
        self.last_error: str | None = None
        self.checked_at: float | None = None
        self._probe = probe
        self._error: LLMError | None = None
        self._task: asyncio.Task[None] | None = None
        # Called after every mark_up / mark_down (a pool re-dispatches its queue when a server changes).
        self.listeners: list[Callable[[], None]] = []

    @property
    def usable(self) -> bool:
        """Whether a request may go to the server now: it is up, or its remembered failure expired (the
        request then acts as the probe). Exactly when ``raise_if_down`` does not raise."""
        return self.available or self._error is None or self.retry_in <= 0

    @property
    def retry_in(self) -> float:
        """Seconds until the remembered failure is re-checked (0 when available)."""
        if self.available or self.checked_at is None:
            return 0.0
        return max(0.0, self.checked_at + self.retry_after - time.monotonic())

    def raise_if_down(self) -> None:
        """Fail fast while a failure is remembered; let a request through once it expired.

        After expiry the request itself acts as a probe: success marks the server up.
        """
        if self.usable:
            return
        err = self._error
        assert err is not None
        if isinstance(err, ModelNotFound):
            raise ModelNotFound(err.model, err.pull_hint)
        raise LLMUnavailable(f"{self.name} unavailable ({self.last_error}); retrying in {self.retry_in:.0f} s")

    def mark_up(self) -> None:
        if not self.available:
            log.info("%s available again", self.name)
        self.available = True
        self.last_error = None
        self._error = None
        self.checked_at = time.monotonic()
        self._notify()

    def mark_down(self, error: LLMError) -> None:
        if self.available:
            log.warning("%s marked unavailable for %.0f s: %s", self.name, self.retry_after, error)
        self.available = False
        self.last_error = str(error)
        self._error = error
        self.checked_at = time.monotonic()
        self._ensure_probe_task()
        self._notify()

    def _notify(self) -> None:
        for listener in self.listeners:
            listener()

    def _ensure_probe_task(self) -> None:
        if self._task is not None and not self._task.done():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop (sync caller): the next request after expiry probes instead
        self._task = loop.create_task(self._reprobe_loop(), name=f"health-probe: {self.name}")

    async def _reprobe_loop(self) -> None:
        while not self.available:
            await asyncio.sleep(max(self.retry_in, 0.0))
            if self.available:
                return
            try:
                await self._probe()
            except LLMError as err:
                self.mark_down(err)
            except Exception as err:  # a probe bug must not kill the loop silently
                log.exception("health probe failed unexpectedly")
                self.mark_down(LLMUnavailable(f"probe failed: {err!r}"))
            else:
                self.mark_up()

    async def aclose(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None
