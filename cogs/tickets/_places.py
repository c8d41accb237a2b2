"""Where a ticket lives in Discord, behind one interface: a forum post or a private thread.

Every lifecycle step asks the ticket's place (`place_of(ticket)`, or `place_for(mode)` before the
ticket exists) instead of testing the mode itself:

- `create` the thread with its starter message (the opener, and whoever else is given, added);
- `show_status`: a forum post wears tags; a private thread has none, so its starter message carries a
  card (an embed) that is edited. Renames are rate limited (~2 per 10 minutes), so state never goes in
  the title; `rename` is for rare changes;
- `close` (archive and lock) and `reopen`;
- `add_member` / `remove_member`: in a private thread that grants or takes away access; a forum post is
  public, so there it only (un)follows the thread for the member;
- `scrub`: text the bot posts there. In a private thread a mention *adds* the mentioned person
  (Discord), so every user mention the bot did not mean is broken.

Private threads: created with `invitable=False` (the opener cannot pull others in). Staff see them
through Manage Threads on the channel, which /setup and /category give their roles (an overwrite);
staff who open a ticket for someone are added to it.
"""

from __future__ import annotations

import contextlib
import logging
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar, Literal

import discord

from ai.untrusted import without_bidi
from cogs._discord import NO_PINGS, ping_users
from tickets.desk_models import CLAIMED_TAG, Priority, priority_tag
from tickets.errors import CloseError, TicketOpenError
from tickets.models import STATUS_TAG_NAMES, GuildConfig, Ticket, TicketMode, TicketStatus
from tickets.priority import title_for

log = logging.getLogger(__name__)

# Discord's default (24 h) would archive a quiet ticket before our idle warning at 48 h.
ARCHIVE_AFTER_MINUTES: Literal[10080] = 10080

STATUS_EMOJI: dict[TicketStatus, str] = {
    TicketStatus.OPEN: "🟢",
    TicketStatus.ANSWERED: "💬",
    TicketStatus.WAITING_STAFF: "🙋",
    TicketStatus.RESOLVED: "✅",
    TicketStatus.CLOSED: "🔒",
}
_MENTION = re.compile(r"<@[!&]?\d+>")


def hide_mentions(text: str) -> str:
    """`<@123>` → `‹@123>` (users and roles): shown as text, never a mention, nor, in a private thread,
    an invitation. Same length, so text already split to Discord's 2000 characters still fits."""
    return _MENTION.sub(lambda m: "‹" + m.group(0)[1:], text)


def tags_for(
    forum: discord.ForumChannel, config: GuildConfig, status: TicketStatus, category: str, ticket: Ticket | None = None
) -> list[discord.ForumTag]:
    """The status and category tags, and (of a recorded ticket) its priority and claimed tags where the forum
    has them: at most 4 of Discord's 5 per post."""
    wanted = [config.status_tag(status), config.category_tag(category)]
    if ticket is not None:
        wanted += [config.tag_ids.get(priority_tag(ticket.priority))]
        wanted += [config.tag_ids.get(CLAIMED_TAG) if ticket.claimed_by is not None else None]
    tags = [forum.get_tag(tag_id) for tag_id in wanted if tag_id]
    return [t for t in tags if t is not None]


def card(
    config: GuildConfig, *, subject: str, category: str, status: TicketStatus, ticket: Ticket | None = None
) -> discord.Embed:
    """The state of a private ticket, shown (and edited) in its starter message: status, category, and (of a
    recorded ticket) its priority and who claimed it. Never the urgency flag: the opener reads the card."""
    found = config.category(category)
    embed = discord.Embed(title=without_bidi(subject)[:256], colour=discord.Colour.blurple())
    embed.add_field(name="Status", value=f"{STATUS_EMOJI[status]} {STATUS_TAG_NAMES[status]}", inline=True)
    embed.add_field(name="Category", value=found.label if found else category, inline=True)
    if ticket is not None and ticket.priority is not Priority.NORMAL:
        embed.add_field(name="Priority", value=f"{ticket.priority.emoji} {ticket.priority.label}", inline=True)
    if ticket is not None and ticket.claimed_by is not None:
        # A member of the thread (claiming adds them); in an embed a mention neither pings nor invites.
        embed.add_field(name="Claimed by", value=f"<@{ticket.claimed_by}>", inline=True)
    embed.set_footer(text="Private ticket: only its opener, the people added to it and staff can see it.")
    return embed


