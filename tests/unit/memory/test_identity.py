"""Which trained question is which: numbers, codes and versions tell questions apart (issue 7, item 2),
in /train, imports, suggestion approval and alternates, and in databases written before the fix."""

from __future__ import annotations

import json

import aiosqlite
import pytest

from app.schema import SCHEMAS, open_app_database
from db.migrations import split_sql
from memory.io import import_bytes
from memory.store import TrainedMemory
from memory.text import identity_key, normalise
from tests.legacy_schema import LEGACY_MIGRATIONS
from tests.sim import make_world, text_of

GUILD = 1


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("What does error 1042 mean?", "What does error 2077 mean?"),
        ("Is version 1.2.3 supported?", "Is version 1.23 supported?"),
        ("Code E-1042", "Code E-1043"),
        ("Order 12345678 is late", "Order 12345679 is late"),
        ("???", "!!!"),
    ],
)
def test_questions_that_differ_by_a_number_or_code_have_different_keys(a, b):
    assert identity_key(a) != identity_key(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("What does error 1042 mean?", "what does ERROR 1042 mean"),
        ("What's up?", "whats   up"),
        ("ｅｒｒｏｒ １０４２", "error 1042"),
        ("Version 1.2.3?", "version 1.2.3"),
    ],
)
def test_case_punctuation_and_spacing_do_not_make_a_new_question(a, b):
    assert identity_key(a) == identity_key(b)


def test_text_without_anything_visible_has_no_key():
    assert identity_key("\u200b\u200d") == identity_key("") == ""


async def test_numbers_tell_trained_questions_apart(lexical_memory):
    first = await lexical_memory.add(GUILD, "What does error 1042 mean?", "The disk is full.")
    assert await lexical_memory.get_by_query(GUILD, "What does error 2077 mean?") is None
    assert (await lexical_memory.get_by_query(GUILD, "what does ERROR 1042 mean")).id == first.id
    second = await lexical_memory.add(GUILD, "What does error 2077 mean?", "The licence expired.")
    assert (await lexical_memory.get_by_query(GUILD, "What does error 2077 mean?")).id == second.id
    assert (await lexical_memory.get_by_query(GUILD, "What does error 1042 mean?")).response == "The disk is full."


async def test_alternates_that_differ_by_a_number_are_both_kept(lexical_memory):
    entry = await lexical_memory.add(
        GUILD, "Which builds are supported?", "All since 1000.", alternates=["is build 1042 ok", "is build 2077 ok"]
    )
    assert entry.alternates == ["is build 1042 ok", "is build 2077 ok"]


async def test_approving_a_suggestion_for_another_number_adds_an_entry(lexical_memory):
    await lexical_memory.add(GUILD, "What does error 1042 mean?", "The disk is full.")
    sid = await lexical_memory.suggest_qa(GUILD, "What does error 2077 mean?", "The licence expired.")
    entry = await lexical_memory.approve_suggestion(GUILD, sid, by=7)
    assert entry.query == "What does error 2077 mean?"
    assert await lexical_memory.count(GUILD) == 2
    assert (await lexical_memory.get_by_query(GUILD, "What does error 1042 mean?")).response == "The disk is full."


async def test_import_of_rows_that_differ_only_by_a_number_keeps_every_row(lexical_memory):
    rows = [{"query": f"What does error {1000 + n} mean?", "response": f"Answer {n}."} for n in range(2500)]
    data = "\n".join(json.dumps(row) for row in rows).encode()
    report = await import_bytes(lexical_memory, GUILD, data, "errors.jsonl")
    assert (report.added, report.updated, report.skipped, report.errors) == (2500, 0, 0, [])
    assert await lexical_memory.count(GUILD) == 2500
    # Importing the same file again changes nothing: the identity still finds each row's entry.
    again = await import_bytes(lexical_memory, GUILD, data, "errors.jsonl")
    assert (again.added, again.updated, again.skipped) == (0, 0, 2500)
    assert await lexical_memory.count(GUILD) == 2500
    entry = await lexical_memory.get_by_query(GUILD, "what does error 2077 mean")
    assert entry.response == "Answer 1077."


