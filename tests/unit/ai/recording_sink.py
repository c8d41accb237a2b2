"""A MessageSink that keeps every text a user would have seen (sends and each edit), for delivery tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class RecordingSink:
    messages: list[str] = field(default_factory=list)  # what each message says now
    shown: list[str] = field(default_factory=list)  # every text shown, edits included, in order

    async def send(self, text: str) -> Any:
        self.messages.append(text)
        self.shown.append(text)
        return len(self.messages) - 1

    async def edit(self, handle: Any, text: str) -> None:
        self.messages[handle] = text
        self.shown.append(text)