def ticket_card(ticket: Ticket, config: GuildConfig, status: TicketStatus | None = None) -> discord.Embed:
    """`card` of a recorded ticket (`status`: what to show, default the ticket's)."""
    return card(config, subject=ticket.subject, category=ticket.category, status=status or ticket.status, ticket=ticket)


@dataclass(frozen=True)
class NewPlace:
    """What `TicketPlace.create` made: the thread and the id of its starter message."""

    thread: discord.Thread
    starter_message_id: int


class TicketPlace(ABC):
    mode: ClassVar[TicketMode]
    noun: ClassVar[str]  # what users call it: "post", "thread"

    @abstractmethod
    async def create(
        self, guild: discord.Guild, config: GuildConfig, *, subject: str, category: str, starter: str,
        opener: discord.Member, members: tuple[discord.Member, ...] = (),
    ) -> NewPlace:  # fmt: skip
        """Create the ticket's thread, titled `subject`, with `starter` as its first message (pinging only
        the opener); the opener and `members` are added to it.

        Raises TicketOpenError with a message for the user; nothing is left behind when it does.
        """

    @abstractmethod
    async def show_status(
        self, thread: discord.Thread, config: GuildConfig, ticket: Ticket, status: TicketStatus | None = None
    ) -> None:
        """Show the ticket's state (`status`, default: the ticket's). Best effort: failures are logged."""

    @abstractmethod
    async def close(self, thread: discord.Thread, config: GuildConfig, ticket: Ticket) -> None:
        """Archive and lock, showing the closed state. Raises discord.HTTPException when Discord refuses."""

    @abstractmethod
    async def reopen(self, thread: discord.Thread, config: GuildConfig, ticket: Ticket) -> None:
        """Unarchive and unlock, showing `ticket`'s state. Raises discord.HTTPException when Discord refuses."""

    async def add_member(self, thread: discord.Thread, member: discord.abc.Snowflake) -> None:
        """Let `member` into the ticket (a private thread) or make them follow it (a forum post)."""
        await thread.add_user(member)

    async def remove_member(self, thread: discord.Thread, member: discord.abc.Snowflake) -> None:
        """Take `member` out of the ticket; in a forum post they can still read it (it is public)."""
        await thread.remove_user(member)

    @property
    def is_private(self) -> bool:
        return self.mode is TicketMode.PRIVATE_THREAD

    def scrub(self, text: str) -> str:
        """Text the bot posts in such a ticket (answers, quotes of user text)."""
        return text

    def close_refused(self, exc: discord.HTTPException) -> CloseError:
        """What the user is told when Discord refuses to close a ticket here."""
        if isinstance(exc, discord.Forbidden):
            return CloseError(f"I don't have permission to archive and lock this {self.noun} (Manage Threads).")
        return CloseError(f"Discord refused to close this {self.noun} right now. Please try again.")

    async def rename(self, thread: discord.Thread, title: str) -> None:
        """A new title: rate limited by Discord (~2 per 10 minutes per thread), so only for rare changes."""
        await thread.edit(name=without_bidi(title)[:100])

    def title(self, config: GuildConfig, ticket: Ticket) -> str:
        """The thread's title for `ticket`: its subject, with its priority where no tag shows it."""
        return title_for(ticket.subject, ticket.priority)


