"""The web dashboard from Discord: started and stopped with the bot, /dashboard (a personal sign-in
link) and /stats (the key numbers of a period, with a link to the Analytics page)."""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from cogs._discord import NO_PINGS, fetched_is_staff, is_staff
from cogs.checks import staff_only
from tickets.analytics import AnalyticsReport, Period, TicketFilter
from web.app import WebContext
from web.auth import AttemptLimiter, Auth, real_clock
from web.render import duration, percent
from web.server import DashboardServer

if TYPE_CHECKING:
    from bot import TicketBot

log = logging.getLogger(__name__)

# How long a staff check answered from Discord is trusted: a removed role stops working within this.
STAFF_CHECK_TTL_S = 30.0


class DiscordDirectory:
    """The dashboard's view of Discord: servers from the bot's cache, staff status from the member as
    Discord has it now (fetched, since without the members intent a cached member's roles may be stale)."""

    def __init__(self, bot: TicketBot, *, ttl_s: float = STAFF_CHECK_TTL_S) -> None:
        self.bot = bot
        self.ttl_s = ttl_s
        self._checked: dict[tuple[int, int], tuple[float, bool]] = {}

    def guild_name(self, guild_id: int) -> str | None:
        guild = self.bot.get_guild(guild_id)
        return guild.name if guild is not None else None

    def guild_ids(self) -> list[int]:
        return [g.id for g in self.bot.guilds]

    async def is_staff(self, guild_id: int, user_id: int) -> bool:
        key = (guild_id, user_id)
        cached = self._checked.get(key)
        if cached is not None and time.monotonic() - cached[0] < self.ttl_s:
            return cached[1]
        guild = self.bot.get_guild(guild_id)
        config = await self.bot.core.tickets.config(guild_id)
        staff = False
        if guild is not None and config is not None:
            staff = await fetched_is_staff(guild, user_id, config)
        self._checked[key] = (time.monotonic(), staff)
        return staff


class DashboardCog(commands.Cog, name="Dashboard"):
    def __init__(self, bot: TicketBot) -> None:
        self.bot = bot
        core = bot.core
        self.settings = core.settings.web
        self.auth = Auth(core.db)
        self.context = WebContext(
            settings=self.settings, auth=self.auth, limiter=AttemptLimiter(), directory=DiscordDirectory(bot),
            tickets=core.tickets, analytics=core.analytics, archive=core.archive, memory=core.memory,
            clock=real_clock,
        )  # fmt: skip
        self.server = DashboardServer(self.context)

    async def cog_load(self) -> None:
        # WEB_IN_BOT=false: `python bot.py web` serves it (app/web_process.py); /dashboard still gives the links.
        if self.settings.enabled and self.settings.in_bot:
            await self.server.start()

    async def cog_unload(self) -> None:
        await self.server.stop()

    def url(self, path: str) -> str:
        return f"{self.settings.public_url}{path}"

    @app_commands.command(name="dashboard")
    @app_commands.guild_only()
    async def dashboard(self, interaction: discord.Interaction) -> None:
        """A personal sign-in link to the web dashboard (staff: everything; others: your own tickets)."""
        guild_id = interaction.guild_id or 0
        if not self.settings.enabled:
            await _reply(interaction, "The web dashboard is not enabled on this bot (WEB_ENABLED).")
            return
        config = await self.bot.core.tickets.config(guild_id)
        if config is None:
            await _reply(interaction, "Run /setup first to choose the ticket forum and staff role.")
            return
        if not is_staff(interaction.user, config):
            own = await self.bot.core.analytics.tickets(
                guild_id, TicketFilter(only_opener_id=interaction.user.id), per_page=1
            )
            if own.total == 0:
                await _reply(interaction, "You have no tickets here yet: the dashboard shows your own tickets.")
                return
        link = self.url(await self.auth.create_link(user_id=interaction.user.id, guild_id=guild_id))
        await _reply(
            interaction,
            f"🔐 Your personal sign-in link (works once, for 10 minutes — don't share it):\n{link}",
        )

    @app_commands.command(name="stats")
    @app_commands.guild_only()
    @app_commands.describe(days="How many days back (default 7)")
    @staff_only("Only staff can see the ticket statistics.")
    async def stats(self, interaction: discord.Interaction, days: app_commands.Range[int, 1, 365] = 7) -> None:
        """Key ticket numbers of the last days (staff only)."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        guild_id = interaction.guild_id or 0
        report = await self.bot.core.analytics.report(guild_id, Period.last_days(days, discord.utils.utcnow()))
        link = self.url(f"/g/{guild_id}/analytics?days={days}") if self.settings.enabled else None
        await interaction.followup.send(embed=stats_embed(report, days, link), ephemeral=True)


def stats_embed(r: AnalyticsReport, days: int, link: str | None) -> discord.Embed:
    embed = discord.Embed(
        title=f"📊 Tickets, last {days} day{'s' if days != 1 else ''}", colour=discord.Colour.blurple()
    )
    embed.add_field(name="Opened / closed", value=f"{r.opened} / {r.closed}")
    embed.add_field(name="Open now", value=str(r.backlog_now))
    d = r.deflection
    embed.add_field(
        name="Closed without staff", value=f"{percent(d.rate)} ({d.confirmed} confirmed, {d.assumed} assumed)"
    )
    embed.add_field(name="First answer (median)", value=f"bot {duration(r.first_bot.median_s)}, "
                    f"staff {duration(r.first_staff.median_s)}")  # fmt: skip
    embed.add_field(
        name="Resolution", value=f"median {duration(r.resolution.median_s)}, p90 {duration(r.resolution.p90_s)}"
    )
    embed.add_field(name="Saved-answer hit rate", value=f"{percent(r.saved_answer_hit_rate)} of {r.answers}")
    routes = ", ".join(f"{x.route}: {x.answers}" for x in r.routes)
    embed.add_field(name="Answers by route", value=routes or "none", inline=False)
    if r.ratings is not None and r.ratings.average is not None:
        embed.add_field(name="Rating", value=f"{r.ratings.average:.2f} from {r.ratings.count}")
    if link:
        embed.add_field(name="More", value=f"[Analytics page]({link}) — sign in with /dashboard", inline=False)
    embed.set_footer(text=f"{r.period.since:%Y-%m-%d} to {r.period.until - timedelta(days=1):%Y-%m-%d} UTC")
    return embed


async def _reply(interaction: discord.Interaction, text: str) -> None:
    # suppress_embeds: Discord must not fetch a sign-in link to preview it.
    await interaction.response.send_message(text, ephemeral=True, suppress_embeds=True, allowed_mentions=NO_PINGS)


async def setup(bot: TicketBot) -> None:
    await bot.add_cog(DashboardCog(bot))
