"""The admin tools that work without Discord: check, ask, search, train import/export, db copy (app/cli.py
parses)."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
from pathlib import Path
from typing import Any

from ai.delivery import MessageSink
from ai.pool import PoolStatus, ServerReport
from app.instance import AnotherInstanceRunning, InstanceLock, PgShardLock
from app.runtime import Core, open_core
from app.schema import open_app_database
from app.settings import Settings
from db.copy import CopyRefused, TableCount, copy_database, describe, hide_passwords
from db.postgres import is_postgres_url
from memory.io import export_file, import_file
from memory.scale import report as report_scale
from tickets.answering import AnswerRequest, search_batch
from web.auth import Auth

log = logging.getLogger(__name__)


def print_json(obj: Any) -> None:
    print(json.dumps(obj, ensure_ascii=False))


async def check(settings: Settings, args: argparse.Namespace) -> int:
    ok = True
    for problem in settings.problems_for_run():
        print(f"✗ {problem}")
        ok = False
    if ok:
        print("✓ configuration is valid")
    print(f"✓ Discord: {settings.shards.describe()}")
    print(f"✓ dashboard: {settings.web.describe()}")
    try:
        core = await open_core(settings)
    except Exception as exc:  # any failure to open is the answer here
        print(f"✗ database {settings.describe_database()}: {exc}")
        return 1
    try:
        kind = "schema up to date" if settings.database_url else "WAL, schema up to date"
        print(f"✓ database {settings.describe_database()} ({kind})")
        status = await core.llm.status()
        ok = print_model_check(status) and ok
        if status.embed_model:
            scale = await core.memory.calibrate()
            print(f"{'✓' if scale is not None and not scale.poor else '⚠'} {report_scale(status.embed_model, scale)}")
    finally:
        await core.close()
    return 0 if ok else 1


def print_model_check(status: PoolStatus) -> bool:
    """Print a line per model server (chat, then separate embedding servers); False if any has a problem."""
    ok = True
    several = len(status.chat) > 1
    for report in status.chat:
        s = report.status
        if not s.reachable:
            print(f"✗ model server not reachable at {report.url}: {s.error}")
            print(f"  {s.start_hint}" + ("; the other servers take its requests" if several else ""))
            ok = False
            continue
        print(f"✓ model server {report.url} is up (version {s.version or 'unknown'}{_limit(report)})")
        if s.model_available:
            print(f"✓ model {s.model} is available" + (f" on {report.url}" if several else ""))
        else:
            print(f"✗ model {s.model} is {_missing(s.pull_hint)}" + (f" on {report.url}" if several else ""))
            ok = False
        if status.embed_model and not status.separate_embeddings:
            if s.embed_model_available:
                print(f"✓ embedding model {status.embed_model} is available")
            else:
                print(f"✗ embedding model {status.embed_model} is {_missing(s.embed_pull_hint)}")
                ok = False
    for report in status.embed if status.embed_model else []:
        s = report.status
        if not s.reachable:
            print(f"✗ embedding server not reachable at {report.url}: {s.error}")
            print(f"  {s.start_hint}; until it is back, search matches words only")
            ok = False
        elif s.embed_model_available:
            print(f"✓ embedding server {report.url} ({report.backend}) has {status.embed_model}")
        else:
            print(f"✗ embedding model {status.embed_model} on {report.url} is {_missing(s.embed_pull_hint)}")
            ok = False
    return ok


def _limit(report: ServerReport) -> str:
    return f", {report.limit} at a time" if report.limit is not None else ""


def _missing(hint: str | None) -> str:
    return f"not pulled; run: {hint}" if hint else "not listed by the server"


class PrintSink(MessageSink):
    """Collects what the bot would post, so `ask` can print the final text once."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    async def send(self, text: str) -> int:
        self.parts.append(text)
        return len(self.parts) - 1

    async def edit(self, handle: int, text: str) -> None:
        self.parts[handle] = text


