"""Per-ticket and per-opener locks shared by everything that changes a ticket from Discord.

One lock per ticket serialises answering, closing and the Solved / Talk to staff buttons, so
none of them acts on a copy of the ticket that another one has changed meanwhile. A lock lives
as long as someone holds or waits for it (weak values), so closed tickets leave nothing behind.
"""

from __future__ import annotations

import asyncio
import weakref

_ticket_locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()
_open_locks: weakref.WeakValueDictionary[tuple[int, int], asyncio.Lock] = weakref.WeakValueDictionary()


def ticket_lock(ticket_id: int) -> asyncio.Lock:
    """The lock of one ticket: hold it while reading the ticket and acting on what was read."""
    return _get(_ticket_locks, ticket_id)


def open_lock(guild_id: int, user_id: int) -> asyncio.Lock:
    """The lock of one member opening tickets in one guild (limits and cooldown are per member)."""
    return _get(_open_locks, (guild_id, user_id))


def _get(locks: weakref.WeakValueDictionary, key: object) -> asyncio.Lock:
    lock = locks.get(key)
    if lock is None:
        lock = locks[key] = asyncio.Lock()
    return lock
