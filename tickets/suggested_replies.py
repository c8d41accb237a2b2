"""Saved answers offered to staff with a hand-off.

When the assistant hands a ticket to staff, the saved answers it looked at are often the right ones: on the
dev sets the best note of a message that still reaches staff is right 60–80 % of the time, too often wrong
to send unasked (README, "Answer quality") but one click away for a person who reads the ticket. The hand-off
notice lists them (the notes the model would see: above the score floor, not about another product), and a
press posts that saved answer in the ticket in the staff member's name. The user's question is then
proposed as another phrasing of the entry (pending approval, like a Solved press), so the next user who
words it that way can be answered directly: the memory learns from the tickets staff handle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ai.prompt import select_knowledge
from ai.split import append_note, neutralize_mentions, split_message
from ai.untrusted import without_bidi
from memory.models import Entry, Match
from tickets.answering import knowledge_item
from tickets.models import MessageRole, TicketMessage

# A button label holds 80 characters; the emoji and a space take 2.
LABEL_LIMIT = 78
# Longer user messages are not proposed as a phrasing: they hold more than the question (and often an
# order number or an e-mail address nobody should train on).
MAX_PHRASING = 300


@dataclass(frozen=True)
class SuggestedReply:
    entry_id: int
    question: str
    score: float | None

    @property
    def label(self) -> str:
        text = _one_line(self.question)
        return text if len(text) <= LABEL_LIMIT else text[: LABEL_LIMIT - 1].rstrip() + "…"


def suggested_replies(matches: Sequence[Match]) -> list[SuggestedReply]:
    """The saved answers to offer staff for a handed-off message: the notes the model would be shown."""
    items = select_knowledge([knowledge_item(m) for m in matches])
    return [SuggestedReply(item.id, item.query, item.score) for item in items]


def saved_reply_parts(entry: Entry, staff_name: str) -> list[str]:
    """The saved answer as posted in the ticket for a member of staff, in messages of at most 2000 characters."""
    note = f"-# 💾 Saved answer, sent by {neutralize_mentions(_one_line(staff_name))[:64]} of the support team."
    return split_message(append_note(neutralize_mentions(entry.response), note))


def phrasing_to_learn(messages: Sequence[TicketMessage]) -> str | None:
    """The user's latest message, if it is short enough to be a question worth learning."""
    for message in reversed(messages):
        if message.role is MessageRole.USER:
            text = " ".join(message.content.split())
            return text if 0 < len(text) <= MAX_PHRASING else None
    return None


def _one_line(text: str) -> str:
    return without_bidi(" ".join(text.split()))
