"""Small Discord helpers shared by the cogs: who is staff, safe sends, tags, the reply sink."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, cast

import discord

from ai.delivery import TYPING_MARKER
from ai.split import append_note
from tickets.models import GuildConfig, Ticket, TicketStatus

if TYPE_CHECKING:
    from bot import TicketBot

log = logging.getLogger(__name__)

NO_PINGS = discord.AllowedMentions.none()


def is_staff(member: discord.abc.User, config: GuildConfig | None) -> bool:
    if not isinstance(member, discord.Member):
        return False
    perms = member.guild_permissions
    if perms.administrator or perms.manage_guild or perms.manage_threads:
        return True
    return config is not None and any(role.id == config.staff_role_id for role in member.roles)


def ping_users(*users: discord.abc.Snowflake) -> discord.AllowedMentions:
    return discord.AllowedMentions(everyone=False, users=list(users), roles=False, replied_user=False)


def ping_role(role_id: int) -> discord.AllowedMentions:
    return discord.AllowedMentions(everyone=False, users=False, roles=[discord.Object(role_id)], replied_user=False)


def tags_for(
    forum: discord.ForumChannel, config: GuildConfig, status: TicketStatus, category: str
) -> list[discord.ForumTag]:
    wanted = [config.status_tag(status), config.category_tag(category)]
    tags = [forum.get_tag(tag_id) for tag_id in wanted if tag_id]
    return [t for t in tags if t is not None]


async def set_status_tag(thread: discord.Thread, config: GuildConfig, ticket: Ticket, status: TicketStatus) -> None:
    """Tags carry the ticket state (renames are rate-limited to ~2 per 10 min; tags are not)."""
    forum = thread.parent
    if not isinstance(forum, discord.ForumChannel):
        return
    tags = tags_for(forum, config, status, ticket.category)
    try:
        await thread.edit(applied_tags=tags)
    except discord.HTTPException:
        log.warning("Could not update tags on ticket %d", ticket.id, exc_info=True)


def bot_of(interaction: discord.Interaction) -> TicketBot:
    # The only client that runs these cogs; a cast, because `bot` cannot be imported here at run time
    # (`python bot.py` runs it as __main__, so an isinstance check would see another class).
    return cast("TicketBot", interaction.client)


async def reply_error(interaction: discord.Interaction, text: str) -> None:
    """A short ephemeral message, whether or not the interaction was already acknowledged."""
    if interaction.response.is_done():
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_PINGS)
    else:
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_PINGS)


@contextlib.asynccontextmanager
async def typing_indicator(channel: discord.abc.Messageable) -> AsyncIterator[None]:
    """Show "typing…" while the body runs, if Discord lets us.

    The indicator is a courtesy: a refused one (a 500, a missing permission) must not cost the answer.
    discord.py already ignores failures of the repeats; only the first request can raise.
    """
    async with contextlib.AsyncExitStack() as stack:
        try:
            await stack.enter_async_context(channel.typing())
        except discord.HTTPException:
            log.warning("Could not show the typing indicator in channel %s", getattr(channel, "id", "?"), exc_info=True)
        yield


class ThreadSink:
    """Posts an answer into a ticket thread; the first message may replace a 'you're in line' notice."""

    def __init__(self, thread: discord.Thread) -> None:
        self.thread = thread
        self.queue_notice: discord.Message | None = None
        self.messages: list[discord.Message] = []
        self.last_text: str | None = None  # what the newest message shows now

    async def send(self, text: str) -> discord.Message:
        message: discord.Message | None = None
        if self.queue_notice is not None:
            notice, self.queue_notice = self.queue_notice, None
            try:
                message = await notice.edit(content=text, allowed_mentions=NO_PINGS)
            except discord.NotFound:  # someone deleted the notice: post the answer afresh
                message = None
        if message is None:
            message = await self.thread.send(text, allowed_mentions=NO_PINGS)
        self.messages.append(message)
        self.last_text = text
        return message

    async def edit(self, handle: discord.Message, text: str) -> None:
        await handle.edit(content=text, allowed_mentions=NO_PINGS)
        if self.messages and handle.id == self.messages[-1].id:
            self.last_text = text

    async def discard_notice(self) -> None:
        """Remove a waiting notice that no answer replaced (e.g. the ticket was closed meanwhile)."""
        if self.queue_notice is not None:
            notice, self.queue_notice = self.queue_notice, None
            with contextlib.suppress(discord.HTTPException):
                await notice.delete()

    async def abandon(self, note: str) -> None:
        """The answer was stopped: clean up what is on screen (queue notice, typing marker)."""
        await self.discard_notice()
        with contextlib.suppress(discord.HTTPException):
            if self.messages and self.last_text is not None:
                text = self.last_text.removesuffix(TYPING_MARKER)
                content = append_note(text, note)
                if len(content) > 2000:  # room for the note and a fence that closes the text's code block
                    content = append_note(text[: 2000 - len(note) - len("\n```\n")], note)
                await self.messages[-1].edit(content=content, allowed_mentions=NO_PINGS)

    async def queued(self, position: int) -> None:
        """Show or update the place in line for the model."""
        await self.waiting(f"⏳ The assistant is busy with other tickets — you're #{position} in line.")

    async def waiting(self, text: str) -> None:
        """Show or update a notice that the answer is coming; the answer replaces it.

        A notice Discord refuses must not cost the answer.
        """
        try:
            if self.queue_notice is None:
                self.queue_notice = await self.thread.send(text, allowed_mentions=NO_PINGS)
            else:
                self.queue_notice = await self.queue_notice.edit(content=text, allowed_mentions=NO_PINGS)
        except discord.NotFound:
            self.queue_notice = None
        except discord.HTTPException:
            log.warning("Could not show a waiting notice in ticket %d", self.thread.id, exc_info=True)