class ForumPlace(TicketPlace):
    mode = TicketMode.FORUM
    noun = "post"

    async def create(
        self, guild: discord.Guild, config: GuildConfig, *, subject: str, category: str, starter: str,
        opener: discord.Member, members: tuple[discord.Member, ...] = (),
    ) -> NewPlace:  # fmt: skip
        forum = guild.get_channel(config.forum_id)
        if not isinstance(forum, discord.ForumChannel):
            raise TicketOpenError("The ticket forum is gone. Ask an admin to run /setup again.")
        try:
            created = await forum.create_thread(
                name=without_bidi(subject)[:100],
                content=starter[:2000],
                applied_tags=tags_for(forum, config, TicketStatus.OPEN, category),
                allowed_mentions=ping_users(opener),
                auto_archive_duration=ARCHIVE_AFTER_MINUTES,
            )
        except discord.Forbidden as exc:
            log.warning("Missing permissions creating a ticket in %s: %s", forum.id, exc)
            raise TicketOpenError(
                f"I don't have permission to create posts in {forum.mention}. "
                "An admin can run /setup again to see which permissions are missing."
            ) from exc
        except discord.HTTPException as exc:
            log.exception("Discord refused to create a ticket in %s", forum.id)
            raise TicketOpenError("Discord refused to create the ticket right now. Please try again.") from exc
        for member in members:  # they follow the post (it is public anyway)
            with contextlib.suppress(discord.HTTPException):
                await created.thread.add_user(member)
        return NewPlace(created.thread, created.thread.id)  # a forum post's starter has the thread's id

    def title(self, config: GuildConfig, ticket: Ticket) -> str:
        """A forum post shows its priority as a tag; in the title only when the forum has no tag for it."""
        if config.tag_ids.get(priority_tag(ticket.priority)):
            return ticket.subject[:100]
        return title_for(ticket.subject, ticket.priority)

    async def adopt(self, post: discord.Thread, config: GuildConfig, category: str) -> None:
        """A post made directly in the forum gets what a panel post is created with: tags, archive duration."""
        forum = post.parent
        if isinstance(forum, discord.ForumChannel):
            with contextlib.suppress(discord.HTTPException):
                await post.edit(
                    applied_tags=tags_for(forum, config, TicketStatus.OPEN, category),
                    auto_archive_duration=ARCHIVE_AFTER_MINUTES,
                )

    async def show_status(
        self, thread: discord.Thread, config: GuildConfig, ticket: Ticket, status: TicketStatus | None = None
    ) -> None:
        """Tags carry a forum ticket's state: renames are rate-limited to ~2 per 10 min, tags are not."""
        forum = thread.parent
        if not isinstance(forum, discord.ForumChannel):
            return
        try:
            await thread.edit(applied_tags=tags_for(forum, config, status or ticket.status, ticket.category, ticket))
        except discord.HTTPException:
            log.warning("Could not update tags on ticket %d", ticket.id, exc_info=True)

    async def close(self, thread: discord.Thread, config: GuildConfig, ticket: Ticket) -> None:
        forum = thread.parent if isinstance(thread.parent, discord.ForumChannel) else None
        tags = tags_for(forum, config, TicketStatus.CLOSED, ticket.category, ticket) if forum is not None else []
        await thread.edit(archived=True, locked=True, applied_tags=tags)

    async def reopen(self, thread: discord.Thread, config: GuildConfig, ticket: Ticket) -> None:
        forum = thread.parent if isinstance(thread.parent, discord.ForumChannel) else None
        tags = tags_for(forum, config, ticket.status, ticket.category, ticket) if forum is not None else []
        await thread.edit(archived=False, locked=False, applied_tags=tags)