async def ask(settings: Settings, args: argparse.Namespace) -> int:
    core = await open_core(settings)
    try:
        await core.memory.warm(args.guild)  # the embedding model's scale, measured before the one question
        sink = PrintSink()
        request = AnswerRequest(
            guild_id=args.guild, question=args.message, history=[], user_name="admin", category="general",
            server_name="this server",
        )  # fmt: skip
        outcome = await core.pipeline.answer(request, sink)
        matches = [
            {"id": m.entry.id, "query": m.entry.query, "category": m.entry.category, "score": round(m.score, 4)}
            for m in outcome.matches
        ]
        reply = "\n".join(sink.parts)
        route = "chitchat" if outcome.canned else outcome.route.value  # a canned reply, not an answer
        if args.json:
            print_json(
                {
                    "route": route,
                    "reason": outcome.decision.reason,
                    "reply": reply,
                    "llm_error": str(outcome.llm_error) if outcome.llm_error else None,
                    "matches": matches,
                }
            )
        else:
            print(f"route: {route} ({outcome.decision.reason})")
            if outcome.llm_error:
                print(f"llm error: {outcome.llm_error}")
            print("reply:")
            print(reply)
            print("top matches:")
            for m in matches or [{"id": "-", "score": 0, "query": "(none)"}]:
                print(f"  {m['score']:.3f}  #{m['id']}  {m['query']}")
    finally:
        await core.close()
    return 0


