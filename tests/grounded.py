"""A small trained FAQ and model replies grounded in it: what the shipped answer checks (ANSWER_CHECKS on,
ai/guards.py) let reach a ticket.

With the checks on, the model is only asked when a trained note matches the message (no notes, no model:
the ticket goes to staff), and only a reply that starts with the ANSWER marker and takes its facts from
the notes is shown. A SimCord test that needs the model to answer a ticket therefore trains notes
(`train_faq`), asks about them (`REFUND_ASK`: on topic, but not close enough for the saved answer to be
sent directly) and scripts a reply built by `answer` (`train_faq` makes it the fake's unscripted reply).
`UNSURE` is the reply of a model that hands the ticket to staff.
"""

from __future__ import annotations

from typing import Any

from tests.sim import text_of

REFUND_Q = "How do I get a refund?"
REFUND_A = (
    "Unused store items can be refunded within 14 days: open Settings → Store → Purchase History, pick the "
    "item and press Request Refund. Console purchases are refunded by the console's own store."
)
PASSWORD_Q = "How do I reset my password?"
PASSWORD_A = "Open Settings → Account → Reset password, then follow the link we email you within the hour."

# A ticket about the refund note that the model answers (its confidence is below the direct bar).
REFUND_SUBJECT = "Skin purchase"
REFUND_ASK = "how do i get a refund for a skin i bought?"
# Follow-ups about the same note, also answered by the model.
REFUND_AGAIN = "hello?? how do i get a refund for that skin, what do I do"

UNSURE = "UNSURE"


def answer(text: str = REFUND_A) -> str:
    """The model's reply as the shipped prompt asks for it: the ANSWER marker, then `text` (the user
    sees `text` only). `text` must take its facts from a trained note, as `REFUND_A` does."""
    return f"ANSWER: {text}"


# The refund note's answer in other words of its own: a second, different grounded reply.
REFUND_A_SHORT = (
    "Open Settings → Store → Purchase History within 14 days, pick the unused store item and press Request Refund."
)


async def train(world: Any, question: str, answer_text: str) -> None:
    result = await world.staff.slash(world.panel_channel, "train", question=question, answer=answer_text)
    assert "Saved as entry" in text_of(result), text_of(result)


async def train_faq(world: Any, fake: Any = None) -> None:
    """Train the refund and password notes (two topics, so a message about one is a close match with a
    rival, as in a real FAQ); with `fake` (FakeOllama or FakeOpenAI), its unscripted replies answer from
    the refund note."""
    await train(world, REFUND_Q, REFUND_A)
    await train(world, PASSWORD_Q, PASSWORD_A)
    if fake is not None:
        fake.default_reply = answer()
