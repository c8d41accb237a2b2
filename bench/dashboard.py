"""How fast the dashboard's pages render on a big database: 100,000 tickets and 1,000,000 messages.

    python -m bench.dashboard                       # builds bench/.dashboard.db once (≈ 1–2 min), then measures
    python -m bench.dashboard --tickets 10000       # a smaller database (its own file)

The database is filled with plain SQL in the bot's own schema (migrations applied, FTS triggers on), one
server, tickets spread over a year with ~10 messages each (user, bot answers with their recorded routes,
staff in a third of them). Each page is requested through the real aiohttp app with a signed-in console
session; the table shows the median of 5 requests (the machine is shared and noisy).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from app.schema import open_app_database
from db.database import utc_iso
from memory.store import TrainedMemory
from tickets.analytics import Period, TicketAnalytics
from tickets.archive import TicketArchive
from tickets.archive_store import ArchiveStore
from tickets.category_store import CategoryStore
from tickets.server_settings import ServerSettingsService
from tickets.service import TicketService
from tickets.settings_store import SettingsStore
from tickets.store import TicketStore
from web.app import WebContext
from web.auth import AttemptLimiter, Auth
from web.server import create_app
from web.settings import WebSettings

GUILD = 1
END = datetime(2026, 11, 1, tzinfo=UTC)
_VOCABULARY = (
    "password reset login account billing invoice refund payment card declined crash map error update install "
    "server lag ping connection timeout email verify code subscription plan upgrade cancel order shipping "
    "delivery tracking profile avatar name delete export data privacy ban appeal report bug feature"
)
WORDS = _VOCABULARY.split()
ROUTES = ["answer"] * 3 + ["llm"] * 5 + ["fallback"] + ["staff"]


class BenchDirectory:
    def guild_name(self, guild_id: int) -> str | None:
        return "Bench" if guild_id == GUILD else None

    def guild_ids(self) -> list[int]:
        return [GUILD]

    async def is_staff(self, guild_id: int, user_id: int) -> bool:
        return guild_id == GUILD


def _text(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def fill(path: Path, tickets: int, per_ticket: int = 10) -> None:
    """Tickets, messages and interactions in bulk (sqlite3 executemany, one transaction per 10k tickets)."""
    rng = random.Random(11)
    db = sqlite3.connect(path)
    db.execute(
        "INSERT INTO guild_config (guild_id, forum_id, staff_role_id, log_channel_id, updated_at) "
        "VALUES (?, 2, 3, NULL, ?)",
        (GUILD, utc_iso(END)),
    )
    ticket_rows, message_rows, route_rows = [], [], []
    for i in range(tickets):
        tid = 10_000 + i
        opened = END - timedelta(seconds=rng.randrange(365 * 86400))
        opener = 100 + rng.randrange(20_000)
        staff_id = 7 + rng.randrange(8) if rng.random() < 0.33 else None
        closed = opened + timedelta(minutes=rng.randrange(5, 72 * 60)) if rng.random() < 0.96 else None
        status = "closed" if closed else rng.choice(["open", "answered", "waiting_staff"])
        subject = _text(rng, 4)
        ticket_rows.append((tid, GUILD, opener, rng.choice(["billing", "technical", "general"]), subject, status,
                            utc_iso(opened), utc_iso(closed or opened), utc_iso(closed or opened),
                            utc_iso(closed) if closed else None, rng.choice(["fixed", "no activity", None]),
                            staff_id if staff_id and rng.random() < 0.5 else opener))  # fmt: skip
        moment = opened
        for m in range(per_ticket):
            moment += timedelta(seconds=rng.randrange(20, 900))
            if m % 2 == 0:
                role, author, name = "user", opener, f"user{opener}"
            elif staff_id and m > 4:
                role, author, name = "staff", staff_id, f"staff{staff_id}"
            else:
                role, author, name = "bot", 1, "Bot"
                route = rng.choice(ROUTES)
                feedback = rng.choice(["solved", "staff", None, None])
                entry = rng.randrange(1, 200) if route in ("answer", "fallback") else None
                detail = f'{{"question": "{_text(rng, 6)}"}}'
                route_rows.append((GUILD, tid, route, entry, detail, feedback, utc_iso(moment)))
            text = f"{subject}\n{_text(rng, 12)}" if m == 0 else _text(rng, rng.randrange(5, 30))
            message_rows.append((tid, author, name, role, text, utc_iso(moment)))
        if len(ticket_rows) >= 10_000 or i == tickets - 1:
            with db:
                db.executemany(
                    "INSERT INTO tickets (id, guild_id, opener_id, category, subject, status, created_at, updated_at, "
                    "last_activity_at, closed_at, close_reason, closed_by) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    ticket_rows,
                )
                db.executemany(
                    "INSERT INTO ticket_messages (ticket_id, author_id, author_name, role, content, created_at) "
                    "VALUES (?,?,?,?,?,?)",
                    message_rows,
                )
                db.executemany(
                    "INSERT INTO interactions (guild_id, ticket_id, route, entry_id, detail, feedback, created_at) "
                    "VALUES (?,?,?,?,?,?,?)",
                    route_rows,
                )
            ticket_rows, message_rows, route_rows = [], [], []
            print(f"\r  {i + 1:,} tickets", end="", flush=True)
    db.execute("ANALYZE")
    db.commit()
    db.close()
    print()


async def measure(path: Path, repeats: int = 5) -> list[tuple[str, float]]:
    db = await open_app_database(path)
    store = TicketStore(db)
    analytics = TicketAnalytics(db)
    tickets = TicketService(store, CategoryStore(db), ServerSettingsService(SettingsStore(db)))
    context = WebContext(
        settings=WebSettings(True, "127.0.0.1", 0, "http://127.0.0.1"), auth=Auth(db, clock=lambda: END),
        limiter=AttemptLimiter(), directory=BenchDirectory(), tickets=tickets,
        analytics=analytics, archive=TicketArchive(store, ArchiveStore(db)), memory=TrainedMemory(db),
        clock=lambda: END,
    )  # fmt: skip
    some_ticket = (await db.fetchone("SELECT id FROM tickets ORDER BY id DESC LIMIT 1"))[0]  # type: ignore[index]
    # What the first report after an upgrade does once: the facts of every closed ticket (tickets/analytics.py).
    await db.run("DELETE FROM ticket_facts")
    start = time.perf_counter()
    await analytics.report(GUILD, Period.last_days(1, END))
    print(f"Once, at the first report: facts of every closed ticket in {time.perf_counter() - start:.1f} s\n")
    pages = {
        "Tickets (first page)": "/tickets",
        "Tickets, search 'refund crash'": "/tickets?q=refund+crash",
        "Tickets, closed + route staff": "/tickets?status=closed&route=staff",
        "Tickets, page 500": "/tickets?page=500",
        "Ticket transcript": f"/tickets/{some_ticket}",
        "Analytics, 30 days": "/analytics?days=30",
        "Analytics, 365 days": "/analytics?days=365",
        "Memory (coverage gaps, 30 days)": "/memory",
        "Export analytics.json, 30 days": "/export/analytics.json?days=30",
    }
    results = []
    async with TestClient(TestServer(create_app(context), host="127.0.0.1")) as client:
        link = await context.auth.create_link(user_id=0, guild_id=GUILD, console=True)
        assert (await client.post(link, allow_redirects=False)).status == 303
        for name, path_ in pages.items():
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                response = await client.get(f"/g/{GUILD}{path_}")
                await response.read()
                assert response.status == 200, (path_, response.status)
                times.append(time.perf_counter() - start)
            results.append((name, statistics.median(times)))
    await db.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--rebuild", action="store_true", help="build the database again")
    args = parser.parse_args()
    path = Path(__file__).parent / f".dashboard-{args.tickets}.db"
    if args.rebuild or not path.exists():
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        asyncio.run(_migrate(path))
        start = time.perf_counter()
        print(f"Filling {path.name}: {args.tickets:,} tickets, {args.tickets * 10:,} messages")
        fill(path, args.tickets)
        print(f"  filled in {time.perf_counter() - start:.0f} s ({path.stat().st_size / 2**20:.0f} MiB)")
    with sqlite3.connect(path) as raw:
        counts = [raw.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("tickets", "ticket_messages")]
    print(f"\n{counts[0]:,} tickets, {counts[1]:,} messages\n")
    results = asyncio.run(measure(path))
    print("Page render time (median of 5 requests, server side + HTTP):\n")
    print("| page | ms |\n|---|---|")
    for name, seconds in results:
        print(f"| {name} | {seconds * 1000:.0f} |")


async def _migrate(path: Path) -> None:
    db = await open_app_database(path)
    await db.close()


if __name__ == "__main__":
    main()
