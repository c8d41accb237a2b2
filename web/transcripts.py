"""What a transcript shows, for the Ticket page and for the self-contained HTML file sent to the log
channel when a ticket closes."""

from __future__ import annotations

from typing import Any

from tickets.analytics import TicketAnalytics
from tickets.archive import TicketArchive
from tickets.models import Ticket
from web.render import STATIC, transcript_file


async def transcript_values(
    archive: TicketArchive, analytics: TicketAnalytics, ticket: Ticket, *, staff: bool, guild_name: str
) -> dict[str, Any]:
    transcript = await archive.transcript(ticket)
    return {
        "t": transcript,
        "names": {e.author_id: e.author_name for e in transcript.entries},
        "ticket": ticket,
        "guild_name": guild_name,
        "staff_view": staff,
        "rating": await analytics.ticket_rating(ticket.id),
        # Staff notes are for staff: an opener's view never carries them.
        "notes": await analytics.ticket_notes(ticket.id) if staff else None,
        "claimer": await analytics.ticket_claimer(ticket.id),
    }


async def transcript_html(
    archive: TicketArchive, analytics: TicketAnalytics, ticket: Ticket, *, guild_name: str, link: str | None
) -> str:
    """The transcript as one HTML file: styles inline, no scripts, nothing loaded from elsewhere."""
    values = await transcript_values(archive, analytics, ticket, staff=False, guild_name=guild_name)
    css = (STATIC / "transcript.css").read_text(encoding="utf-8")
    return transcript_file({**values, "css": css, "link": link})
