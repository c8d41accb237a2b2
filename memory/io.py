"""Bulk import/export of trained entries (CSV or JSONL)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ai.untrusted import one_line
from memory.models import MAX_QUERY_CHARS, validate_pair
from memory.store import TrainedMemory
from memory.text import identity_key, visible_text

log = logging.getLogger(__name__)

FORMATS = (".csv", ".jsonl")
ALTERNATE_SEPARATOR = "|"
# A spreadsheet runs a cell that starts with one of these as a formula (OWASP CSV injection). The export puts
# a ' before such a cell (and before one that starts with ' already, so the import can tell the two apart).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_QUOTE = "'"


def _sheet_safe(cell: str) -> str:
    return _QUOTE + cell if cell.startswith((*FORMULA_STARTS, _QUOTE)) else cell


def _from_sheet(cell: str) -> str:
    return cell[1:] if cell.startswith(_QUOTE) and cell[1:].startswith((*FORMULA_STARTS, _QUOTE)) else cell


class UnreadableFile(ValueError):
    """The file cannot be parsed past some line (a CSV the reader gives up on): nothing of it is imported."""


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)


async def import_file(
    memory: TrainedMemory,
    guild_id: int,
    path: Path,
    *,
    progress: Callable[[int, int], None] | None = None,
    created_by: int | None = None,
) -> ImportReport:
    path = Path(path)
    # A file read off the event loop: imports can be megabytes and the bot keeps serving.
    data = await asyncio.to_thread(path.read_bytes)
    return await import_bytes(memory, guild_id, data, path.name, created_by=created_by, progress=progress)


async def import_bytes(
    memory: TrainedMemory,
    guild_id: int,
    data: bytes,
    filename: str,
    *,
    created_by: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Rows whose question is already trained update that entry (or are skipped when nothing
    changed), so importing the same file twice creates no duplicates."""
    report = ImportReport()
    suffix = Path(filename).suffix.lower()
    if suffix not in FORMATS:
        report.errors.append(f"{filename}: unsupported file type (use .csv or .jsonl)")
        return report
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        report.errors.append(f"{filename}: not UTF-8 text")
        return report
    # Parsed off the event loop: 100,000 JSON lines took about a second of it (bench/import_rate.py).
    parse = _csv_rows if suffix == ".csv" else _jsonl_rows
    try:
        rows = await asyncio.to_thread(lambda: list(parse(text, report)))
    except UnreadableFile as exc:
        # Where a CSV reader gives up, the rows after it cannot be told apart: import none rather than half.
        report.errors = [f"{exc}; nothing was imported"]
        return report
    for done, (line, row) in enumerate(rows, start=1):
        try:
            await _import_row(memory, guild_id, row, created_by, report)
        except ValueError as exc:
            report.errors.append(f"line {line}: {exc}")
        if progress is not None:
            progress(done, len(rows))
    # Parse errors were found before the rows were imported; report everything in file order.
    report.errors.sort(key=_error_line)
    # Rows were saved without vectors; embed them all now in large batches.
    await memory.reembed_stale(guild_id)
    log.info(
        "Imported %s into guild %d: %d added, %d updated, %d skipped, %d errors",
        one_line(filename), guild_id, report.added, report.updated, report.skipped, len(report.errors),
    )  # fmt: skip
    return report


async def _import_row(
    memory: TrainedMemory, guild_id: int, row: dict[str, Any], created_by: int | None, report: ImportReport
) -> None:
    query, response = _text(row, "query", "question"), _text(row, "response", "answer")
    # The same rules as /train: a field without a visible character is empty.
    validate_pair(query, response)
    query, response = visible_text(query), visible_text(response)
    category = visible_text(_text(row, "category", "category")) or "general"
    alternates = _alternates(row.get("alternates"))
    existing = await memory.get_by_query(guild_id, query)
    if existing is None:
        await memory.add(guild_id, query, response, category, alternates, created_by, embed=False)
        report.added += 1
        return
    # Alternates already known under another spelling are not new: a re-import changes nothing.
    known = {identity_key(text) for text in (existing.query, *existing.alternates)}
    merged = list(existing.alternates)
    for alternate in alternates:
        if identity_key(alternate) not in known:
            known.add(identity_key(alternate))
            merged.append(alternate)
    if existing.response == response and existing.category == category and merged == existing.alternates:
        report.skipped += 1
        return
    await memory.update(guild_id, existing.id, response=response, category=category, alternates=merged, embed=False)
    report.updated += 1


