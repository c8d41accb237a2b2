"""The ticket archive: when a ticket closes, what Discord showed in it (names, avatars, embeds) and its
attachments (size-capped) are kept; `transcript` assembles what a transcript shows, whether or not the
ticket was archived (tickets closed before this existed have only their stored messages).

Plain Python over `ArchiveStore` and the ticket store's reads; the Discord side turns messages into
`ArchivedMessage`s (cogs/tickets/_archive.py).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from db.database import Row, utc_iso
from memory.decision import Route
from tickets.archive_store import ArchiveStore
from tickets.models import FormAnswer, MessageRole, Ticket, TicketMessage
from tickets.store import TicketStore

log = logging.getLogger(__name__)

MAX_ATTACHMENT_BYTES = 8 * 1024 * 1024  # one file
MAX_TICKET_ATTACHMENT_BYTES = 25 * 1024 * 1024  # all files of one ticket


@dataclass(frozen=True)
class ArchivedEmbed:
    title: str = ""
    description: str = ""
    fields: list[tuple[str, str]] = field(default_factory=list)
    footer: str = ""


@dataclass(frozen=True)
class IncomingAttachment:
    filename: str
    content_type: str | None
    size: int
    read: Callable[[], Awaitable[bytes]]


@dataclass(frozen=True)
class ArchivedMessage:
    """One Discord message of a ticket as it was shown when the ticket closed."""

    message_id: int
    author_id: int
    author_name: str
    author_bot: bool
    avatar_url: str | None
    content: str
    embeds: list[ArchivedEmbed]
    created_at: str
    attachments: list[IncomingAttachment] = field(default_factory=list)


@dataclass(frozen=True)
class SavedAttachment:
    id: int
    ticket_id: int
    guild_id: int
    message_id: int
    filename: str
    content_type: str | None
    size: int
    kept: bool  # False: over the size cap or unreadable (see note)
    note: str | None


@dataclass(frozen=True)
class RouteLabel:
    route: Route
    entry_id: int | None

    @property
    def text(self) -> str:
        if self.route is Route.ANSWER:
            return f"saved answer #{self.entry_id}"
        if self.route is Route.FALLBACK:
            return f"fallback: saved answer #{self.entry_id}" if self.entry_id else "fallback"
        if self.route is Route.LLM:
            return "model"
        return "staff hand-off"


@dataclass(frozen=True)
class TranscriptEntry:
    message_id: int | None
    author_id: int
    author_name: str
    role: MessageRole
    avatar_url: str | None
    content: str
    created_at: str
    embeds: list[ArchivedEmbed] = field(default_factory=list)
    attachments: list[SavedAttachment] = field(default_factory=list)
    route: RouteLabel | None = None


@dataclass(frozen=True)
class Transcript:
    ticket: Ticket
    opener_name: str
    entries: list[TranscriptEntry]
    form: list[FormAnswer]
    attachments: list[SavedAttachment]
    archived: bool  # False: built from the stored messages only (no embeds, avatars or attachments)


class TicketArchive:
    def __init__(self, store: TicketStore, archive: ArchiveStore) -> None:
        self.store = store
        self.archive = archive

    async def save(self, ticket: Ticket, messages: list[ArchivedMessage], now: datetime) -> list[SavedAttachment]:
        """Keep the messages and their attachments (each under MAX_ATTACHMENT_BYTES, together under
        MAX_TICKET_ATTACHMENT_BYTES; bigger ones are listed, not kept). Saving again adds what is new."""
        total = sum(a.size for a in await self.attachments(ticket.id) if a.kept)
        for m in messages:
            await self.archive.save_message(
                ticket.id,
                {
                    "message_id": m.message_id, "author_id": m.author_id, "author_name": m.author_name,
                    "author_bot": int(m.author_bot), "avatar_url": m.avatar_url, "content": m.content,
                    "embeds": [_embed_json(e) for e in m.embeds], "created_at": m.created_at,
                },
            )  # fmt: skip
            for a in m.attachments:
                if await self.archive.has_attachment(ticket.id, m.message_id, a.filename):
                    continue
                data, note = await _download(a, room=MAX_TICKET_ATTACHMENT_BYTES - total)
                total += len(data or b"")
                await self.archive.save_attachment(
                    {
                        "ticket_id": ticket.id, "guild_id": ticket.guild_id, "message_id": m.message_id,
                        "filename": a.filename[:200] or "file", "content_type": a.content_type, "size": a.size,
                        "data": data, "note": note, "saved_at": utc_iso(now),
                    }
                )  # fmt: skip
        return await self.attachments(ticket.id)

    async def attachments(self, ticket_id: int) -> list[SavedAttachment]:
        return [_attachment(row) for row in await self.archive.attachments(ticket_id)]

    async def attachment(self, guild_id: int, attachment_id: int) -> tuple[SavedAttachment, bytes | None] | None:
        """One attachment of the server's tickets and its bytes (None when it was not kept)."""
        row = await self.archive.attachment(guild_id, attachment_id)
        if row is None:
            return None
        saved = SavedAttachment(
            row["id"], row["ticket_id"], row["guild_id"], row["message_id"], row["filename"], row["content_type"],
            row["size"], row["data"] is not None, row["note"],
        )  # fmt: skip
        return saved, row["data"]

    async def transcript(self, ticket: Ticket) -> Transcript:
        stored = await self.store.messages(ticket.id)
        labels = _route_labels(stored, await self.archive.routes(ticket.id))
        attachments = await self.attachments(ticket.id)
        by_message: dict[int, list[SavedAttachment]] = {}
        for a in attachments:
            by_message.setdefault(a.message_id, []).append(a)
        roles = {m.message_id: m.role for m in stored if m.message_id is not None}
        archived = await self.archive.messages(ticket.id)
        if archived:
            entries = [_archived_entry(row, ticket, roles, labels, by_message) for row in archived]
        else:
            entries = [
                TranscriptEntry(
                    m.message_id,
                    m.author_id,
                    m.author_name,
                    m.role,
                    None,
                    m.content,
                    m.created_at,
                    attachments=by_message.get(m.message_id or 0, []),
                    route=labels.get(m.message_id or 0),
                )
                for m in stored
            ]
        opener_name = next((m.author_name for m in stored if m.author_id == ticket.opener_id), str(ticket.opener_id))
        answers = await self.store.answers(ticket.id)
        form = [FormAnswer("Subject", ticket.subject), *answers] if answers else form_answers(ticket, stored)
        return Transcript(ticket, opener_name, entries, form, attachments, bool(archived))


