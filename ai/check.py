"""A second opinion when the model would not answer: does the best saved answer answer the message?

A small model says UNSURE to most messages whose best saved answer is right (measured, Qwen2.5 0.5B:
bench/answers.py). Asking it one yes/no question about one saved answer, with the reply held to a JSON
schema (`{"answers": true|false}`, grammar-constrained by the server), is an easier task than writing
an answer from notes. It is never a numbered choice: a 0.5B model answered "1" to every one.

Only asked about a near-confident best match (the pipeline decides, tickets/answering.py), and the
answer sent is the saved one, verbatim: the model only says yes or no.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from ai.errors import LLMError
from ai.types import ChatMessage, ChatModel, ChatShape

log = logging.getLogger(__name__)

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"answers": {"type": "boolean"}},
    "required": ["answers"],
}

SYSTEM = """\
You check saved answers of the support team of the Discord server "{server_name}". \
Reply only with JSON: {{"answers": true}} or {{"answers": false}}."""

QUESTION = """\
Saved question: {question}
Saved answer: {answer}

User's message:
{message}

Does the saved answer answer the user's message? Say false if the message asks something else, or \
about another product, app, game or service."""

_FLAG = re.compile(r'"answers"\s*:\s*(true|false)', re.IGNORECASE)


def check_messages(*, server_name: str, question: str, answer: str, message: str) -> list[ChatMessage]:
    flat = " ".join(message.split())[:1500]
    return [
        {"role": "system", "content": SYSTEM.format(server_name=server_name)},
        {"role": "user", "content": QUESTION.format(question=question.strip(), answer=answer.strip(), message=flat)},
    ]


def parse(text: str) -> bool | None:
    """The verdict in the model's JSON, or None when there is none."""
    try:
        data = json.loads(text)
    except ValueError:
        found = _FLAG.search(text)
        return found.group(1).lower() == "true" if found else None
    value = data.get("answers") if isinstance(data, dict) else None
    return value if isinstance(value, bool) else None


async def saved_answer_fits(llm: ChatModel, *, server_name: str, question: str, answer: str, message: str) -> bool:
    """True only when the model says the saved answer answers `message`; any failure counts as no."""
    try:
        result = await llm.chat(
            check_messages(server_name=server_name, question=question, answer=answer, message=message),
            shape=ChatShape(SCHEMA),
        )
    except LLMError as exc:
        log.info("Saved-answer check failed: %s", exc)
        return False
    verdict = parse(result.text)
    log.debug("Saved-answer check: %r -> %s", result.text[:80], verdict)
    return verdict is True