async def search(settings: Settings, args: argparse.Namespace) -> int:
    try:
        text = args.batch.read_text(encoding="utf-8")
    except OSError as exc:
        print(f"{args.batch}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except UnicodeDecodeError:
        print(f"{args.batch}: not UTF-8 text", file=sys.stderr)
        return 1
    queries = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            query = json.loads(line)["query"]
        except (ValueError, KeyError, TypeError):
            query = None
        if not isinstance(query, str) or not query.strip():
            # A null, number or blank query would silently be searched as "None", "5" or nothing.
            print(f"{args.batch}:{number}: expected a JSON object with a non-empty 'query' string", file=sys.stderr)
            return 1
        queries.append(query)
    core = await open_core(settings)
    try:
        await core.memory.warm(args.guild)
        llm_up = (await core.llm.server_status()).reachable
        for row in await search_batch(core.pipeline, args.guild, queries, llm_available=llm_up, k=args.k):
            print_json(row)
    finally:
        await core.close()
    return 0


async def train(settings: Settings, args: argparse.Namespace) -> int:
    core = await open_core(settings)
    try:
        if args.train_command == "export":
            try:
                count = await export_file(core.memory, args.guild, args.file)
            except (ValueError, OSError) as exc:  # unknown suffix, missing directory, no permission
                print(f"{args.file}: {exc}", file=sys.stderr)
                return 1
            print(f"exported {count} entries to {args.file}")
            return 0
        if args.train_command == "generate":
            return await _generate(core, args.guild)
        if not args.file.exists():
            print(f"{args.file}: no such file", file=sys.stderr)
            return 1
        report = await import_file(core.memory, args.guild, args.file, progress=_progress)
        for error in report.errors:
            print(f"{args.file}: {error}", file=sys.stderr)
        print(
            f"added {report.added}, updated {report.updated}, unchanged {report.skipped}, errors {len(report.errors)}"
        )
        return 0 if not report.errors else 1
    finally:
        await core.close()


async def _generate(core: Core, guild_id: int) -> int:
    """Generated phrasings (memory/generated.py) for every entry of the guild still without them."""
    if not core.phrasings.enabled:
        print("phrasing generation is off (GENERATE_PHRASINGS=false, or no embedding model)", file=sys.stderr)
        return 1
    done = 0
    while batch := await core.phrasings.backfill(guild_id):
        done += batch
        print(f"generated phrasings for {done} entries", file=sys.stderr, flush=True)
    left = len(await core.memory.generation_pending(guild_id, 100_000))
    print(f"done {done}, still pending {left}" + (" (model or embeddings unavailable?)" if left else ""))
    return 0 if not left else 1


def _progress(done: int, total: int) -> None:
    width = 30
    filled = width * done // max(total, 1)
    # The last update ends the line, so log lines and errors that follow start on their own.
    end = "\n" if done >= total else ""
    print(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}", end=end, file=sys.stderr, flush=True)


async def dashboard(settings: Settings, args: argparse.Namespace) -> int:
    """A console sign-in link: it sees the one server it was printed for, as staff (whoever can run this
    can read the database anyway)."""
    if not settings.web.enabled:
        print("The web dashboard is off: set WEB_ENABLED=true in .env and restart the bot.", file=sys.stderr)
        return 1
    core = await open_core(settings)
    try:
        if await core.tickets.config(args.guild) is None:
            print(f"Server {args.guild} is not set up (run /setup there first).", file=sys.stderr)
            return 1
        path = await Auth(core.db).create_link(user_id=0, guild_id=args.guild, console=True)
    finally:
        await core.close()
    print(f"{settings.web.public_url}{path}")
    print("Works once, for 10 minutes, while the dashboard is running.", file=sys.stderr)
    return 0


async def db_copy(settings: Settings, args: argparse.Namespace) -> int:
    """`db copy`: the configured SQLite file (or --from) into DATABASE_URL (or --to), holding both databases'
    instance locks, so neither a bot already running nor one starting meanwhile writes while rows are read."""
    source: str = args.source or str(settings.db_path)
    target: str = args.target or settings.database_url or ""
    problem = _copy_problem(source, target, args.batch_size)
    if problem:
        print(f"db copy: {problem}", file=sys.stderr)
        return 1
    print(f"Copying {describe(source)} → {describe(target)}")
    print(f"  {'table':<28} {'rows':>12}")
    try:
        with contextlib.ExitStack() as locks:
            for database in (source, target):
                locks.enter_context(_lock_for_copy(database))
            return await _copy(source, target, args)
    except AnotherInstanceRunning:
        raise
    except Exception as exc:  # any failure: say it without secrets, leave the traceback to the log
        log.debug("db copy failed", exc_info=True)
        message = hide_passwords(f"{type(exc).__name__}: {exc}", (source, target))
        print(f"db copy failed, the target was left as it was: {message}", file=sys.stderr)
        return 1


async def _copy(source: str, target: str, args: argparse.Namespace) -> int:
    # Both migrated by this version, as starting the bot would: the copy needs one schema on both sides.
    src = await open_app_database(source)
    try:
        dst = await open_app_database(target)
        try:
            report = await copy_database(
                src, dst, replace=args.replace, batch_size=args.batch_size, progress=_print_count
            )
        finally:
            await dst.close()
    except CopyRefused as exc:
        print(f"db copy: {exc}", file=sys.stderr)
        return 1
    finally:
        await src.close()
    for name in report.skipped:
        print(f"  {name}: not in the target's schema, not copied")
    print(
        f"Done: {len(report.tables)} tables, {report.rows:,} rows; every table's row count matches the source's. "
        "Ids continue after the source's largest."
    )
    return 0


def _print_count(count: TableCount) -> None:
    print(f"  {count.table:<28} {count.target:>12,}", flush=True)


def _copy_problem(source: str, target: str, batch_size: int) -> str | None:
    if not target:
        return "say where to: --to postgresql://… (or a SQLite file), or set DATABASE_URL"
    if batch_size < 1:
        return "--batch-size must be at least 1"
    if is_postgres_url(source) or is_postgres_url(target):
        same = source == target
    else:
        same = Path(source).resolve() == Path(target).resolve()
    if same:
        return f"the source and the target are the same database ({describe(source)})"
    if not is_postgres_url(source) and not Path(source).is_file():
        # Opening it would create an empty database, and the copy would "succeed" with nothing.
        return f"{source}: no such database file"
    return None


@contextlib.contextmanager
def _lock_for_copy(database: str) -> Any:
    """The database's bot lock (a bot that is not sharded takes the same one on PostgreSQL): refused while a bot
    runs on it, and no bot can start on it until the copy is over."""
    try:
        lock = (
            PgShardLock.acquire(database, None) if is_postgres_url(database) else InstanceLock.acquire(Path(database))
        )
    except AnotherInstanceRunning:
        raise AnotherInstanceRunning(
            f"A bot is running on {describe(database)}: stop it (and python bot.py web) before copying; "
            "the copy needs the database at rest."
        ) from None
    with lock:
        yield