def form_answers(ticket: Ticket, stored: list[TicketMessage]) -> list[FormAnswer]:
    """What the opener filled in, for tickets opened before form answers were stored (or without a form, as
    direct forum posts): the subject and the description, read from the first message ("subject\\ndescription")."""
    first = next((m for m in stored if m.role is MessageRole.USER and m.author_id == ticket.opener_id), None)
    description = first.content if first else ""
    if description.startswith(ticket.subject):
        description = description[len(ticket.subject) :].strip()
    return [FormAnswer("Subject", ticket.subject), FormAnswer("Description", description or "—")]


def _route_labels(stored: list[TicketMessage], routes: list[Row]) -> dict[int, RouteLabel]:
    """Discord message id -> the route its answer took.

    An answer's route is recorded just before its text (same timestamp, `TicketService.answer_recorded`),
    so each stored bot message belongs to the latest route recorded at or before it that no earlier
    message took. A route without text (nothing was shown) labels the message its buttons were on, if any.
    """
    labels: dict[int, RouteLabel] = {}
    unused = list(routes)
    for m in stored:
        if m.role is not MessageRole.BOT:
            continue
        candidates = [r for r in unused if r["created_at"] <= m.created_at]
        if not candidates:
            continue
        route = candidates[-1]
        unused.remove(route)
        if m.message_id is not None:
            labels[m.message_id] = RouteLabel(Route(route["route"]), route["entry_id"])
    for route in unused:
        if route["message_id"] is not None:
            labels.setdefault(route["message_id"], RouteLabel(Route(route["route"]), route["entry_id"]))
    return labels


def _archived_entry(
    row: Row,
    ticket: Ticket,
    roles: dict[int, MessageRole],
    labels: dict[int, RouteLabel],
    attachments: dict[int, list[SavedAttachment]],
) -> TranscriptEntry:
    message_id = row["message_id"]
    if row["author_bot"]:
        role = MessageRole.BOT
    elif row["author_id"] == ticket.opener_id:
        role = MessageRole.USER
    else:
        role = roles.get(message_id, MessageRole.USER)
    embeds = [
        ArchivedEmbed(e.get("title", ""), e.get("description", ""), [tuple(f) for f in e.get("fields", [])],
                      e.get("footer", ""))
        for e in json.loads(row["embeds"] or "[]")
    ]  # fmt: skip
    return TranscriptEntry(
        message_id, row["author_id"], row["author_name"], role, row["avatar_url"], row["content"], row["created_at"],
        embeds=embeds, attachments=attachments.get(message_id, []), route=labels.get(message_id),
    )  # fmt: skip


def _embed_json(e: ArchivedEmbed) -> dict[str, object]:
    return {"title": e.title, "description": e.description, "fields": [list(f) for f in e.fields], "footer": e.footer}


def _attachment(row: Row) -> SavedAttachment:
    return SavedAttachment(
        row["id"], row["ticket_id"], row["guild_id"], row["message_id"], row["filename"], row["content_type"],
        row["size"], bool(row["kept"]), row["note"],
    )  # fmt: skip


async def _download(a: IncomingAttachment, *, room: int) -> tuple[bytes | None, str | None]:
    if a.size > MAX_ATTACHMENT_BYTES:
        return None, f"not kept: larger than {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MiB"
    if a.size > room:
        return None, f"not kept: the ticket's attachments passed {MAX_TICKET_ATTACHMENT_BYTES // (1024 * 1024)} MiB"
    try:
        data = await a.read()
    except Exception:  # any failure to fetch one file must not lose the rest of the archive
        log.warning("Could not download attachment %r", a.filename, exc_info=True)
        return None, "not kept: could not be downloaded"
    if len(data) > min(MAX_ATTACHMENT_BYTES, room):
        return None, "not kept: larger than announced"
    return data, None
