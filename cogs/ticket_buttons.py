"""Registers the persistent panel and the per-ticket buttons so they work after a restart."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot import TicketBot
from cogs._buttons import register_persistent


async def setup(bot: TicketBot) -> None:
    register_persistent(bot)
