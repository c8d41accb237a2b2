"""Who may use what: staff-only commands as `app_commands` checks, so no command repeats the test.

"Staff" means members of the staff role chosen in /setup, or anyone with Manage Threads, Manage Server
or Administrator; a category's own staff role makes its members staff for that category's tickets only
(the rules: tickets/access.py). A refused check raises `NotStaff`, whose message cogs/errors.py sends as
a short private reply.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import discord
from discord import app_commands

from cogs._discord import bot_of, is_staff
from tickets.errors import UserError

T = TypeVar("T")


class NotStaff(app_commands.CheckFailure, UserError):
    """The command is for staff; the message says so in the command's own words."""


class NotSetUp(app_commands.CheckFailure, UserError):
    """The command needs /setup to have been run on this server."""


SETUP_FIRST = "Run /setup first to choose the ticket forum and staff role."


async def require_staff(interaction: discord.Interaction, refusal: str, *, needs_setup: bool = False) -> None:
    """Raise NotStaff(refusal) unless the user is staff on this server (NotSetUp first, for a command that
    needs the configuration, on a server without one: nobody can be staff by role there yet)."""
    config = await bot_of(interaction).core.tickets.config(interaction.guild_id or 0)
    if needs_setup and config is None:
        raise NotSetUp(SETUP_FIRST)
    if not is_staff(interaction.user, config):
        raise NotStaff(refusal)


def staff_for_category(refusal: str) -> Callable[[T], T]:
    """Decorator for a command with a `category` option: staff for that category (the server's default
    category when it is left out) may use it."""

    async def predicate(interaction: discord.Interaction) -> bool:
        config = await bot_of(interaction).core.tickets.config(interaction.guild_id or 0)
        if config is None:
            raise NotSetUp(SETUP_FIRST)
        named = getattr(interaction.namespace, "category", None)
        default = config.default_category
        category = named if isinstance(named, str) else (default.name if default else None)
        if not is_staff(interaction.user, config, category=category):
            raise NotStaff(refusal)
        return True

    return app_commands.check(predicate)


def ticket_staff_only(refusal: str) -> Callable[[T], T]:
    """Decorator for a command used inside a ticket: staff for that ticket's category may use it. Outside a
    ticket the check passes and the command itself says it only works in a ticket."""

    async def predicate(interaction: discord.Interaction) -> bool:
        core = bot_of(interaction).core
        config = await core.tickets.config(interaction.guild_id or 0)
        channel = interaction.channel
        ticket = await core.tickets.get(channel.id) if isinstance(channel, discord.Thread) else None
        category = ticket.category if ticket is not None else None
        if not is_staff(interaction.user, config, category=category):
            raise NotStaff(refusal)
        return True

    return app_commands.check(predicate)


def require_manage_server(interaction: discord.Interaction, refusal: str) -> None:
    """Raise NotStaff(refusal) unless the user may configure the server (Manage Server)."""
    user = interaction.user
    if not (isinstance(user, discord.Member) and user.guild_permissions.manage_guild):
        raise NotStaff(refusal)


def manage_server_only(refusal: str) -> Callable[[T], T]:
    """Decorator for commands that configure the server (/setup, /category, /settings): Manage Server."""

    async def predicate(interaction: discord.Interaction) -> bool:
        require_manage_server(interaction, refusal)
        return True

    return app_commands.check(predicate)


def staff_only(refusal: str, *, needs_setup: bool = False) -> Callable[[T], T]:
    """Decorator for a slash command or context menu callback that only staff may use."""

    async def predicate(interaction: discord.Interaction) -> bool:
        await require_staff(interaction, refusal, needs_setup=needs_setup)
        return True

    return app_commands.check(predicate)