def _text(row: dict[str, Any], key: str, name: str) -> str:
    """A text field of a row ("" when absent); a JSON number, list or object there is an error, not its repr."""
    value = row.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"{name} must be text")
    return value


def _error_line(error: str) -> int:
    """The line number of a "line N: …" error (file-level errors, without one, come first)."""
    head = error.split(":", 1)[0]
    return int(head.removeprefix("line ")) if head.startswith("line ") and head[5:].isdigit() else 0


def _alternates(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        parts = [visible_text(part) for part in value.split(ALTERNATE_SEPARATOR)]
    elif isinstance(value, list) and all(isinstance(item, str) for item in value):
        parts = [visible_text(item) for item in value]
    else:
        raise ValueError("alternates must be a list of strings")
    alternates = [part for part in parts if part]
    for number, alternate in enumerate(alternates, start=1):
        # A phrasing is another way to ask the question: the question's limit holds for it too.
        if len(alternate) > MAX_QUERY_CHARS:
            raise ValueError(f"alternate {number} is {len(alternate)} characters long; the limit is {MAX_QUERY_CHARS}")
    return alternates


def _csv_rows(text: str, report: ImportReport) -> Iterator[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(io.StringIO(text))
    fields = {name.strip().lower() for name in reader.fieldnames or []}
    missing = {"query", "response"} - fields
    if missing:
        report.errors.append(f"line 1: missing column(s) {', '.join(sorted(missing))}")
        return
    rows = iter(reader)
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except csv.Error as exc:  # a field over the reader's limit, a stray carriage return, a NUL on old Pythons
            raise UnreadableFile(f"line {reader.line_num + 1}: {exc}") from exc
        # line_num is the physical line the row ended on, which is what a user sees in an editor.
        cleaned = {(k or "").strip().lower(): _from_sheet(v) if isinstance(v, str) else v for k, v in row.items()}
        if not any((v or "").strip() for v in cleaned.values() if isinstance(v, str)):
            continue
        yield reader.line_num, cleaned


def _jsonl_rows(text: str, report: ImportReport) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            report.errors.append(f"line {number}: invalid JSON ({exc.msg})")
            continue
        except RecursionError:  # "[[[[…": json gives up with the interpreter's own limit
            report.errors.append(f"line {number}: invalid JSON (nested too deeply)")
            continue
        if not isinstance(row, dict):
            report.errors.append(f"line {number}: expected a JSON object")
            continue
        yield number, row


async def export_file(memory: TrainedMemory, guild_id: int, path: Path) -> int:
    """Write every entry (.csv or .jsonl by suffix) in a form import_file reads back; returns the count."""
    path = Path(path)
    entries = []
    offset = 0
    while batch := await memory.list_entries(guild_id, offset=offset, limit=500):
        entries.extend(batch)
        offset += len(batch)
    if path.suffix.lower() == ".csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["query", "response", "category", "alternates"])
        for e in entries:
            cells = [e.query, e.response, e.category, ALTERNATE_SEPARATOR.join(e.alternates)]
            writer.writerow([_sheet_safe(cell) for cell in cells])
        await asyncio.to_thread(path.write_text, buffer.getvalue(), encoding="utf-8")
    elif path.suffix.lower() == ".jsonl":
        lines = [
            json.dumps({"query": e.query, "response": e.response, "category": e.category, "alternates": e.alternates})
            for e in entries
        ]
        await asyncio.to_thread(path.write_text, "".join(line + "\n" for line in lines), encoding="utf-8")
    else:
        raise ValueError(f"unsupported export format {path.suffix!r} (use .csv or .jsonl)")
    return len(entries)
