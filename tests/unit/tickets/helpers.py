"""Records for unit tests of the ticket domain."""

from __future__ import annotations

from typing import Any

from tickets.models import Ticket, TicketStatus


def a_ticket(**fields: Any) -> Ticket:
    values: dict[str, Any] = {
        "id": 1, "guild_id": 1, "opener_id": 5, "category": "general", "subject": "Printer",
        "status": TicketStatus.OPEN, "ai_paused": False, "staff_pinged": False, "created_at": "x", "updated_at": "x",
        "last_activity_at": "x", "resolved_at": None, "idle_warned_at": None, "closed_at": None, "closed_by": None,
        "close_reason": None, "summary": None,
    }  # fmt: skip
    return Ticket(**{**values, **fields})
