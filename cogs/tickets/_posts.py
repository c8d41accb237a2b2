"""What the bot posts about a ticket besides answering: staff pings, the closing embed and the
transcript in the log channel. (How a ticket shows its state is its place's business: `_places.py`.)"""

from __future__ import annotations

import io
import logging
from typing import Any

import discord

from ai.split import unmask_links
from ai.untrusted import without_bidi
from cogs._discord import NO_PINGS, ping_role
from tickets.models import FormAnswer, GuildConfig, Ticket, TicketMessage
from tickets.transcript import render_markdown

log = logging.getLogger(__name__)


def staff_channel(thread: discord.Thread, config: GuildConfig) -> discord.TextChannel | discord.Thread:
    """Where staff are told about a ticket: the log channel if there is one, else the ticket itself."""
    if config.log_channel_id:
        log_channel = thread.guild.get_channel(config.log_channel_id)
        if isinstance(log_channel, discord.TextChannel):
            return log_channel
    return thread


async def notify_staff(
    thread: discord.Thread, config: GuildConfig, text: str, *, category: str | None, ping: bool = True,
    embed: discord.Embed | None = None, view: discord.ui.View | None = None,
) -> discord.Message | None:  # fmt: skip
    """Ping the category's staff role (else the server's) in the log channel if there is one, else in the
    ticket itself (`ping=False`: name the role without pinging it). None: Discord refused (logged)."""
    target = staff_channel(thread, config)
    role_id = config.staff_role_for(category)
    extra: dict[str, Any] = {"embed": embed} if embed is not None else {}
    if view is not None:
        extra["view"] = view
    try:
        return await target.send(
            f"<@&{role_id}> {text}", allowed_mentions=ping_role(role_id) if ping else NO_PINGS, **extra
        )
    except discord.HTTPException:
        log.warning("Could not notify staff about ticket %d", thread.id, exc_info=True)
        return None


async def safe_send(thread: discord.Thread, text: str) -> None:
    """Post the bot's own text (no user text in it) in a ticket; a refusal is logged."""
    try:
        await thread.send(text, allowed_mentions=NO_PINGS)
    except discord.HTTPException:
        log.warning("Could not post in ticket %d", thread.id, exc_info=True)


def closing_embed(
    ticket: Ticket, closer: discord.abc.User | None, reason: str, summary: str, *, transcript_url: str | None = None
) -> discord.Embed:
    title = without_bidi(f"🔒 Ticket closed: {ticket.subject}")[:256]
    embed = discord.Embed(title=title, colour=discord.Colour.dark_grey())
    embed.add_field(name="Closed by", value=closer.mention if closer else "automatically", inline=True)
    # The reason may be the opener's words and the summary the model's: their masked links show their address.
    embed.add_field(name="Reason", value=unmask_links(reason or "—")[:1024], inline=True)
    embed.add_field(name="Summary", value=unmask_links(summary or "—")[:1024], inline=False)
    if transcript_url:
        link = f"[Open it on the dashboard]({transcript_url}) (sign in with /dashboard)"
        embed.add_field(name="Transcript", value=link)
    embed.set_footer(text=f"Ticket {ticket.id} · {ticket.category}")
    return embed


async def send_to_log(
    thread: discord.Thread,
    config: GuildConfig,
    ticket: Ticket,
    embed: discord.Embed,
    messages: list[TicketMessage],
    answers: list[FormAnswer],
    *,
    extra_files: list[discord.File] | None = None,
) -> discord.Message | None:
    """The closing embed and the transcripts (Markdown with the form's answers, and HTML when given) to the
    log channel; returns the message posted (None: no log channel, or Discord refused)."""
    if not config.log_channel_id:
        return None
    channel = thread.guild.get_channel(config.log_channel_id)
    if not isinstance(channel, discord.TextChannel):
        log.warning("Log channel %s of guild %d is gone", config.log_channel_id, config.guild_id)
        return None
    text = render_markdown(ticket, messages, guild_name=thread.guild.name, answers=answers)
    file = discord.File(io.BytesIO(text.encode("utf-8", "replace")), filename=f"ticket-{ticket.id}.md")
    log_embed = embed.copy()
    log_embed.description = f"Post: {thread.mention}"
    try:
        return await channel.send(embed=log_embed, files=[file, *(extra_files or [])], allowed_mentions=NO_PINGS)
    except discord.HTTPException:
        log.warning("Could not send the transcript of ticket %d to the log channel", ticket.id, exc_info=True)
        return None
