"""Other processes' writes reach this process's search indexes within seconds, without a restart.

A CLI import (`python bot.py train import`), the dashboard run as its own process (`python bot.py web`) or
another bot process writes trained answers into the same database. Each write bumps its guild's change
counter in its own transaction (`memory_changes`, memory/repository.py `bump_changes`). The bot calls
`MemorySync.poll` every MEMORY_SYNC_SECONDS (cogs/maintenance.py): one query reads every counter, and each
loaded index that a counter has overtaken is loaded again (`TrainedMemory.reload`: built off the event loop,
the old index answering searches until the new one is ready). Counters this process moved itself are
already reflected in its indexes and trigger nothing. A reload that fails is logged; its index keeps the
old counter, so the next poll tries again.

`wake` polls at once instead of at the next round. With SQLite nothing calls it (another process cannot
signal this one through the file). On PostgreSQL `bump_changes` also sends `NOTIFY memory_changes, '<guild id>'`
(delivered on commit) and the bot's `LISTEN` connection (memory/notify.py) calls `wake()`, so the poll is the
fallback for missed notifications.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from memory.store import TrainedMemory

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_S = 5.0


def every_guild(guild_id: int) -> bool:
    return True


class MemorySync:
    def __init__(self, memory: TrainedMemory, owns: Callable[[int], bool] = every_guild) -> None:
        self.memory = memory
        # Only the servers this process serves (ShardSettings.owns): another process reloads the rest.
        self.owns = owns
        self._polling = asyncio.Lock()
        self._woken: asyncio.Task[None] | None = None
        self._again = False

    async def poll(self) -> list[int]:
        """One look at every guild's change counter; reloads the loaded, owned guilds that another process
        changed and returns them. Never raises: a failure is logged and the next poll tries again."""
        async with self._polling:  # a wake() during a periodic poll waits for it, then looks again
            try:
                overtaken = await self.memory.overtaken()
            except Exception:
                log.exception("Reading the trained memory's change counters failed; trying again next round")
                return []
            reloaded = []
            for guild_id in overtaken:
                if not self.owns(guild_id):
                    continue
                try:
                    if await self.memory.reload(guild_id):
                        reloaded.append(guild_id)
                except Exception:
                    log.exception("Reloading the trained memory of guild %d failed; trying again next round", guild_id)
            if reloaded:
                log.info("Reloaded the trained memory of %d server(s) changed by another process", len(reloaded))
            return reloaded

    def wake(self) -> None:
        """Poll now (a change notification arrived), in a task of its own. A wake while that poll runs
        asks for one more poll after it (the notification may be of a write it has already missed).
        Call from the event loop's thread."""
        self._again = True
        if self._woken is None or self._woken.done():
            self._woken = asyncio.get_running_loop().create_task(self._woken_polls())

    async def _woken_polls(self) -> None:
        while self._again:
            self._again = False
            await self.poll()

    async def close(self) -> None:
        """Stop a poll started by `wake`."""
        if self._woken is not None and not self._woken.done():
            self._woken.cancel()
            await asyncio.gather(self._woken, return_exceptions=True)
