"""The ticket feature on the Discord side, in the spirit of python-discord's help_channels:

- `_cog.py` receives events (messages in tickets, /close, /ticket_ai, buttons) and defers;
  `_open_commands.py` the other ways of opening (message menu, /ticket_open);
- `_lifecycle.py` (`TicketLifecycle`) is what happens to a ticket, one method per event; it holds
  `_opening.py` (`TicketOpener`: the one opening path) and `_closing.py` (`TicketCloser`);
- `_places.py` where a ticket lives (`TicketPlace`: forum post or private thread);
- `_views.py` the panel, the ticket form and the Solved / Talk to staff buttons; `_panel.py` posts
  panels and keeps them in step with the categories;
- `_sink.py` posts a streamed answer; `_posts.py` staff pings, the closing embed and transcript;
- `_locks.py` the per-ticket locks; `_scheduler.py` the one loop of timed work (`_autoclose.py` auto-close,
  `_care.py` re-pings and reminders, `_close_requests.py`'s expiry of unanswered close requests).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.tickets._cog import TicketCog
from cogs.tickets._desk_admin import BlacklistGroup, OnCallCog
from cogs.tickets._desk_commands import DeskCog
from cogs.tickets._open_commands import OpeningCog
from cogs.tickets._panel import post_panel, refresh_panels
from cogs.tickets._views import PanelView

__all__ = ["DeskCog", "OpeningCog", "PanelView", "TicketCog", "post_panel", "refresh_panels", "setup"]

if TYPE_CHECKING:
    from bot import TicketBot


async def setup(bot: TicketBot) -> None:
    await bot.add_cog(TicketCog(bot))
    await bot.add_cog(OpeningCog(bot))
    # The staff desk (issue 10): claims, members, titles, priority, notes, close requests, reopening, blacklist.
    await bot.add_cog(DeskCog(bot))
    await bot.add_cog(OnCallCog(bot))
    bot.tree.add_command(BlacklistGroup(bot))
