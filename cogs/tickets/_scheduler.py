"""The one scheduler of timed ticket work (a loop owned by the tickets cog, every AUTOCLOSE_CHECK_SECONDS):
each round asks `due_actions` (tickets/schedule.py, a pure function) what is due in each server's open tickets
— auto-close steps, staff re-pings, opener reminders — and applies it (`_autoclose.py`, `_care.py`); closes the
tickets whose close request nobody answered in time (`_close_requests.py`); then sends the staff pings held
back outside support hours of the servers where support is open now. Everything it needs is in the database,
so a restart picks up where it stopped (before its first round, renames that were waiting: `titles_restored`)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord.ext import tasks

from cogs.tickets._autoclose import AutoCloser
from cogs.tickets._care import CareRunner
from cogs.tickets._lifecycle import TicketLifecycle
from tickets.models import Ticket
from tickets.schedule import CareAction, due_actions

if TYPE_CHECKING:
    from bot import TicketBot

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(self, bot: TicketBot, lifecycle: TicketLifecycle) -> None:
        self.bot = bot
        self.lifecycle = lifecycle
        self.autoclose = AutoCloser(bot, lifecycle)
        self.care = CareRunner(bot, lifecycle.notices)
        self.tick.change_interval(seconds=bot.settings.autoclose_check_s)

    def start(self) -> None:
        self.tick.start()

    def stop(self) -> None:
        self.tick.cancel()

    @tasks.loop(seconds=60)
    async def tick(self) -> None:
        try:
            await self._round()
        except Exception:
            log.exception("A scheduler round failed")  # the loop goes on: the next round tries again

    async def _round(self) -> None:
        core = self.bot.core
        by_guild: dict[int, list[Ticket]] = {}
        owns = core.settings.shards.owns  # another process runs the servers on its shards (SHARD_IDS)
        for ticket in await core.tickets.unclosed():
            if owns(ticket.guild_id):
                by_guild.setdefault(ticket.guild_id, []).append(ticket)
        for guild_id, tickets in by_guild.items():
            try:
                policy = await core.care.policy(guild_id)
                actions = due_actions(tickets, await core.care.waits(guild_id), discord.utils.utcnow(), policy)
            except Exception:
                log.exception("Scheduling the tickets of guild %d failed", guild_id)
                continue
            for action in actions:
                if self.lifecycle.locks.ticket(action.ticket.id).locked():
                    continue  # being answered or closed right now: look again next round
                if isinstance(action, CareAction):
                    try:
                        await self.care.run(action)
                    except Exception:
                        log.exception("Care step %s failed for ticket %d", action.step, action.ticket.id)
                else:
                    await self.autoclose.run(action)
        # Close requests nobody answered in time (cogs/tickets/_close_requests.py).
        try:
            await self.lifecycle.close_requests.sweep()
        except Exception:
            log.exception("Closing the tickets of unanswered close requests failed")
        for guild_id in await core.care.guilds_with_held_pings():
            if not owns(guild_id):
                continue
            try:
                if (await core.care.hours(guild_id)).is_open(discord.utils.utcnow()):
                    await self.care.release_held_pings(guild_id)
            except Exception:
                log.exception("Sending the held staff pings of guild %d failed", guild_id)

    @tick.before_loop
    async def _ready(self) -> None:
        await self.bot.wait_until_ready()
        try:
            await self.lifecycle.staff.titles_restored()  # renames that waited when the bot last stopped
        except Exception:
            log.exception("Restoring the titles of open tickets failed")
