"""Members staff have barred from opening tickets (/blacklist). Checked on the one opening path
(cogs/tickets/_opening.py), so no way of opening gets around it: the panel, a post made directly in the
forum, the message menu, /reopen by the opener, and /ticket_open by staff on their behalf (staff remove the
entry first). Their open tickets stay open; the reason is for staff and is not shown to the member."""

from __future__ import annotations

from datetime import datetime

from memory.text import visible_text
from tickets.desk_models import BlacklistEntry
from tickets.desk_store import DeskStore
from tickets.errors import ActionRefused, InvalidInput, TicketOpenError

REASON_MAX = 300
REFUSAL = (
    "You can't open tickets on this server: staff have blocked you from opening them. "
    "If you think this is a mistake, contact a moderator."
)


class Blacklisted(TicketOpenError):
    """The member is on the server's blacklist."""


class Blacklist:
    def __init__(self, store: DeskStore) -> None:
        self.store = store

    async def add(self, guild_id: int, user_id: int, *, reason: str, by: int, now: datetime) -> bool:
        """Bar a member (again, with a new reason); True when they were not on the list."""
        reason = visible_text(reason)
        if len(reason) > REASON_MAX:
            raise InvalidInput(f"The reason can have at most {REASON_MAX} characters.")
        new = await self.store.blacklist_entry(guild_id, user_id) is None
        await self.store.blacklist_add(guild_id, user_id, reason=reason, by=by, now=now)
        return new

    async def remove(self, guild_id: int, user_id: int) -> None:
        if not await self.store.blacklist_remove(guild_id, user_id):
            raise ActionRefused(f"<@{user_id}> is not on the blacklist.")

    async def entries(self, guild_id: int) -> list[BlacklistEntry]:
        return await self.store.blacklist(guild_id)

    async def entry(self, guild_id: int, user_id: int) -> BlacklistEntry | None:
        return await self.store.blacklist_entry(guild_id, user_id)

    async def check(self, guild_id: int, user_id: int, *, for_staff: bool = False) -> None:
        """Raise Blacklisted when `user_id` may not have a ticket (`for_staff`: staff asked on their behalf)."""
        if await self.store.blacklist_entry(guild_id, user_id) is None:
            return
        if for_staff:
            raise Blacklisted(f"<@{user_id}> is on the blacklist. Remove them with /blacklist remove first.")
        raise Blacklisted(REFUSAL)