async def test_train_after_a_question_with_another_number_creates_a_second_entry(simcord_env):
    world = await make_world(simcord_env)
    first = await world.staff.slash(
        world.panel_channel, "train", question="What does error 1042 mean?", answer="The disk is full."
    )
    assert "entry **#1**" in text_of(first)
    second = await world.staff.slash(
        world.panel_channel, "train", question="What does error 2077 mean?", answer="The licence expired."
    )
    assert "Saved as entry **#2**" in text_of(second), text_of(second)
    memory, guild = world.core.memory, world.guild.id
    assert (await memory.get(guild, 1)).response == "The disk is full."
    again = await world.staff.slash(
        world.panel_channel, "train", question="what does error 1042 mean", answer="Free some disk space."
    )
    assert "Updated entry **#1**" in text_of(again)
    assert await memory.count(guild) == 2
    # /memory edit still refuses a question that another entry has, and allows one that differs by a number.
    edit = "memory edit"
    taken = await world.staff.slash(world.panel_channel, edit, entry_id=2, question="What does error 1042 mean")
    assert "Entry #1 already has that question" in text_of(taken)
    moved = await world.staff.slash(world.panel_channel, edit, entry_id=2, question="What does error 2078 mean?")
    assert "updated" in text_of(moved)


async def _database_before_the_fix(path) -> None:
    """A database at schema version 1 whose phrasing keys were computed by the number-folding `normalise`."""
    db = await aiosqlite.connect(path, isolation_level=None)
    try:
        for statement in split_sql(LEGACY_MIGRATIONS[0][1]):
            await db.execute(statement)
        await db.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")
        await db.execute("INSERT INTO schema_version VALUES (1, '2024-01-01T00:00:00+00:00')")
        questions = [
            "What does error 1042 mean?",
            "What does error 2077 mean?",  # collided with the one above under the old key
            "What does error 2077 mean?",  # an exact duplicate (two entries, one question)
            "???",  # old key ""
        ]
        for number, question in enumerate(questions, start=1):
            await db.execute(
                "INSERT INTO trained_entries (id, guild_id, query, response, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, '2024-01-01', '2024-01-01')",
                (number, GUILD, question, f"answer {number}"),
            )
            await db.execute(
                "INSERT INTO entry_phrasings (entry_id, guild_id, text, norm, is_primary) VALUES (?, ?, ?, ?, 1)",
                (number, GUILD, question, normalise(question)),
            )
    finally:
        await db.close()


async def test_migration_recomputes_the_keys_of_an_existing_database(tmp_path):
    path = tmp_path / "old.db"
    await _database_before_the_fix(path)
    db = await open_app_database(path)  # must not fail on the rows whose old keys collided
    try:
        versions = await db.fetchall("SELECT package, MAX(version) FROM schema_migrations GROUP BY package")
        assert dict(map(tuple, versions)) == {s.package: s.migrations[-1][0] for s in SCHEMAS}
        memory = TrainedMemory(db)
        assert (await memory.get_by_query(GUILD, "what does error 1042 mean")).id == 1
        assert (await memory.get_by_query(GUILD, "What does error 2077 mean?")).id == 2
        assert (await memory.get_by_query(GUILD, "???")).id == 4
        assert await memory.get_by_query(GUILD, "\u200b") is None
        assert await memory.count(GUILD) == 4
    finally:
        await db.close()


async def test_reimport_with_alternates_spelled_differently_changes_nothing(lexical_memory):
    first = json.dumps({"query": "Opening hours?", "response": "9 to 5.", "alternates": ["When are you open?"]})
    await import_bytes(lexical_memory, GUILD, first.encode(), "faq.jsonl")
    respelled = json.dumps({"query": "opening hours", "response": "9 to 5.", "alternates": ["when are you open"]})
    report = await import_bytes(lexical_memory, GUILD, respelled.encode(), "faq.jsonl")
    assert (report.added, report.updated, report.skipped) == (0, 0, 1)
