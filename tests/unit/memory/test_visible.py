"""Text without a visible character is empty for the trained memory (issue 7, item 8, memory side):
refused by add/update/suggestions and imports, trimmed when stored, never colliding with "???"."""

from __future__ import annotations

import json

import pytest

from memory.io import import_bytes
from tests.sim import make_world, text_of

GUILD = 1
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
CONTROL = "\x07\x1b\x7f"
BLANKS = "\u3164\u2800\u00a0"


@pytest.mark.parametrize("invisible", [ZERO_WIDTH, CONTROL, BLANKS, f" {ZERO_WIDTH}\n{CONTROL} "])
async def test_invisible_questions_and_answers_are_refused(lexical_memory, invisible):
    with pytest.raises(ValueError, match="question is empty"):
        await lexical_memory.add(GUILD, invisible, "A real answer.")
    with pytest.raises(ValueError, match="answer is empty"):
        await lexical_memory.add(GUILD, "A real question?", invisible)
    entry = await lexical_memory.add(GUILD, "A real question?", "A real answer.")
    with pytest.raises(ValueError, match="question is empty"):
        await lexical_memory.update(GUILD, entry.id, query=invisible)
    with pytest.raises(ValueError, match="answer is empty"):
        await lexical_memory.update(GUILD, entry.id, response=invisible)
    with pytest.raises(ValueError, match="answer is empty"):
        await lexical_memory.suggest_qa(GUILD, "Another question?", invisible)
    assert await lexical_memory.get(GUILD, entry.id) == entry
    assert await lexical_memory.count(GUILD) == 1


async def test_the_message_says_why_text_that_looks_non_empty_is_empty(lexical_memory):
    with pytest.raises(ValueError, match="no visible characters"):
        await lexical_memory.add(GUILD, ZERO_WIDTH, "A real answer.")


async def test_invisible_characters_around_text_are_not_stored(lexical_memory):
    entry = await lexical_memory.add(
        GUILD, f"{ZERO_WIDTH}Where is my invoice?{CONTROL}", f"\u2060On the billing page.{ZERO_WIDTH}",
        alternates=[f"{ZERO_WIDTH}invoice location ", ZERO_WIDTH],
    )  # fmt: skip
    assert (entry.query, entry.response, entry.alternates) == (
        "Where is my invoice?", "On the billing page.", ["invoice location"]
    )  # fmt: skip
    updated = await lexical_memory.update(GUILD, entry.id, response=f"{ZERO_WIDTH}Billing → Invoices.\u200b")
    assert updated.response == "Billing → Invoices."


async def test_a_symbol_question_and_an_invisible_one_do_not_collide(lexical_memory):
    symbols = await lexical_memory.add(GUILD, "???", "Ask your question in words, please.")
    with pytest.raises(ValueError, match="question is empty"):
        await lexical_memory.add(GUILD, ZERO_WIDTH, "Something else.")
    assert await lexical_memory.get_by_query(GUILD, ZERO_WIDTH) is None
    assert (await lexical_memory.get_by_query(GUILD, "???")).id == symbols.id
    other = await lexical_memory.add(GUILD, "!!!", "Calm down.")
    assert other.id != symbols.id
    assert (await lexical_memory.get(GUILD, symbols.id)).response == "Ask your question in words, please."


async def test_import_refuses_invisible_rows_by_line(lexical_memory):
    rows = [
        {"query": "Where is my invoice?", "response": "On the billing page."},
        {"query": ZERO_WIDTH, "response": "An answer to nothing."},
        {"query": "Real question?", "response": CONTROL},
        {"query": "Opening hours?", "response": "9 to 5.", "alternates": [ZERO_WIDTH, " when are you open "]},
    ]
    data = "\n".join(json.dumps(row) for row in rows).encode()
    report = await import_bytes(lexical_memory, GUILD, data, "faq.jsonl")
    assert report.added == 2
    assert report.errors == [
        "line 2: question is empty: it has no visible characters",
        "line 3: answer is empty: it has no visible characters",
    ]
    assert (await lexical_memory.get_by_query(GUILD, "opening hours")).alternates == ["when are you open"]
    again = await import_bytes(lexical_memory, GUILD, data, "faq.jsonl")
    assert (again.added, again.updated, again.skipped) == (0, 0, 2)


async def test_train_refuses_an_invisible_question_and_keeps_the_symbol_one(simcord_env):
    world = await make_world(simcord_env)
    saved = await world.staff.slash(world.panel_channel, "train", question="???", answer="Ask in words, please.")
    assert "entry **#1**" in text_of(saved)
    refused = await world.staff.slash(world.panel_channel, "train", question=ZERO_WIDTH, answer="Overwritten?")
    assert refused.ephemeral and "question is empty" in text_of(refused), text_of(refused)
    blank_answer = await world.staff.slash(world.panel_channel, "train", question="Hello?", answer=CONTROL)
    assert "answer is empty" in text_of(blank_answer)
    assert await world.core.memory.count(world.guild.id) == 1
    assert (await world.core.memory.get(world.guild.id, 1)).response == "Ask in words, please."
    edited = await world.staff.slash(world.panel_channel, "memory edit", entry_id=1, answer=ZERO_WIDTH)
    assert "answer is empty" in text_of(edited)
    assert (await world.core.memory.get(world.guild.id, 1)).response == "Ask in words, please."
