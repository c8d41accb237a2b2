"""Import/export: CSV and JSONL, line-numbered errors, idempotent re-import, round trip, batch search."""

from __future__ import annotations

import csv
import io
import json
import logging

from memory.io import export_file, import_bytes, import_file

GUILD = 1

CSV = (
    "query,response,category,alternates\n"
    "How do I reset my password?,Use the reset link.,technical,forgot password|lost login\n"
    "Where is my invoice?,On the billing page.,billing,\n"
    ",No question here,general,\n"
    "Refund?,,billing,\n"
    '"Multi-line, quoted",Yes,general,\n'
)


async def test_csv_import_reports_errors_with_line_numbers(memory, hashed_embedder):
    report = await import_bytes(memory, GUILD, CSV.encode(), "faq.csv", created_by=5)
    assert (report.added, report.updated, report.skipped) == (3, 0, 0)
    assert report.errors == ["line 4: question is empty", "line 5: answer is empty"]
    entry = await memory.get_by_query(GUILD, "how do i reset my password")
    assert entry.alternates == ["forgot password", "lost login"] and entry.created_by == 5
    assert (await memory.find_similar(GUILD, "lost login"))[0].entry.id == entry.id
    # Every imported phrasing and answer embedded in one batch (the second call is the search query).
    assert [len(batch) for batch in hashed_embedder.calls] == [5 + 3, 1]
    report = await import_bytes(memory, GUILD, CSV.encode(), "faq.csv", created_by=5)
    assert (report.added, report.updated, report.skipped) == (0, 0, 3)
    assert await memory.count(GUILD) == 3


