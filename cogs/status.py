"""/status: is everything healthy? Latency, the model server, the database, today's answers."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from cogs._discord import NO_PINGS
from cogs.checks import staff_only
from db.database import database_size

if TYPE_CHECKING:
    from bot import TicketBot


class StatusCog(commands.Cog):
    def __init__(self, bot: TicketBot) -> None:
        self.bot = bot

    @app_commands.command(name="status")
    @app_commands.guild_only()
    @staff_only("Only staff can see the bot status.")
    async def status(self, interaction: discord.Interaction) -> None:
        """Bot, model server and database health (staff only)."""
        core = self.bot.core
        guild_id = interaction.guild_id or 0
        config = await core.tickets.config(guild_id)
        await interaction.response.defer(ephemeral=True, thinking=True)
        server = await core.llm.server_status()
        now = discord.utils.utcnow()
        routes = await core.tickets.routes_since(guild_id, now - timedelta(hours=24))
        latency = self.bot.latency
        embed = discord.Embed(
            title="Support bot status", colour=discord.Colour.green() if server.reachable else discord.Colour.orange()
        )
        embed.add_field(name="Discord latency", value=f"{latency * 1000:.0f} ms" if latency == latency else "n/a")
        if server.reachable:
            missing = f"❌ missing — run `{server.pull_hint}`" if server.pull_hint else "❌ not listed by the server"
            model = f"`{server.model}` " + ("✅ pulled" if server.model_available else missing)
            embed.add_field(
                name="Model server", value=f"✅ reachable (version {server.version or '?'})\n{model}", inline=False
            )
        else:
            embed.add_field(
                name="Model server",
                value=(
                    f"❌ unreachable at `{core.settings.llm.base_url}` — answering from trained answers only\n"
                    f"{server.error or ''}"
                )[:1024],
                inline=False,
            )
        if server.embed_model:
            absent = f"❌ missing — `{server.embed_pull_hint}`" if server.embed_pull_hint else "❌ not listed"
            state = {True: "✅", False: absent, None: "?"}[server.embed_model_available]
            health = core.llm.embed_health
            if server.embed_model_available and not health.available:
                state = f"⚠️ failing, keyword search only for now ({health.last_error or 'unknown error'})"[:900]
            embed.add_field(name="Embeddings", value=f"`{server.embed_model}` {state}", inline=True)
        embed.add_field(name="Queue", value=f"{core.llm.queue_length} waiting", inline=True)
        embed.add_field(
            name="Database",
            value=f"{database_size(core.settings.db_path) / 1024:.0f} KiB"
            f" · {await core.memory.count(guild_id)} trained entries"
            f" · {await core.tickets.count_open(guild_id)} open tickets",
            inline=False,
        )
        summary = ", ".join(f"{route}: {n}" for route, n in sorted(routes.items())) or "no answers yet"
        embed.add_field(name="Answers in the last 24 h", value=summary, inline=False)
        if config is None:
            embed.add_field(name="Setup", value="Not set up yet — run /setup.", inline=False)
        await interaction.followup.send(embed=embed, ephemeral=True, allowed_mentions=NO_PINGS)


async def setup(bot: TicketBot) -> None:
    await bot.add_cog(StatusCog(bot))
