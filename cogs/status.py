"""/status: is everything healthy? Latency, the model server, the database, today's answers."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from ai.pool import PoolStatus, ServerReport
from cogs._discord import NO_PINGS
from cogs.checks import staff_only
from db.database import database_size
from memory.scale import report as report_scale

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
        models = await core.llm.status()
        now = discord.utils.utcnow()
        routes = await core.tickets.routes_since(guild_id, now - timedelta(hours=24))
        latency = self.bot.latency
        embed = discord.Embed(
            title="Support bot status", colour=discord.Colour.green() if models.reachable else discord.Colour.orange()
        )
        embed.add_field(name="Discord latency", value=f"{latency * 1000:.0f} ms" if latency == latency else "n/a")
        several = len(models.chat) > 1
        lines = [_chat_line(report, several) for report in models.chat]
        if not models.reachable:
            lines.append("answering from trained answers only")
        embed.add_field(name="Model servers" if several else "Model server", value=_field(lines), inline=False)
        if models.embed_model:
            scale = report_scale(models.embed_model, await core.memory.calibrate())
            lines = [*_embedding_lines(models), scale]
            embed.add_field(name="Embeddings", value=_field(lines), inline=not models.embed)
        embed.add_field(name="Queue", value=f"{models.queue} waiting", inline=True)
        embed.add_field(
            name="Database",
            value=(
                "PostgreSQL" if core.settings.database_url else f"{database_size(core.settings.db_path) / 1024:.0f} KiB"
            )
            + f" · {await core.memory.count(guild_id)} trained entries"
            f" · {await core.tickets.count_open(guild_id)} open tickets",
            inline=False,
        )
        summary = ", ".join(f"{route}: {n}" for route, n in sorted(routes.items())) or "no answers yet"
        embed.add_field(name="Answers in the last 24 h", value=summary, inline=False)
        if config is None:
            embed.add_field(name="Setup", value="Not set up yet — run /setup.", inline=False)
        await interaction.followup.send(embed=embed, ephemeral=True, allowed_mentions=NO_PINGS)


def _field(lines: list[str]) -> str:
    return "\n".join(lines)[:1024]


def _chat_line(report: ServerReport, several: bool) -> str:
    server = report.status
    where = f"`{report.url}` " if several else ""
    if not server.reachable:
        return f"❌ {where}unreachable at `{report.url}` — {server.error or 'no answer'}"[:300]
    missing = f"❌ missing — run `{server.pull_hint}`" if server.pull_hint else "❌ not listed by the server"
    model = f"`{server.model}` " + ("✅ pulled" if server.model_available else missing)
    busy = f" · {report.busy}/{report.limit} busy" if several else ""
    return f"✅ {where}reachable (version {server.version or '?'}) · {model}{busy}"


def _embedding_lines(models: PoolStatus) -> list[str]:
    failing = [health for health in models.embed_health if not health.available]
    if not models.embed:  # the chat servers embed
        server = models.chat[0].status
        absent = f"❌ missing — `{server.embed_pull_hint}`" if server.embed_pull_hint else "❌ not listed"
        state = {True: "✅", False: absent, None: "?"}[server.embed_model_available]
        if server.embed_model_available and failing:
            state = f"⚠️ failing, keyword search only for now ({failing[0].last_error or 'unknown error'})"[:900]
        return [f"`{models.embed_model}` {state}"]
    lines = [f"`{models.embed_model}`"]
    for report in models.embed:
        server = report.status
        if not server.reachable:
            state = f"❌ unreachable — {server.error or 'no answer'}"[:300]
        elif not server.embed_model_available:
            state = f"❌ missing — `{server.embed_pull_hint}`" if server.embed_pull_hint else "❌ not listed"
        elif not report.healthy:
            state = f"⚠️ failing ({report.last_error or 'unknown error'})"[:300]
        else:
            state = f"✅ reachable{f' (version {server.version})' if server.version else ''}"
        lines.append(f"`{report.url}` ({report.backend}) {state}")
    if len(failing) == len(models.embed_health):
        lines.append("keyword search only until one is back")
    return lines


async def setup(bot: TicketBot) -> None:
    await bot.add_cog(StatusCog(bot))
