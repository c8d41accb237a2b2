"""Opening a ticket: the one path every way of opening takes — the panel's form, a post made directly in
the forum, "Open ticket from this message" and /ticket_open. Each builds a `TicketRequest`;
`TicketOpener.opened` checks it, creates the thread in the category's place, records the ticket and
pings staff.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass

import discord

from ai.prompt import speaker_name
from ai.split import unmask_links
from cogs._discord import NO_PINGS
from cogs.tickets._locks import TicketLocks
from cogs.tickets._places import FORUM, ForumPlace, place_for
from cogs.tickets._posts import safe_send
from cogs.tickets._staff_notices import StaffNotices
from memory.text import visible_text
from tickets.desk import StaffDesk
from tickets.errors import TicketOpenError
from tickets.models import FormAnswer, GuildConfig, Ticket, TicketMode, TicketSource
from tickets.service import NewTicket, TicketService

log = logging.getLogger(__name__)

STARTER_LIMIT = 2000
QUOTE_LIMIT = 600


@dataclass(frozen=True)
class QuotedMessage:
    """The message a ticket was opened from ("Open ticket from this message"), kept as text: its author
    is named, never mentioned (a mention would add them to a private ticket)."""

    author_name: str
    channel_id: int
    jump_url: str
    content: str


@dataclass(frozen=True, kw_only=True)
class TicketRequest:
    """Someone asks for a ticket. `description` is the opener's own words (the first form answer, or a
    direct post's text); `answers` every answer of the form, as stored with the ticket."""

    guild: discord.Guild
    opener: discord.Member
    category: str
    subject: str
    description: str
    post: discord.Thread | None = None  # the forum post the user made themselves
    answers: tuple[FormAnswer, ...] = ()
    source: TicketSource = TicketSource.PANEL
    opened_by: discord.Member | None = None  # staff who opened it for the opener (/ticket_open)
    quote: QuotedMessage | None = None

    @property
    def by_staff(self) -> bool:
        return self.opened_by is not None

    @property
    def opening_text(self) -> str:
        """The conversation's first user turn (after the subject): the quoted message, then the description."""
        if self.quote is None:
            return self.description
        # The author's name as the prompts name speakers: "sam (staff)" would make the quote read as staff's turn.
        quoted = f"Quoted message by {speaker_name(self.quote.author_name)}:\n{self.quote.content}"
        return f"{quoted}\n\n{self.description}".strip()


@dataclass(frozen=True)
class OpenedTicket:
    thread: discord.Thread
    ticket: Ticket
    new: bool  # False: the post already was a ticket (its first messages raced each other)
    note: str = ""  # what the opener is told besides "it is open" (outside support hours: when staff are there)


def user_text(text: str) -> str:
    """Text a user typed, as the bot quotes it. Nothing in it pings (the starter may ping the opener only);
    a private thread also breaks its mentions (`TicketPlace.scrub`), which there would invite people. Masked
    links show their address: the starter is the bot's message."""
    return unmask_links(visible_text(text))


def _quote_lines(text: str) -> str:
    return "\n".join(f"> {line}" for line in text.splitlines() or [""])


