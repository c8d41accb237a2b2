"""Errors whose message is meant for the user who caused them.

Everything that refuses a user's action with a reason raises a `UserError` subclass; the Discord side
shows its text as a short private reply (cogs/errors.py) and logs no traceback. Anything else is a
bug: logged with its traceback, and the user gets a generic apology.

    UserError
    ├── InvalidInput        a value the user typed is not acceptable (empty, too long, …)
    ├── TicketOpenError     a ticket could not be opened (limit, cooldown, forum gone, Discord refused)
    ├── ActionRefused       a button press or command has nothing to act on (closed ticket, stale buttons)
    └── CloseError          a ticket could not be closed (missing permission, Discord refused)
        └── TicketAlreadyClosed
"""

from __future__ import annotations


class UserError(Exception):
    """A refusal with a message for the user (`str(error)`)."""


class InvalidInput(UserError):
    """Something the user entered cannot be used as it is."""


class TicketOpenError(UserError):
    """A user-facing reason a ticket could not be created."""


class ActionRefused(UserError):
    """A user-facing reason an action was not carried out (e.g. a Solved press on a stale answer)."""


class CloseError(UserError):
    """A user-facing reason the ticket could not be closed."""


class TicketAlreadyClosed(CloseError):
    """Someone else closed the ticket first (e.g. /close and the auto-close sweep at once)."""

    def __init__(self) -> None:
        super().__init__("This ticket is already closed.")
