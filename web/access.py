"""Who may see what, decided on every request: staff of a server see all of it, an opener sees only their
own tickets there, and anything else answers 404 (no hint that it exists).

Staff status is asked of a `Directory` each time (the bot answers from Discord: the stored staff role,
Manage Threads / Manage Server / Administrator), so removing someone's role takes effect at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from web.auth import Session


class Directory(Protocol):
    """What the dashboard needs to know about Discord: cogs/dashboard.py answers from the bot's cache,
    app/web_process.py (the dashboard as its own process) over REST."""

    def guild_name(self, guild_id: int) -> str | None:
        """The server's name, or None when the bot is not in it."""

    def guild_ids(self) -> list[int]:
        """Servers the bot is in."""

    async def is_staff(self, guild_id: int, user_id: int) -> bool:
        """Whether the user is staff there now (a member no longer there is not)."""


@dataclass(frozen=True)
class Viewer:
    """One request's right to one server's data."""

    session: Session
    guild_id: int
    guild_name: str
    staff: bool

    @property
    def user_id(self) -> int:
        return self.session.user_id

    @property
    def only_opener_id(self) -> int | None:
        """A non-staff viewer's own id: every ticket query is narrowed to their tickets."""
        return None if self.staff else self.session.user_id

    def may_see_ticket(self, opener_id: int) -> bool:
        return self.staff or opener_id == self.session.user_id
