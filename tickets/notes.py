"""Internal notes: what staff write about a ticket for each other. Stored apart from the ticket's messages,
so they never reach the opener (nothing posts them in the ticket), the model (prompts are built from the
messages) or the transcripts the opener may see; staff read them with /notes, in the log channel and on the
dashboard."""

from __future__ import annotations

from datetime import datetime

from memory.text import visible_text
from tickets.desk_models import Note
from tickets.desk_store import DeskStore
from tickets.errors import InvalidInput
from tickets.models import Ticket

NOTE_MAX = 1000


class Notes:
    def __init__(self, store: DeskStore) -> None:
        self.store = store

    async def add(self, ticket: Ticket, *, author_id: int, author_name: str, text: str, now: datetime) -> Note:
        content = visible_text(text)
        if not content:
            raise InvalidInput("The note is empty.")
        if len(content) > NOTE_MAX:
            raise InvalidInput(f"A note can have at most {NOTE_MAX} characters.")
        return await self.store.add_note(ticket, author_id=author_id, author_name=author_name, content=content, now=now)

    async def of(self, ticket_id: int) -> list[Note]:
        return await self.store.notes(ticket_id)
