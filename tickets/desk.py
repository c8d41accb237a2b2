"""The staff desk: everything staff do to a ticket besides answering it (issue 10), as one object the
Discord side reaches through `core.desk`. Each part is a small service over `DeskStore`:

- `claims` (/claim, /unclaim, /transfer; the on-call rotation's assignments) and `oncall` (who opted in);
- `priorities` (/priority; raises by the urgency detection, tickets/urgency.py);
- `notes` (internal notes), `blacklist`, `members` (/add, /remove);
- `reopening` (/reopen) and `close_requests` (/close_request).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from db.database import Database
from tickets.blacklist import Blacklist
from tickets.claims import Claims, OnCall
from tickets.close_requests import CloseRequests
from tickets.desk_store import DeskStore
from tickets.notes import Notes
from tickets.priority import Priorities
from tickets.reopening import Reopening
from tickets.server_settings import ONCALL_ROTATION, URGENCY_DETECTION, ServerSettingsService
from tickets.service import TicketWatcher
from tickets.store import TicketStore


class Members:
    """Who staff added to a ticket and removed from it (private threads: access; forum posts: followers)."""

    def __init__(self, store: DeskStore) -> None:
        self.store = store

    async def added(self, ticket_id: int, user_id: int, *, by: int, now: datetime) -> None:
        await self.store.member_changed(ticket_id, user_id, added=True, by=by, now=now)

    async def removed(self, ticket_id: int, user_id: int, *, by: int, now: datetime) -> None:
        await self.store.member_changed(ticket_id, user_id, added=False, by=by, now=now)

    async def of(self, ticket_id: int) -> list[int]:
        return await self.store.members(ticket_id)


@dataclass
class StaffDesk:
    store: DeskStore
    settings: ServerSettingsService
    claims: Claims
    oncall: OnCall
    priorities: Priorities
    notes: Notes
    blacklist: Blacklist
    members: Members
    reopening: Reopening
    close_requests: CloseRequests

    @classmethod
    def build(
        cls, db: Database, tickets: TicketStore, settings: ServerSettingsService,
        *, watcher: TicketWatcher | None = None,
    ) -> StaffDesk:  # fmt: skip
        """`watcher`: told of each reopening, as `TicketService`'s is of every other event (whose turn it is)."""
        store = DeskStore(db, tickets)
        return cls(
            store=store, settings=settings, claims=Claims(store), oncall=OnCall(store),
            priorities=Priorities(store), notes=Notes(store), blacklist=Blacklist(store), members=Members(store),
            reopening=Reopening(store, settings, watcher=watcher), close_requests=CloseRequests(store, settings),
        )  # fmt: skip

    async def rotation_on(self, guild_id: int) -> bool:
        return (await self.settings.of(guild_id)).get(ONCALL_ROTATION)

    async def urgency_mode(self, guild_id: int) -> str:
        """auto, rules or off (the server's urgency_detection)."""
        return (await self.settings.of(guild_id)).get(URGENCY_DETECTION)

    async def rename(self, ticket_id: int, subject: str, now: datetime) -> None:
        """The ticket's subject as /rename set it (the thread's title follows it)."""
        await self.store.update(ticket_id, now, subject=subject)
