"""Builds a SimCord server with a ticket forum, a channel for private tickets, staff and users, and runs
/setup in it. `private=True` makes every category open private threads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import discord

from cogs.tickets._lifecycle import TicketLifecycle, lifecycle_of


@dataclass
class World:
    env: Any
    guild: Any
    forum: Any
    panel_channel: Any
    log_channel: Any
    staff_role: Any
    admin: Any
    staff: Any
    alice: Any
    bob: Any
    private_channel: Any = None

    @property
    def threads(self) -> list[Any]:
        """Every thread of the forum and of the private tickets' channel, oldest first."""
        private = self.private_channel.threads if self.private_channel is not None else []
        return sorted([*self.forum.threads, *private], key=lambda t: t.id)

    @property
    def bot(self) -> Any:
        return self.env.bot

    @property
    def core(self) -> Any:
        return self.env.bot.core

    @property
    def lifecycle(self) -> TicketLifecycle:
        return lifecycle_of(self.env.bot)

    def thread(self, thread_id: int) -> Any:
        return next(t for t in self.threads if t.id == thread_id)

    async def category(self, name: str, **options: Any) -> Any:
        """/category edit by the admin; returns the reply."""
        result = await self.admin.slash(self.panel_channel, "category edit", name=name, **options)
        assert "Updated" in _text(result), _text(result)
        return result

    async def open_ticket(self, member: Any, subject: str, description: str, *, category: str | None = None) -> Any:
        """Open a ticket through the panel and its modal; returns the created thread handle."""
        panel = self.panel_channel.last_message
        if category is None:
            shown = await member.click(panel, label="Open ticket")
        else:
            shown = await member.select(panel, [category], custom_id="ticket:panel:category")
        assert shown.modal is not None, "the panel should show a modal"
        result = await member.submit_modal(shown, {"subject": subject, "description": description})
        return result

    def bot_messages(self, thread: Any) -> list[discord.Message]:
        return [m for m in thread.history() if m.author.id == self.env.bot.user.id]


async def make_world(env: Any, *, with_log: bool = True, setup: bool = True, private: bool = False) -> World:
    guild = env.create_guild("Support Server")
    forum = guild.create_forum_channel("tickets")
    private_channel = guild.create_text_channel("private-tickets")
    panel_channel = guild.create_text_channel("help")
    log_channel = guild.create_text_channel("ticket-log")
    # No special permissions: being in the configured staff role is what makes someone staff.
    staff_role = guild.create_role("Support")
    admin_role = guild.create_role("Admin", permissions=discord.Permissions(manage_guild=True, manage_threads=True))
    admin = guild.add_member(env.create_user("admin"), roles=[admin_role])
    staff = guild.add_member(env.create_user("sam_staff"), roles=[staff_role])
    alice = guild.add_member(env.create_user("alice"))
    bob = guild.add_member(env.create_user("bob"))
    world = World(env, guild, forum, panel_channel, log_channel, staff_role, admin, staff, alice, bob, private_channel)
    if setup:
        options: dict[str, Any] = {"forum": forum, "staff_role": staff_role, "private_channel": private_channel}
        if with_log:
            options["log_channel"] = log_channel
        result = await admin.slash(panel_channel, "setup", **options)
        assert "set up" in _text(result), _text(result)
        if private:
            for name in ("billing", "technical", "general"):
                await world.category(name, mode="private_thread")
        result = await staff.slash(panel_channel, "ticket_panel")
        assert result.ephemeral
    return world


def _text(result: Any) -> str:
    parts = []
    if result.response is not None:
        parts.append(result.response.content)
    parts += [f.content for f in result.followups]
    return "\n".join(parts)


text_of = _text