class PrivateThreadPlace(TicketPlace):
    mode = TicketMode.PRIVATE_THREAD
    noun = "thread"

    async def create(
        self, guild: discord.Guild, config: GuildConfig, *, subject: str, category: str, starter: str,
        opener: discord.Member, members: tuple[discord.Member, ...] = (),
    ) -> NewPlace:  # fmt: skip
        channel = guild.get_channel(config.private_channel_id or 0)
        if not isinstance(channel, discord.TextChannel):
            raise TicketOpenError("The channel for private tickets is gone. Ask an admin to run /setup again.")
        try:
            thread = await channel.create_thread(
                name=without_bidi(subject)[:100], type=discord.ChannelType.private_thread, invitable=False,
                auto_archive_duration=ARCHIVE_AFTER_MINUTES,
            )  # fmt: skip
        except discord.Forbidden as exc:
            log.warning("Missing permissions creating a private ticket in %s: %s", channel.id, exc)
            raise TicketOpenError(
                f"I don't have permission to create private threads in {channel.mention}. "
                "An admin can run /setup again to see which permissions are missing."
            ) from exc
        except discord.HTTPException as exc:
            log.exception("Discord refused to create a private ticket in %s", channel.id)
            raise TicketOpenError("Discord refused to create the ticket right now. Please try again.") from exc
        try:
            # Added explicitly (not by the mention below): being added never depends on how a mention is read.
            for member in (opener, *members):
                await thread.add_user(member)
            starter_message = await thread.send(
                self.scrub_except(starter, opener.id)[:2000],
                embed=card(config, subject=subject, category=category, status=TicketStatus.OPEN),
                allowed_mentions=ping_users(opener),
            )
        except discord.HTTPException as exc:
            log.exception("Setting up private ticket thread %d failed; deleting it", thread.id)
            with contextlib.suppress(discord.HTTPException):
                await thread.delete()
            raise TicketOpenError("Discord refused to set up the ticket right now. Please try again.") from exc
        return NewPlace(thread, starter_message.id)

    async def show_status(
        self, thread: discord.Thread, config: GuildConfig, ticket: Ticket, status: TicketStatus | None = None
    ) -> None:
        """Edit the card in the starter message (a private thread has no tags)."""
        if ticket.starter_message_id is None:
            return
        try:
            await thread.get_partial_message(ticket.starter_message_id).edit(
                embed=ticket_card(ticket, config, status), allowed_mentions=NO_PINGS
            )
        except discord.HTTPException:
            log.warning("Could not update the card of ticket %d", ticket.id, exc_info=True)

    async def close(self, thread: discord.Thread, config: GuildConfig, ticket: Ticket) -> None:
        # The card first: an archived thread's messages cannot be edited.
        await self.show_status(thread, config, ticket, TicketStatus.CLOSED)
        try:
            await thread.edit(archived=True, locked=True)
        except discord.HTTPException:
            await self.show_status(thread, config, ticket)  # still open: the card must not say closed
            raise

    async def reopen(self, thread: discord.Thread, config: GuildConfig, ticket: Ticket) -> None:
        await thread.edit(archived=False, locked=False)
        await self.show_status(thread, config, ticket)

    def scrub(self, text: str) -> str:
        return hide_mentions(text)

    def scrub_except(self, text: str, user_id: int) -> str:
        """`scrub`, keeping the mentions of `user_id` (a member of the thread, e.g. its opener)."""
        keep = f"<@{user_id}>"
        return keep.join(hide_mentions(part) for part in text.split(keep))


FORUM = ForumPlace()
PRIVATE_THREAD = PrivateThreadPlace()
_PLACES: dict[TicketMode, TicketPlace] = {FORUM.mode: FORUM, PRIVATE_THREAD.mode: PRIVATE_THREAD}


def place_for(mode: TicketMode) -> TicketPlace:
    return _PLACES[mode]


def place_of(ticket: Ticket) -> TicketPlace:
    return _PLACES[ticket.mode]


def place_of_thread(thread: discord.Thread) -> TicketPlace:
    """The place a thread is, from what Discord says it is (when the ticket has not been read)."""
    return PRIVATE_THREAD if thread.type is discord.ChannelType.private_thread else FORUM
