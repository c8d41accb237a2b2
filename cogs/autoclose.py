"""Closes solved tickets after a delay and warns, then closes, idle ones."""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING

import discord
from discord.ext import commands, tasks

from cogs._closing import CloseError, close_ticket
from cogs._discord import NO_PINGS, ping_users
from tickets.service import due_autoclose_actions

if TYPE_CHECKING:
    from bot import TicketBot

log = logging.getLogger(__name__)


class AutoClose(commands.Cog):
    def __init__(self, bot: TicketBot) -> None:
        self.bot = bot
        self.sweep.change_interval(seconds=bot.settings.autoclose_check_s)

    async def cog_load(self) -> None:
        self.sweep.start()

    async def cog_unload(self) -> None:
        self.sweep.cancel()

    @tasks.loop(seconds=60)
    async def sweep(self) -> None:
        s, core = self.bot.settings, self.bot.core
        actions = due_autoclose_actions(
            await core.store.unclosed_tickets(), discord.utils.utcnow(),
            solved_delay_s=s.solved_close_delay_s, idle_warn_s=s.idle_warn_s, idle_close_s=s.idle_close_s,
        )  # fmt: skip
        for action in actions:
            try:
                await self._apply(action)
            except Exception:
                log.exception("Auto-close step %s failed for ticket %d", action.action, action.ticket.id)

    @sweep.before_loop
    async def _ready(self) -> None:
        await self.bot.wait_until_ready()

    async def _apply(self, action) -> None:
        ticket, core = action.ticket, self.bot.core
        config = await core.tickets.config(ticket.guild_id)
        thread = self.bot.get_channel(ticket.id)
        if thread is None:
            with contextlib.suppress(discord.NotFound, discord.Forbidden):
                thread = await self.bot.fetch_channel(ticket.id)
        if config is None or not isinstance(thread, discord.Thread):
            # The post was deleted: record the ticket as closed so we stop trying.
            await core.tickets.closed(ticket, by=None, reason="post deleted", summary="", now=discord.utils.utcnow())
            return
        if action.action == "warn_idle":
            hours = self.bot.settings.idle_close_s // 3600
            await thread.send(
                f"<@{ticket.opener_id}> This ticket has been quiet for a while. It will close in {hours} hour(s) "
                "unless someone writes here.",
                allowed_mentions=ping_users(discord.Object(ticket.opener_id)),
            )
            await core.tickets.idle_warned(ticket, discord.utils.utcnow())
            return
        try:
            await close_ticket(self.bot, thread, ticket, config, closer=None, reason=action.reason)
        except CloseError as exc:
            log.warning("Auto-close of ticket %d failed: %s", ticket.id, exc)
            with contextlib.suppress(discord.HTTPException):
                await thread.send(f"I couldn't close this ticket automatically: {exc}", allowed_mentions=NO_PINGS)


async def setup(bot: TicketBot) -> None:
    await bot.add_cog(AutoClose(bot))
