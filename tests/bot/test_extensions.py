"""Every extension loads, and a bot whose extension fails to load does not start half-working."""

from __future__ import annotations

import pytest
from discord.ext import commands

import bot as bot_module
from app.settings import load_settings
from bot import EXTENSIONS, create_bot


async def test_every_extension_loads(simcord_env):
    bot = simcord_env.bot
    assert set(bot.extensions) == set(EXTENSIONS)
    assert bot.get_cog("Tickets") is not None
    commands_ = {command.qualified_name for command in bot.tree.walk_commands()}
    assert {"setup", "ticket_panel", "close", "ticket_ai", "train", "memory list", "status"} <= commands_


async def test_an_extension_that_fails_to_load_stops_the_start(bot_env, monkeypatch):
    monkeypatch.setattr(bot_module, "EXTENSIONS", ("cogs.errors", "cogs.no_such_extension"))
    bot = create_bot(load_settings(bot_env))
    try:
        with pytest.raises(commands.ExtensionError, match="no_such_extension"):
            await bot.setup_hook()
    finally:
        await bot.core.close()
