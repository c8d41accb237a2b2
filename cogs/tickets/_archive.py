"""What a closing ticket leaves behind besides the log embed: what Discord showed in it (embeds, avatars,
attachments — kept by `TicketArchive`) and a self-contained HTML transcript for the log channel."""

from __future__ import annotations

import io
import logging
from typing import TYPE_CHECKING

import discord

from tickets.archive import ArchivedEmbed, ArchivedMessage, IncomingAttachment
from tickets.models import Ticket
from web.transcripts import transcript_html

if TYPE_CHECKING:
    from app.runtime import Core

log = logging.getLogger(__name__)

MAX_ARCHIVED_MESSAGES = 2000


def transcript_url(core: Core, ticket: Ticket) -> str | None:
    """Where the ticket's transcript is on the dashboard (its opener and staff can sign in there)."""
    web = core.settings.web
    return f"{web.public_url}/g/{ticket.guild_id}/tickets/{ticket.id}" if web.enabled else None


def _archived(message: discord.Message) -> ArchivedMessage:
    author = message.author
    return ArchivedMessage(
        message_id=message.id,
        author_id=author.id,
        author_name=author.display_name,
        author_bot=author.bot,
        avatar_url=author.display_avatar.url if author.display_avatar else None,
        content=message.content,
        embeds=[
            ArchivedEmbed(
                title=e.title or "",
                description=e.description or "",
                fields=[(f.name or "", f.value or "") for f in e.fields],
                footer=e.footer.text or "" if e.footer else "",
            )
            for e in message.embeds
        ],
        created_at=message.created_at.isoformat(timespec="seconds"),
        attachments=[IncomingAttachment(a.filename, a.content_type, a.size, a.read) for a in message.attachments],
    )


async def archive_closed(core: Core, thread: discord.Thread, ticket: Ticket) -> list[discord.File]:
    """Keep what the ticket showed and return the HTML transcript for the log channel. Never raises: the
    ticket is closed already, and a failure here must not keep the summary from the log."""
    try:
        messages = [_archived(m) async for m in thread.history(limit=MAX_ARCHIVED_MESSAGES, oldest_first=True)]
        await core.archive.save(ticket, messages, discord.utils.utcnow())
    except Exception:
        log.exception("Archiving ticket %d failed; its transcript has the stored messages only", ticket.id)
    try:
        html = await transcript_html(
            core.archive, core.analytics, ticket, guild_name=thread.guild.name, link=transcript_url(core, ticket)
        )
    except Exception:
        log.exception("Rendering the HTML transcript of ticket %d failed", ticket.id)
        return []
    return [discord.File(io.BytesIO(html.encode("utf-8", "replace")), filename=f"ticket-{ticket.id}.html")]
