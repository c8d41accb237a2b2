"""One place that turns errors into what the user is told: a `tickets.errors.UserError` is a refusal and
its text is the reply; anything else is a bug, logged with its traceback, and the user hears a short
generic apology. Every reply is private."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from cogs._discord import reply_error
from tickets.errors import UserError

if TYPE_CHECKING:
    from bot import TicketBot

log = logging.getLogger(__name__)


def user_message(error: app_commands.AppCommandError) -> str | None:
    """The reply for an expected error, or None for a bug that must be logged."""
    original = getattr(error, "original", None)
    for refusal in (error, original):
        if isinstance(refusal, UserError):
            return str(refusal)
    if isinstance(error, app_commands.NoPrivateMessage):
        return "This command only works in a server."
    if isinstance(error, app_commands.MissingPermissions):
        return f"You need {', '.join(error.missing_permissions)} to do that."
    if isinstance(error, app_commands.BotMissingPermissions):
        return f"I need {', '.join(error.missing_permissions)} here to do that."
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down — try again in {error.retry_after:.0f} s."
    if isinstance(error, app_commands.TransformerError):
        return str(error)
    if isinstance(error, app_commands.CheckFailure):
        return "You can't use this command here."
    return _forbidden_message(original)


GENERIC_ERROR = "Something went wrong on my side. It has been logged; please try again."


def _forbidden_message(error: BaseException | None) -> str | None:
    if isinstance(error, discord.Forbidden):
        return "Discord refused: I'm missing a permission for that. An admin can run /setup to check."
    return None


async def refuse(interaction: discord.Interaction, error: UserError) -> None:
    """Tell the user why their action was refused: a short private reply, nothing logged."""
    await _tell(interaction, str(error))


async def on_ui_error(_owner: Any, interaction: discord.Interaction, error: Exception, item: Any = None, /) -> None:
    """`on_error` for modals, views and buttons: log the traceback, tell the user briefly.

    Usable as a method as it is: `on_error = on_ui_error` in a Modal or View class body.
    """
    if isinstance(error, UserError):
        await refuse(interaction, error)
        return
    where = type(item).__name__ if item is not None else type(_owner).__name__
    log.error("Interaction with %s failed", where, exc_info=error)
    await _tell(interaction, _forbidden_message(error) or GENERIC_ERROR)


async def _tell(interaction: discord.Interaction, text: str) -> None:
    try:
        await reply_error(interaction, text)
    except discord.HTTPException:
        log.warning("Could not tell the user about an error", exc_info=True)


class ErrorHandler(commands.Cog):
    def __init__(self, bot: TicketBot) -> None:
        self.bot = bot
        bot.tree.error(self.on_app_command_error)

    async def on_app_command_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        text = user_message(error)
        if text is None:
            name = interaction.command.qualified_name if interaction.command else "?"
            log.error("Command /%s failed", name, exc_info=error)
            text = GENERIC_ERROR
        await _tell(interaction, text)


async def setup(bot: TicketBot) -> None:
    await bot.add_cog(ErrorHandler(bot))


class ReportsErrors:
    """Mixin for a `discord.ui.DynamicItem` (put it first): its `callback` runs `_pressed` and reports what goes
    wrong, since discord.py swallows the errors of dynamic items silently: a UserError as a short refusal, anything
    else logged with its traceback and told briefly (`on_ui_error`)."""

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            await self._pressed(interaction)
        except Exception as exc:
            await on_ui_error(self, interaction, exc, self)

    async def _pressed(self, interaction: discord.Interaction) -> None:
        raise NotImplementedError