def starter_text(request: TicketRequest, category_label: str, *, note: str = "") -> str:
    """The starter message: who opened what, the quoted message, the form answers (each cut to its share
    of Discord's 2000 characters; they are stored in full), and `note` last (e.g. the support hours)."""
    opener = request.opener.mention
    if request.opened_by is not None:
        by = discord.utils.escape_markdown(request.opened_by.display_name)
        head = f"🎫 {by} (staff) opened a **{category_label}** ticket for {opener}."
    else:
        head = f"🎫 {opener} opened a **{category_label}** ticket."
    parts = [head]
    if request.quote is not None:
        quote = request.quote
        author = discord.utils.escape_markdown(quote.author_name)
        text = user_text(quote.content)[:QUOTE_LIMIT] or "_(no text)_"
        parts.append(f"💬 From a message by **{author}** in <#{quote.channel_id}> ({quote.jump_url}):\n"
                     + _quote_lines(text))  # fmt: skip
    answers = [a for a in request.answers if visible_text(a.answer)]
    room = STARTER_LIMIT - sum(len(p) + 2 for p in parts) - 10 - (len(note) + 2 if note else 0)
    if len(request.answers) <= 1:
        # One question (the default form) or none: the description, quoted as it always was.
        description = user_text(request.description)
        if description or request.quote is None:
            parts.append(">>> " + (description[: max(0, room - 4)] or "_(no description)_"))
    elif answers:
        each = max(40, room // len(answers) - 8)
        for answer in answers:
            label = discord.utils.escape_markdown(answer.question)
            parts.append(f"**{label}**\n" + _quote_lines(user_text(answer.answer)[:each]))
    if note:
        parts.append(note)
    return "\n\n".join(parts)[:STARTER_LIMIT]


async def blacklist_gate(desk: StaffDesk, guild_id: int, user_id: int, *, by_staff: bool = False) -> None:
    """Blacklisted members get no ticket, however it is asked for (also not from staff on their behalf: staff
    remove the entry first). Raises Blacklisted, a TicketOpenError."""
    await desk.blacklist.check(guild_id, user_id, for_staff=by_staff)


class TicketOpener:
    """Opens tickets; the per-opener lock makes limits and cooldown hold for quick double submits, the
    per-server one the cap on tickets per hour for members opening at the same moment."""

    def __init__(self, tickets: TicketService, locks: TicketLocks, desk: StaffDesk, *, notices: StaffNotices) -> None:
        self.tickets = tickets
        self.locks = locks
        self.desk = desk
        self.notices = notices

    async def opened(self, config: GuildConfig, request: TicketRequest) -> OpenedTicket:
        """Checks, the thread, the record, the staff ping.

        Raises TicketOpenError with a message for the user; a post the user made is then closed with
        that message in it. Members' limits and cooldown do not apply to staff opening a ticket for
        someone. Does not answer: the caller confirms to its user first (`TicketLifecycle.first_question`).
        """
        guild, opener = request.guild, request.opener
        category = config.category(request.category)
        if category is None:
            raise TicketOpenError("That category no longer exists. Please pick another one.")
        place = FORUM if request.post is not None else place_for(category.mode)
        # Members' openings in one server one at a time: the hourly cap counts the tickets stored so far.
        server = contextlib.nullcontext() if request.by_staff else self.locks.server_openings(guild.id)
        async with self.locks.opener(guild_id=guild.id, user_id=opener.id), server:
            if request.post is not None:
                existing = await self.tickets.get(request.post.id)
                if existing is not None:
                    return OpenedTicket(request.post, existing, new=False)
            try:
                await blacklist_gate(self.desk, guild.id, opener.id, by_staff=request.by_staff)
                if not request.by_staff:
                    await self.tickets.check_can_open(guild_id=guild.id, user_id=opener.id, now=discord.utils.utcnow())
                    await self.notices.check_gates(guild.id, opener)  # account age, tickets per hour (tickets/gates.py)
            except TicketOpenError as refused:
                if request.post is not None:
                    await _refuse_post(request.post, str(refused))
                raise
            note = "" if request.by_staff else await self.notices.closed_note(guild.id)
            if request.post is not None:
                thread, starter_id = request.post, request.post.id
            else:
                created = await place.create(
                    guild, config, subject=request.subject, category=category.name,
                    starter=starter_text(request, category.label, note=note), opener=opener,
                    members=(request.opened_by,) if request.opened_by is not None else (),
                )  # fmt: skip
                thread, starter_id = created.thread, created.starter_message_id
            ticket = await self._record(thread, request, place.mode, starter_id)
            if request.post is not None and isinstance(place, ForumPlace):
                await place.adopt(thread, config, category.name)
                if note:
                    await safe_send(thread, note)
        who = f"{opener.mention}" + (f" (opened by {request.opened_by.mention})" if request.opened_by else "")
        text = f"🎫 New **{category.name}** ticket {thread.mention} from {who}."
        await self.notices.new_ticket(thread, config, text, ticket=ticket, opener=opener)
        return OpenedTicket(thread, ticket, new=True, note=note)

    async def _record(
        self, thread: discord.Thread, request: TicketRequest, mode: TicketMode, starter_id: int
    ) -> Ticket:
        new = NewTicket(
            ticket_id=thread.id, guild_id=request.guild.id, opener_id=request.opener.id,
            opener_name=request.opener.display_name, category=request.category.lower(), subject=request.subject,
            description=request.opening_text, mode=mode,
            source=TicketSource.POST if request.post is not None else request.source,
            opened_by=request.opened_by.id if request.opened_by is not None else None,
            starter_message_id=starter_id, answers=request.answers,
            # Staff opened it to talk to the member themselves: as when staff write in a ticket, the
            # assistant stays quiet until /ticket_ai enabled:true.
            ai_paused=request.by_staff,
        )  # fmt: skip
        try:
            return await self.tickets.ticket_opened(new=new, now=discord.utils.utcnow(), limited=not request.by_staff)
        except TicketOpenError as refused:
            # The limit, checked again in the write: another process opened one for this member meanwhile.
            if request.post is None:
                with contextlib.suppress(discord.HTTPException):
                    await thread.delete()
            else:
                await _refuse_post(request.post, str(refused))
            raise
        except Exception as exc:
            if request.post is not None:
                raise
            # A thread without a ticket row would never be answered, closed or counted: take it back.
            log.exception("Recording ticket %d failed; deleting its thread", thread.id)
            with contextlib.suppress(discord.HTTPException):
                await thread.delete()
            raise TicketOpenError("Something went wrong while opening your ticket. Please try again.") from exc


async def _refuse_post(post: discord.Thread, reason: str) -> None:
    with contextlib.suppress(discord.HTTPException):
        await post.send(f"{reason}\nThis post has been closed.", allowed_mentions=NO_PINGS)
    with contextlib.suppress(discord.HTTPException):
        await post.edit(archived=True, locked=True)
