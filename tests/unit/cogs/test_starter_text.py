"""The starter message and the mention scrubbing of private tickets (pure functions of cogs/tickets/)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

from cogs.tickets._opening import QuotedMessage, TicketRequest, starter_text
from cogs.tickets._places import PRIVATE_THREAD, hide_mentions
from tickets.models import FormAnswer


def request(**fields: Any) -> TicketRequest:
    values: dict[str, Any] = {
        "guild": None, "opener": SimpleNamespace(mention="<@5>", id=5), "category": "general", "subject": "Printer",
        "description": "It prints blank pages.",
    }  # fmt: skip
    return TicketRequest(**cast(Any, {**values, **fields}))


def test_one_question_reads_as_it_always_did() -> None:
    text = starter_text(request(answers=(FormAnswer("Describe the problem", "It prints blank pages."),)), "General")
    assert text == "🎫 <@5> opened a **General** ticket.\n\n>>> It prints blank pages."


def test_several_answers_share_discords_2000_characters() -> None:
    answers = tuple(FormAnswer(f"Question {i}", f"line one\n{'x' * 1500}") for i in range(4))
    text = starter_text(request(answers=answers, description=answers[0].answer), "General")
    assert len(text) <= 2000
    assert all(f"**Question {i}**\n> line one\n> x" in text for i in range(4))


def test_a_quote_names_its_author_as_text() -> None:
    quote = QuotedMessage("bob_*", 42, "https://discord.com/channels/1/42/7", "hi <@9>\nthere")
    text = starter_text(request(quote=quote, description=""), "General")
    assert "**bob\\_\\***" in text and "<#42>" in text and "> hi <@9>\n> there" in text
    assert ">>>" not in text, "no empty description under a quote"


def test_private_threads_break_every_mention_but_the_openers() -> None:
    assert hide_mentions("<@1> <@!2> <@&3> <#4> @everyone") == "‹@1> ‹@!2> ‹@&3> <#4> @everyone"
    assert PRIVATE_THREAD.scrub_except("<@5> asks <@6> and <@5>", 5) == "<@5> asks ‹@6> and <@5>"
    assert len(PRIVATE_THREAD.scrub("<@123456789012345678>")) == len("<@123456789012345678>")