async def test_jsonl_import_updates_on_reimport(memory, tmp_path):
    path = tmp_path / "faq.jsonl"
    rows = [
        {"query": "Opening hours?", "response": "9 to 5", "alternates": ["when are you open"]},
        "not an object",
        {"query": "Ship abroad?", "response": "Yes", "category": "billing"},
        {"query": "x", "response": "y", "alternates": "a|b"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n{broken\n\n", encoding="utf-8")
    progress = []
    report = await import_file(memory, GUILD, path, progress=lambda done, total: progress.append((done, total)))
    assert (report.added, report.updated, report.skipped) == (3, 0, 0)
    assert report.errors[0] == "line 2: expected a JSON object"
    assert report.errors[1].startswith("line 5: invalid JSON")
    assert progress[-1] == (3, 3)
    path.write_text(json.dumps({"query": "opening hours", "response": "10 to 6", "alternates": ["hours?"]}))
    report = await import_file(memory, GUILD, path)
    assert (report.added, report.updated) == (0, 1)
    entry = await memory.get_by_query(GUILD, "Opening hours?")
    assert entry.response == "10 to 6" and entry.alternates == ["when are you open", "hours?"]
    assert await memory.count(GUILD) == 3


async def test_bad_files(memory):
    assert (await import_bytes(memory, GUILD, b"x", "faq.txt")).errors == [
        "faq.txt: unsupported file type (use .csv or .jsonl)"
    ]
    assert (await import_bytes(memory, GUILD, b"\xff\xfe", "faq.csv")).errors == ["faq.csv: not UTF-8 text"]
    report = await import_bytes(memory, GUILD, b"question,answer\na,b\n", "faq.csv")
    assert report.errors == ["line 1: missing column(s) query, response"]
    report = await import_bytes(memory, GUILD, ("query,response\n" + "q" * 301 + ",a\n").encode(), "faq.csv")
    assert report.errors == ["line 2: question is 301 characters long; the limit is 300"]


async def test_export_import_round_trip(memory, lexical_memory, tmp_path):
    await import_bytes(memory, GUILD, CSV.encode(), "faq.csv")
    for suffix in (".csv", ".jsonl"):
        path = tmp_path / f"out{suffix}"
        assert await export_file(memory, GUILD, path) == 3
        other_guild = 2 if suffix == ".csv" else 3
        report = await import_file(lexical_memory, other_guild, path)
        assert (report.added, report.errors) == (3, [])
        strip = [(e.query, e.response, e.category, e.alternates) for e in await memory.list_entries(GUILD)]
        assert [
            (e.query, e.response, e.category, e.alternates) for e in await lexical_memory.list_entries(other_guild)
        ] == strip


async def test_hostile_jsonl_rows_are_refused_by_line_and_the_rest_imported(memory):
    deep = '{"query": "Nested?", "response": ' + "[" * 100_000  # json.loads: RecursionError, not a JSON error
    lines = [
        '{"query": "How do refunds work?", "response": "Within 14 days."}',
        deep,
        '{"query": {"a": 1}, "response": ["x"]}',  # would be stored as the text "{'a': 1}"
        '{"query": NaN, "response": "nan"}',
        '{"query": "Which category?", "response": "This one.", "category": 5}',
        '{"query": "Long alternate?", "response": "Yes.", "alternates": ["' + "a" * 301 + '"]}',
        '{"id": 1, "query": "How do refunds work?", "response": "Within 30 days."}',  # a duplicate: an update
    ]
    report = await import_bytes(memory, GUILD, "\n".join(lines).encode(), "faq.jsonl")
    assert (report.added, report.updated) == (1, 1)
    assert report.errors == [
        "line 2: invalid JSON (nested too deeply)",
        "line 3: question must be text",
        "line 4: question must be text",
        "line 5: category must be text",
        "line 6: alternate 1 is 301 characters long; the limit is 300",
    ]
    assert (await memory.get_by_query(GUILD, "How do refunds work?")).response == "Within 30 days."


async def test_a_csv_the_reader_cannot_parse_is_refused_whole(memory):
    good = "query,response\nHow do refunds work?,Within 14 days.\n"
    for bad, why in (
        ('Huge?,"' + "x" * 200_000 + '"\n', "field larger than field limit"),
        ("Stray\r return,yes\n", "new-line character seen in unquoted field"),
    ):
        report = await import_bytes(memory, GUILD, (good + bad).encode(), "faq.csv")
        assert (report.added, report.updated, report.skipped) == (0, 0, 0)
        assert len(report.errors) == 1 and report.errors[0].startswith("line ") and why in report.errors[0]
        assert "nothing was imported" in report.errors[0]
    assert await memory.count(GUILD) == 0


async def test_a_csv_export_runs_no_formula_in_a_spreadsheet_and_still_round_trips(memory, lexical_memory, tmp_path):
    """A suggestion approved from a ticket keeps the user's words as its question: "=HYPERLINK(…)" or "@SUM(…)"
    would run when staff open the export in a spreadsheet. Such cells start with ' (OWASP); the import drops it."""
    rows = [
        ('=HYPERLINK("https://evil.example","Refunds")?', "- Open Settings\n- Press Refund", "billing"),
        ("+cmd|' /C calc'!A0 what?", "@SUM(1+1) is not an answer", "-general"),
        ("'=quoted on purpose?", "'Yes", "general"),
    ]
    for query, response, category in rows:
        await memory.add(GUILD, query, response, category)
    path = tmp_path / "out.csv"
    await export_file(memory, GUILD, path)
    cells = [cell for row in csv.reader(io.StringIO(path.read_text(encoding="utf-8"))) for cell in row]
    assert [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")] == []
    report = await import_file(lexical_memory, 2, path)
    assert (report.added, report.errors) == (3, [])
    exported = {(e.query, e.response, e.category) for e in await lexical_memory.list_entries(2)}
    assert exported == {(e.query, e.response, e.category) for e in await memory.list_entries(GUILD)}


async def test_an_imported_file_name_cannot_forge_a_log_line(memory, caplog):
    caplog.set_level(logging.INFO, logger="memory.io")
    await import_bytes(memory, GUILD, CSV.encode(), "faq\nERROR fake record.csv")
    [record] = [r for r in caplog.records if r.getMessage().startswith("Imported ")]
    assert "\n" not in record.getMessage() and "faq\\nERROR fake record.csv" in record.getMessage()
