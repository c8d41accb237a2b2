"""How often the bot answers: per user in a ticket, and model requests per server.

Plain bookkeeping without Discord. A user who writes faster than the bot should answer does not
get one answer (and one model call) per message: the messages wait together and get one answer.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field

# Each message on its own is searched too (mixing them dilutes a match), but only the latest few.
MAX_SEARCH_TEXTS = 4


def loop_time() -> float:
    # The event loop's clock: messages arrive on it, and waits are measured on it.
    return asyncio.get_running_loop().time()


class RateWindow:
    """Events per key within the last `window` seconds; the limit is given per call (0 = none)."""

    def __init__(self, window: float = 60.0, clock: Callable[[], float] = loop_time) -> None:
        self.window = window
        self.clock = clock
        self._times: dict[Hashable, deque[float]] = {}

    def wait(self, key: Hashable, limit: int) -> float:
        """Seconds until one more event is allowed for `key` (0: now)."""
        if limit <= 0:
            return 0.0
        times = self._recent(key)
        if len(times) < limit:
            return 0.0
        return max(0.0, times[-limit] + self.window - self.clock())

    def add(self, key: Hashable) -> None:
        self._recent(key).append(self.clock())

    def try_add(self, key: Hashable, limit: int) -> bool:
        """Count one event for `key` if the limit allows it now."""
        if self.wait(key, limit) > 0:
            return False
        self.add(key)
        return True

    def _recent(self, key: Hashable) -> deque[float]:
        now = self.clock()
        times = self._times.setdefault(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        if len(self._times) > 1000:  # forget keys (closed tickets, quiet servers) with nothing recent
            for other in [k for k, t in self._times.items() if not t or t[-1] <= now - self.window]:
                if other != key:
                    del self._times[other]
        return times


@dataclass
class PendingQuestion:
    """One user's messages in one ticket that wait for a single answer."""

    messages: list[tuple[int, str]]  # (Discord message id, text)
    search_texts: list[str] = field(default_factory=list)

    @property
    def message_id(self) -> int:
        """The earliest message: the answer sees the conversation before it, and these messages."""
        return min(message_id for message_id, _ in self.messages)

    @property
    def question(self) -> str:
        return "\n".join(text for _, text in sorted(self.messages))

    @property
    def searches(self) -> tuple[str, ...]:
        if len(self.messages) == 1:
            return tuple(self.search_texts)
        return tuple([*self.search_texts, *(text for _, text in sorted(self.messages))][-MAX_SEARCH_TEXTS:])


class AnswerPacing:
    """Per ticket and user: at most `limit` answers a minute, one answer at a time for waiting messages.

    `join` a message: the first one that has to wait leads a `PendingQuestion`; messages that arrive
    while it waits are folded into it. `started` closes it to newcomers when its answer begins.
    """

    def __init__(self, window: float = 60.0, clock: Callable[[], float] = loop_time) -> None:
        self.answers = RateWindow(window, clock)
        self._waiting: dict[Hashable, PendingQuestion] = {}

    def join(
        self, key: Hashable, message_id: int, text: str, search_texts: Sequence[str] = ()
    ) -> PendingQuestion | None:
        """The new question to answer, or None when the message joined one that is already waiting."""
        waiting = self._waiting.get(key)
        if waiting is not None:
            waiting.messages.append((message_id, text))
            return None
        pending = self._waiting[key] = PendingQuestion([(message_id, text)], list(search_texts))
        return pending

    def delay(self, key: Hashable, limit: int) -> float:
        return self.answers.wait(key, limit)

    def started(self, key: Hashable, pending: PendingQuestion) -> None:
        """Its answer begins: later messages start a new question, and this answer counts."""
        self.forget(key, pending)
        self.answers.add(key)

    def forget(self, key: Hashable, pending: PendingQuestion) -> None:
        if self._waiting.get(key) is pending:
            del self._waiting[key]
