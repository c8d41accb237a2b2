"""Background upkeep of the trained memory: warm indexes at start, vectors and generated phrasings for entries
that missed them, and other processes' writes into the loaded indexes (every MEMORY_SYNC_SECONDS, memory/sync.py)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from discord.ext import commands, tasks

if TYPE_CHECKING:
    from bot import TicketBot

log = logging.getLogger(__name__)


class Maintenance(commands.Cog):
    def __init__(self, bot: TicketBot) -> None:
        self.bot = bot
        self.memory_sync.change_interval(seconds=bot.settings.memory_sync_s)

    async def cog_load(self) -> None:
        self.upkeep.start()
        self.memory_sync.start()

    async def cog_unload(self) -> None:
        self.upkeep.cancel()
        self.memory_sync.cancel()

    @tasks.loop(seconds=5)
    async def memory_sync(self) -> None:
        # A CLI import, the dashboard's own process or another bot process wrote trained answers: reload the
        # indexes they changed (never raises; a failed reload is tried again next round).
        await self.bot.core.memory_sync.poll()

    @tasks.loop(minutes=10)
    async def upkeep(self) -> None:
        # Entries trained while the embedding model was down or missing (or embedded with another
        # model) get vectors once it is back, without waiting for a restart.
        # While the embedder is remembered as down this returns at once (no request is made).
        core = self.bot.core
        if not core.settings.llm.embed_model:
            return
        try:
            count = await self._for_owned(core.memory.reembed_stale)
        except Exception:
            log.exception("Re-embedding trained entries failed")
            return
        if count:
            log.info("Embedded %d trained entries with %s", count, core.settings.llm.embed_model)
        # Entries trained while the model was down (or imported) get their generated phrasings.
        try:
            done = await self._for_owned(core.phrasings.backfill)
        except Exception:
            log.exception("Generating phrasings for trained entries failed")
            return
        if done:
            log.info("Generated phrasings for %d trained entries", done)

    async def _for_owned(self, job: Callable[..., Awaitable[int]]) -> int:
        """Run a per-server job for the servers this process owns and add up its counts.

        Unsharded, one call covers every server (also those the gateway has not reported yet); with shards,
        another process runs the job for the servers of its own shards.
        """
        shards = self.bot.core.settings.shards
        if shards.ids is None:
            return await job()
        return sum([await job(guild.id) for guild in self.bot.guilds if shards.owns(guild.id)])

    @upkeep.before_loop
    async def _warm(self) -> None:
        await self.bot.wait_until_ready()
        # Load each server's index now, so the first question after a restart is not the slow one.
        for guild in self.bot.guilds:
            try:
                await self.bot.core.memory.warm(guild.id)
            except Exception:
                log.exception("Loading the trained memory of guild %d failed", guild.id)


async def setup(bot: TicketBot) -> None:
    await bot.add_cog(Maintenance(bot))
