"""What staff do to a ticket, on the Discord side: claims, members, titles, priority, notes, urgency and the
on-call rotation. Each method records through `core.desk` (tickets/desk.py) and shows the result through the
ticket's place (tags or card, title); it returns the text the command answers with, and raises a UserError
(tickets/errors.py) to refuse. What is shown in a ticket names people as text: in a private thread a mention
would invite them.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime
from typing import TYPE_CHECKING

import discord

from ai.untrusted import one_line, without_bidi
from cogs._discord import NO_PINGS, is_staff, ping_users
from cogs.tickets._locks import TicketLocks
from cogs.tickets._places import hide_mentions, place_of
from cogs.tickets._posts import notify_staff
from cogs.tickets._titles import TitleKeeper
from memory.text import visible_text
from tickets.desk_models import Note, Priority
from tickets.errors import ActionRefused, InvalidInput
from tickets.models import GuildConfig, Ticket
from tickets.urgency import UrgencyMode, Verdict, assess, by_rules

if TYPE_CHECKING:
    from bot import TicketBot

log = logging.getLogger(__name__)

SUBJECT_MIN = 3


def name_of(member: discord.abc.User) -> str:
    """A member's name as text (bold-safe): never a mention, also when the name is written like one ("<@123>"):
    in a private thread the bot's own mention would add that member."""
    return hide_mentions(discord.utils.escape_markdown(member.display_name))


