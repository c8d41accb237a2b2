"""Background upkeep of the trained memory: warm indexes at start, vectors for entries that missed them."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from discord.ext import commands, tasks

if TYPE_CHECKING:
    from bot import TicketBot

log = logging.getLogger(__name__)


class Maintenance(commands.Cog):
    def __init__(self, bot: TicketBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.upkeep.start()

    async def cog_unload(self) -> None:
        self.upkeep.cancel()

    @tasks.loop(minutes=10)
    async def upkeep(self) -> None:
        # Entries trained while the embedding model was down or missing (or embedded with another
        # model) get vectors once it is back, without waiting for a restart.
        # While the embedder is remembered as down this returns at once (no request is made).
        core = self.bot.core
        if not core.settings.llm.embed_model:
            return
        shards = core.settings.shards
        try:
            if shards.ids is None:  # this process serves every server
                count = await core.memory.reembed_stale()
            else:  # only the servers of this process's shards: another process upkeeps the rest
                count = 0
                for guild in self.bot.guilds:
                    if shards.owns(guild.id):
                        count += await core.memory.reembed_stale(guild.id)
        except Exception:
            log.exception("Re-embedding trained entries failed")
            return
        if count:
            log.info("Embedded %d trained entries with %s", count, core.settings.llm.embed_model)

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
