"""The ticket feature on the Discord side, in the spirit of python-discord's help_channels:

- `_cog.py` receives events (messages in ticket posts, /close, /ticket_ai, buttons) and defers;
- `_lifecycle.py` (`TicketLifecycle`) is what happens to a ticket, one method per event;
- `_views.py` the panel, the ticket form and the Solved / Talk to staff buttons;
- `_sink.py` posts a streamed answer; `_posts.py` tags, staff pings, the closing embed and transcript;
- `_locks.py` the per-ticket locks; `_autoclose.py` the auto-close loop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.tickets._cog import TicketCog
from cogs.tickets._views import PanelView

__all__ = ["PanelView", "TicketCog", "setup"]

if TYPE_CHECKING:
    from bot import TicketBot


async def setup(bot: TicketBot) -> None:
    await bot.add_cog(TicketCog(bot))