class StaffActions:
    def __init__(self, bot: TicketBot, titles: TitleKeeper, locks: TicketLocks) -> None:
        self.bot = bot
        self.core = bot.core
        self.desk = bot.core.desk
        self.titles = titles
        self.locks = locks  # a claim or a transfer stops the assistant's answer in progress

    # -- claims ------------------------------------------------------------------------------------------

    async def claim(self, thread: discord.Thread, ticket: Ticket, config: GuildConfig, member: discord.Member) -> str:
        updated = await self.desk.claims.claim(
            ticket, staff_id=member.id, staff_name=member.display_name, now=discord.utils.utcnow()
        )
        self.locks.taken_over(ticket.id)
        await self._show_owner(thread, updated, config, member)
        return f"🙋 **{name_of(member)}** claimed this ticket and will handle it. The assistant stays quiet here."

    async def unclaim(self, thread: discord.Thread, ticket: Ticket, config: GuildConfig, by: discord.Member) -> str:
        updated = await self.desk.claims.unclaim(ticket, by=by.id, now=discord.utils.utcnow())
        await place_of(updated).show_status(thread, config, updated)
        return (
            f"↩️ **{name_of(by)}** released this ticket; any member of staff can claim it. "
            "(`/ticket_ai enabled:true` lets the assistant answer again.)"
        )

    async def transfer(
        self, thread: discord.Thread, ticket: Ticket, config: GuildConfig, by: discord.Member, to: discord.Member
    ) -> str:
        if to.bot or not is_staff(to, config, category=ticket.category):
            raise InvalidInput(f"{to.mention} is not staff for this ticket's category, so it can't be theirs.")
        updated = await self.desk.claims.transfer(
            ticket, to_id=to.id, to_name=to.display_name, by=by.id, now=discord.utils.utcnow()
        )
        self.locks.taken_over(ticket.id)
        await self._show_owner(thread, updated, config, to)
        if to.id != by.id:
            text = f"{to.mention} {name_of(by)} handed you the ticket {thread.mention}."
            await self._to_log(thread, config, text, to)
        return f"🔁 **{name_of(by)}** handed this ticket to **{name_of(to)}**."

    async def assign_on_call(self, thread: discord.Thread, ticket: Ticket, config: GuildConfig) -> None:
        """The on-call rotation (when the server turned it on) makes a member of staff responsible for a new ticket."""
        if not await self.desk.rotation_on(ticket.guild_id):
            return
        eligible: dict[int, discord.Member] = {}
        for on_call in await self.desk.oncall.members(ticket.guild_id):
            member = await _member(thread.guild, on_call.user_id)
            if member is None or member.bot or member.id == ticket.opener_id:
                continue
            if is_staff(member, config, category=ticket.category):
                eligible[member.id] = member
        chosen = await self.desk.oncall.next_for(ticket.guild_id, eligible.__contains__, discord.utils.utcnow())
        if chosen is None:
            log.info("Nobody on call may take ticket %d", ticket.id)
            return
        member = eligible[chosen]
        updated = await self.desk.claims.assigned(
            ticket, staff_id=member.id, staff_name=member.display_name, now=discord.utils.utcnow()
        )
        await self._show_owner(thread, updated, config, member)
        await self._to_log(thread, config, f"📌 {member.mention} is on call: {thread.mention} is yours.", member)

    async def _show_owner(
        self, thread: discord.Thread, ticket: Ticket, config: GuildConfig, owner: discord.Member
    ) -> None:
        """The owner is in the ticket (a private thread: they see it; a forum post: they follow it), and its
        tags or card say whose it is."""
        try:
            await place_of(ticket).add_member(thread, owner)
        except discord.HTTPException:
            log.warning("Could not add %d to ticket %d", owner.id, ticket.id, exc_info=True)
        await place_of(ticket).show_status(thread, config, ticket)

    # -- members -----------------------------------------------------------------------------------------

    async def add_member(
        self, thread: discord.Thread, ticket: Ticket, config: GuildConfig, by: discord.Member, member: discord.Member
    ) -> str:
        if member.bot:
            raise InvalidInput("Bots can't be added to tickets.")
        if member.id == ticket.opener_id:
            raise InvalidInput(f"{member.mention} opened this ticket: they are in it already.")
        if member.id in await self.desk.members.of(ticket.id):
            raise InvalidInput(f"{member.mention} was added to this ticket already.")
        place = place_of(ticket)
        try:
            await place.add_member(thread, member)
        except discord.HTTPException as exc:
            raise ActionRefused(f"Discord refused to add {member.mention} to this {place.noun}.") from exc
        await self.desk.members.added(ticket.id, member.id, by=by.id, now=discord.utils.utcnow())
        if not place.is_private:
            return f"➕ **{name_of(member)}** now follows this ticket (added by **{name_of(by)}**)."
        text = f"➕ **{name_of(member)}** can now see and write in this ticket (added by **{name_of(by)}**)."
        parent = thread.parent
        if parent is not None and not parent.permissions_for(member).view_channel:
            # Discord shows a private thread only to members who can see its channel too.
            text += " ⚠️ They can't see this ticket's channel yet: they need View Channel there."
        return text

    async def remove_member(
        self, thread: discord.Thread, ticket: Ticket, config: GuildConfig, by: discord.Member, member: discord.Member
    ) -> str:
        if member.id == ticket.opener_id:
            raise InvalidInput(f"{member.mention} opened this ticket; close it instead of removing them.")
        if member.id == thread.guild.me.id:
            raise InvalidInput("I have to stay in the ticket to look after it.")
        place = place_of(ticket)
        try:
            await place.remove_member(thread, member)
        except discord.NotFound:
            pass  # not in the thread (e.g. a forum post they never followed)
        except discord.HTTPException as exc:
            raise ActionRefused(f"Discord refused to remove {member.mention} from this {place.noun}.") from exc
        await self.desk.members.removed(ticket.id, member.id, by=by.id, now=discord.utils.utcnow())
        if not place.is_private:
            return f"➖ **{name_of(member)}** no longer follows this ticket (a public post: they can still read it)."
        still = " As staff they can still see it." if is_staff(member, config, category=ticket.category) else ""
        return f"➖ **{name_of(member)}** was removed from this ticket by **{name_of(by)}**.{still}"

    # -- title and priority --------------------------------------------------------------------------------

    async def rename(self, thread: discord.Thread, ticket: Ticket, config: GuildConfig, subject: str) -> str:
        subject = visible_text(subject)
        if len(subject) < SUBJECT_MIN:
            raise InvalidInput("The title needs at least 3 characters besides spaces and invisible characters.")
        await self.desk.rename(ticket.id, subject[:100], discord.utils.utcnow())
        updated = await self.core.tickets.get(ticket.id)
        assert updated is not None
        await place_of(updated).show_status(thread, config, updated)  # a private ticket's card carries the title
        retitled = await self._retitle(thread, updated, config)
        note = f" {retitled}" if retitled else ""
        shown = hide_mentions(discord.utils.escape_markdown(without_bidi(subject[:100])))
        return f"✏️ This ticket is now called “{shown}”.{note}"

    async def set_priority(
        self, thread: discord.Thread, ticket: Ticket, config: GuildConfig, by: discord.Member, priority: Priority
    ) -> str:
        updated = await self.desk.priorities.set_by_staff(ticket, priority, by=by.id, now=discord.utils.utcnow())
        await place_of(updated).show_status(thread, config, updated)
        retitled = await self._retitle(thread, updated, config)
        note = f" {retitled}" if retitled else ""
        return f"{priority.emoji} Priority set to **{priority.label}**; automatic flags won't change it.{note}"

    async def titles_restored(self) -> int:
        """After a start: a rename that waited for Discord's limit was lost with the process that stopped, but the
        title follows from the record. Each open ticket of this process's servers whose thread shows another title
        gets it (in the background, within the limit); returns how many. An archived post is left alone: Discord
        refuses to rename it, and it gets its title with the next change that renames it."""
        core = self.core
        owns = core.settings.shards.owns  # another process runs the servers on its shards (SHARD_IDS)
        restored = 0
        for ticket in await core.tickets.unclosed():
            thread = self.bot.get_channel(ticket.id) if owns(ticket.guild_id) else None
            if not isinstance(thread, discord.Thread) or thread.archived:
                continue
            config = await core.tickets.config(ticket.guild_id)
            if config is not None and self.titles.restore(thread, place_of(ticket).title(config, ticket)):
                log.info(
                    "Ticket %d gets the title it should have: a rename was waiting when the bot stopped", ticket.id
                )
                restored += 1
        return restored

    async def _retitle(self, thread: discord.Thread, ticket: Ticket, config: GuildConfig) -> str:
        """Give the thread the title its place shows; returns what to say when it has to wait ("" otherwise)."""
        try:
            retitled = await self.titles.retitle(thread, place_of(ticket).title(config, ticket))
        except discord.HTTPException:
            log.warning("Could not rename ticket %d", ticket.id, exc_info=True)
            return "(Discord refused to change the title.)"
        return retitled.note if retitled is not None else ""

    # -- urgency -------------------------------------------------------------------------------------------

    async def opening_assessed(self, thread: discord.Thread, ticket_id: int, text: str) -> None:
        """The opening message, after its answer was sent: the model if the server lets it (else the rules)."""
        mode = await self.desk.urgency_mode(thread.guild.id)
        verdict = await assess(text, mode=mode, llm=self.core.llm)
        await self._flagged(thread, ticket_id, verdict)

    async def message_assessed(self, thread: discord.Thread, ticket: Ticket, text: str) -> None:
        """A later message of the opener's: the rules only (instant, no model call)."""
        if await self.desk.urgency_mode(thread.guild.id) == UrgencyMode.OFF:
            return
        verdict = by_rules(text)
        if verdict.flag is not None and verdict.flag != ticket.flag:
            await self._flagged(thread, ticket.id, verdict)

    async def _flagged(self, thread: discord.Thread, ticket_id: int, verdict: Verdict | None) -> None:
        if verdict is None or verdict.flag is None:
            return
        ticket = await self.core.tickets.get(ticket_id)
        config = await self.core.tickets.config(thread.guild.id)
        if ticket is None or config is None or ticket.is_closed:
            return
        raised = await self.desk.priorities.flagged(
            ticket, verdict.flag, reason=f"{verdict.source}: {verdict.reason}", now=discord.utils.utcnow()
        )
        log.info("Ticket %d flagged %s by %s (%s)", ticket.id, verdict.flag, verdict.source, one_line(verdict.reason))
        if raised is None:
            return
        await place_of(raised).show_status(thread, config, raised)
        await self._retitle(thread, raised, config)
        why = "the model" if verdict.source == "model" else f"keywords {verdict.reason}"
        text = (
            f"⚠️ Ticket {thread.mention} looks **{verdict.flag.value}** ({why}): priority raised to "
            f"**{raised.priority.label}**. `/priority` there sets it by hand."
        )
        await notify_staff(thread, config, text, category=ticket.category)

    # -- notes ---------------------------------------------------------------------------------------------

    async def note(
        self, thread: discord.Thread, ticket: Ticket, config: GuildConfig, author: discord.Member, text: str
    ) -> str:
        """Store an internal note and copy it to the log channel; it is never posted in the ticket."""
        note = await self.desk.notes.add(
            ticket, author_id=author.id, author_name=author.display_name, text=text, now=discord.utils.utcnow()
        )
        logged = await self._note_to_log(thread, config, note)
        where = " and in the log channel" if logged else ""
        return f"📝 Note saved. Only staff see it: with /notes here{where}, and on the dashboard."

    async def notes_embed(self, ticket: Ticket) -> discord.Embed:
        notes = await self.desk.notes.of(ticket.id)
        title = without_bidi(f"📝 Staff notes: {ticket.subject}")[:256]
        embed = discord.Embed(title=title, colour=discord.Colour.gold())
        # The newest notes that fit the embed (4,096 characters; a note holds up to 1,000), oldest first.
        lines: list[str] = []
        room = 4096
        for n in reversed(notes[-15:]):
            line = (
                f"**{hide_mentions(discord.utils.escape_markdown(n.author_name))}** · "
                f"{discord.utils.format_dt(datetime.fromisoformat(n.created_at), 'R')}\n{n.content}"
            )
            if len(line) + 2 > room:
                break
            lines.insert(0, line)
            room -= len(line) + 2
        embed.description = ("\n\n".join(lines) or "No notes yet. `/note` adds one.")[:4096]
        embed.set_footer(text="Only staff see these: never the opener, never the assistant.")
        return embed

    async def _note_to_log(self, thread: discord.Thread, config: GuildConfig, note: Note) -> bool:
        channel = thread.guild.get_channel(config.log_channel_id or 0)
        if not isinstance(channel, discord.TextChannel):
            return False
        embed = discord.Embed(description=note.content[:4096], colour=discord.Colour.gold())
        embed.set_author(name=without_bidi(f"📝 Note by {note.author_name}")[:256])
        embed.add_field(name="Ticket", value=thread.mention)
        try:
            await channel.send(embed=embed, allowed_mentions=NO_PINGS)
        except discord.HTTPException:
            log.warning("Could not copy a note of ticket %d to the log channel", note.ticket_id, exc_info=True)
            return False
        return True

    async def _to_log(self, thread: discord.Thread, config: GuildConfig, text: str, member: discord.Member) -> None:
        """Ping one member of staff in the log channel (else in the ticket, which they are in)."""
        target: discord.abc.Messageable = thread
        channel = thread.guild.get_channel(config.log_channel_id or 0)
        if isinstance(channel, discord.TextChannel):
            target = channel
        with contextlib.suppress(discord.HTTPException):
            await target.send(text, allowed_mentions=ping_users(member))


async def _member(guild: discord.Guild, user_id: int) -> discord.Member | None:
    """The member, from the cache or (the bot has no members intent) from Discord; None if they left."""
    member = guild.get_member(user_id)
    if member is not None:
        return member
    try:
        return await guild.fetch_member(user_id)
    except discord.HTTPException:
        return None
