"""Self-hosted Discord support-ticket bot: forum tickets answered from trained memory or a local LLM.

`python bot.py` runs the bot; `python bot.py check|ask|search|train …` are admin tools (see README).
Tests and tools build the bot with `create_bot()`, which never connects by itself.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
from typing import Any

import discord
from discord.ext import commands

from app.cli import run_cli
from app.runtime import Core, open_core
from app.settings import Settings, load_settings

log = logging.getLogger("bot")

EXTENSIONS = (
    "cogs.errors",
    "cogs.setup",
    "cogs.categories",
    "cogs.settings",
    "cogs.panel",
    "cogs.tickets",
    "cogs.train",
    "cogs.memory_admin",
    "cogs.status",
    "cogs.maintenance",
    "cogs.dashboard",
)


class TicketBot(commands.Bot):
    """Owns the shared resources (`self.core`: one DB connection, one HTTP session, the model servers' pool)."""

    def __init__(self, settings: Settings, **options: Any) -> None:
        intents = discord.Intents.default()
        intents.message_content = True  # needed to answer what users write in tickets
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            allowed_mentions=discord.AllowedMentions.none(),  # every ping must be opted into per send
            help_command=None,
            **options,
        )
        self.settings = settings

    async def setup_hook(self) -> None:
        self.core: Core = await open_core(self.settings)
        for ext in EXTENSIONS:
            # No partial bot: one without the tickets extension, say, would never answer anyone.
            await self.load_extension(ext)
        # PostgreSQL: another process's /train or import reaches this process's indexes at once (memory/notify.py).
        await self.core.listen_for_changes()
        await self.sync_commands_if_changed()

    async def sync_commands_if_changed(self) -> None:
        """Sync the slash-command tree only when it differs from the last synced one."""
        payload = json.dumps([c.to_dict(self.tree) for c in self.tree.get_commands()], sort_keys=True)
        digest = hashlib.sha256(payload.encode()).hexdigest()
        # Keyed by application: the same database used with another bot token must sync again.
        key = f"commands_hash:{self.application_id}"
        if await self.core.meta.get(key) == digest:
            return
        await self.tree.sync()
        await self.core.meta.set(key, digest)
        log.info("Slash commands synced")

    async def close(self) -> None:
        try:
            await super().close()
        finally:
            if hasattr(self, "core"):
                await self.core.close()


class ShardedTicketBot(TicketBot, commands.AutoShardedBot):
    """The same bot over several gateway connections (SHARD_COUNT; SHARD_IDS: only some of them)."""

    def __init__(self, settings: Settings) -> None:
        shards = settings.shards
        ids = list(shards.ids) if shards.ids is not None else None
        super().__init__(settings, shard_count=shards.count, shard_ids=ids)


def create_bot(settings: Settings | None = None) -> TicketBot:
    """Build the bot from the environment / `.env` without connecting to Discord."""
    settings = settings or load_settings()
    return ShardedTicketBot(settings) if settings.shards.sharded else TicketBot(settings)


def main(argv: list[str]) -> int:
    return run_cli(argv, create_bot)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
