"""PostgreSQL change notifications: another process's write of trained answers wakes this process's sync at once.

Every write bumps its guild's change counter and, on PostgreSQL, sends `NOTIFY memory_changes, '<guild id>'` in
the same transaction (memory/repository.py `bump_changes`; delivered on commit). `ChangeListener` holds ONE
dedicated connection (not from the pool: a pooled connection is reset and handed to others) that LISTENs on that
channel and calls `MemorySync.wake` for each notification, so a write elsewhere is searchable here within a round
trip instead of within MEMORY_SYNC_SECONDS.

Notifications sent while the connection is down are lost, so after every (re)connect the listener wakes the sync
once (catch-up: the poll compares every counter, whatever it missed). A dropped connection is reconnected with
backoff (0.5 s doubling to 30 s); the periodic poll still runs meanwhile, as the fallback it always was. A
connection that dies without the socket closing (a half-open TCP link) is not noticed here: the poll covers it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import asyncpg

from memory.repository import CHANGES_CHANNEL

log = logging.getLogger(__name__)

FIRST_RETRY_S = 0.5
LAST_RETRY_S = 30.0
APPLICATION_NAME = "ticketbot-memory-listener"
_CONNECT_ERRORS = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError)


class ChangeListener:
    """No task of its own while connected: asyncpg delivers notifications and the connection's end through
    callbacks. Only a reconnection runs in a task, for as long as it takes."""

    def __init__(self, url: str, wake: Callable[[], None], *, first_retry_s: float = FIRST_RETRY_S) -> None:
        self.url = url
        self.wake = wake
        self.first_retry_s = first_retry_s
        # Counted for the logs and the tests: how many connections were made, notifications received.
        self.connects = 0
        self.notifications = 0
        self._conn: asyncpg.Connection | None = None
        self._reconnecting: asyncio.Task[None] | None = None
        self._closing = False

    @property
    def connected(self) -> bool:
        return self._conn is not None and not self._conn.is_closed()

    async def start(self) -> None:
        """Connect and listen. A database that cannot be reached now is retried in the background (the periodic
        poll covers the gap)."""
        try:
            await self._connect()
        except _CONNECT_ERRORS as exc:
            log.warning("Cannot connect the memory change listener (%s); retrying in the background", exc)
            self._reconnect_soon()

    async def close(self) -> None:
        self._closing = True
        if self._reconnecting is not None and not self._reconnecting.done():
            self._reconnecting.cancel()
            await asyncio.gather(self._reconnecting, return_exceptions=True)
        if self._conn is not None and not self._conn.is_closed():
            try:
                await asyncio.wait_for(self._conn.close(), 5)
            except Exception:
                self._conn.terminate()

    async def _connect(self) -> None:
        # Named, so an operator sees it in pg_stat_activity (and the tests can end it).
        conn = await asyncpg.connect(self.url, server_settings={"application_name": APPLICATION_NAME})
        try:
            await conn.add_listener(CHANGES_CHANNEL, self._notified)
        except BaseException:
            conn.terminate()
            raise
        conn.add_termination_listener(self._lost)
        self._conn = conn
        self.connects += 1
        # Listening from here on: whatever was written before (or while disconnected) this poll sees.
        self.wake()

    def _notified(self, conn: object, pid: int, channel: str, payload: str) -> None:
        self.notifications += 1
        self.wake()

    def _lost(self, conn: object) -> None:
        if self._closing or conn is not self._conn:
            return
        log.warning("The memory change listener's connection dropped; reconnecting")
        self._reconnect_soon()

    def _reconnect_soon(self) -> None:
        if self._closing or (self._reconnecting is not None and not self._reconnecting.done()):
            return
        self._reconnecting = asyncio.get_running_loop().create_task(self._reconnect(), name="memory-listener")

    async def _reconnect(self) -> None:
        delay = self.first_retry_s
        while not self._closing:
            await asyncio.sleep(delay)
            try:
                await self._connect()
            except _CONNECT_ERRORS as exc:
                delay = min(delay * 2, LAST_RETRY_S)
                log.warning("Cannot reconnect the memory change listener (%s); retrying in %.1f s", exc, delay)
                continue
            log.info("The memory change listener reconnected and caught up")
            return
