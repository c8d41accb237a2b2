"""`python bot.py [run|web|check|ask|search|train|dashboard|db copy]`: run the bot or its dashboard, or use the core
without Discord."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import discord

from app import commands, web_process
from app.instance import AnotherInstanceRunning, InstanceLock, PgShardLock
from app.settings import ConfigError, Settings, load_settings

log = logging.getLogger(__name__)
EXIT_CONFIG = 2
EXIT_ALREADY_RUNNING = 3


def setup_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    logging.getLogger("discord.http").setLevel(logging.WARNING)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python bot.py", description="Discord support-ticket bot with a local LLM.")
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("run", help="connect to Discord and serve tickets (the default)")
    run.add_argument("--shard-count", metavar="N", help="Discord shards in all (overrides SHARD_COUNT)")
    run.add_argument("--shards", metavar="IDS", help="the shards this process runs, e.g. 0,1 (overrides SHARD_IDS)")
    sub.add_parser("check", help="validate config, database and the model server, then exit")
    ask = sub.add_parser("ask", help="answer one message with the full pipeline, without Discord")
    ask.add_argument("--guild", type=int, required=True)
    ask.add_argument("--json", action="store_true", help="print JSON instead of text")
    ask.add_argument("message")
    search = sub.add_parser("search", help="retrieve and decide for each query of a JSONL file")
    search.add_argument("--guild", type=int, required=True)
    search.add_argument("--batch", type=Path, required=True, help='JSONL file, one {"query": ...} per line')
    search.add_argument("-k", type=int, default=5)
    train = sub.add_parser("train", help="import or export trained Q&A pairs")
    train_sub = train.add_subparsers(dest="train_command", required=True)
    for name, helptext in (("import", "CSV or JSONL to import"), ("export", "CSV or JSONL to write")):
        p = train_sub.add_parser(name)
        p.add_argument("file", type=Path, help=helptext)
        p.add_argument("--guild", type=int, required=True)
    generate = train_sub.add_parser("generate", help="generate users' phrasings for entries that have none yet")
    generate.add_argument("--guild", type=int, required=True)
    sub.add_parser("web", help="serve the web dashboard on its own, without the Discord gateway")
    dashboard = sub.add_parser("dashboard", help="print a single-use sign-in link to the web dashboard")
    dashboard.add_argument("--guild", type=int, required=True)
    add_db_parser(sub)
    return parser


def add_db_parser(sub: Any) -> None:
    db = sub.add_parser("db", help="database tools: copy the database (SQLite to PostgreSQL, or to a backup file)")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    copy = db_sub.add_parser(
        "copy",
        help="copy every table to another database (e.g. SQLite to PostgreSQL)",
        description=(
            "Copy every table of the bot's database (tickets, messages, trained memory with its vectors, settings, "
            "analytics) into another database, keeping every id. The target is migrated first and must be empty; "
            "the copy is one transaction on it, so a failure leaves it empty. Stop the bot (and python bot.py web) "
            "on both databases first: the copy refuses to start while a bot holds either one."
        ),
    )
    copy.add_argument(
        "--to",
        dest="target",
        metavar="TARGET",
        help="postgresql://user:password@host:port/database, or a SQLite file (default: DATABASE_URL; setting it "
        "in .env keeps the password off the command line)",
    )
    copy.add_argument(
        "--from",
        dest="source",
        metavar="SOURCE",
        help="the database to copy: a SQLite file or a postgresql:// URL (default: DB_PATH, the SQLite file)",
    )
    copy.add_argument(
        "--replace", action="store_true", help="delete everything the target holds first (else it must be empty)"
    )
    copy.add_argument("--batch-size", type=int, default=1000, metavar="N", help="rows read and written at a time")


def run_cli(argv: list[str], create_bot: Callable[[Settings], Any]) -> int:
    args = build_parser().parse_args(argv)
    options = {"SHARD_COUNT": getattr(args, "shard_count", None), "SHARD_IDS": getattr(args, "shards", None)}
    overrides = {name: value for name, value in options.items() if value is not None}
    try:
        settings = load_settings(overrides=overrides)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"config: {problem}", file=sys.stderr)
        return EXIT_CONFIG
    setup_logging(settings.log_level)
    command = args.command or "run"
    if command == "run":
        problems = settings.problems_for_run()
        if problems:
            for problem in problems:
                print(f"config: {problem}", file=sys.stderr)
            return EXIT_CONFIG
        return run_bot(settings, create_bot)
    if command == "web":
        return run_web(settings)
    handler = {
        "check": commands.check,
        "ask": commands.ask,
        "search": commands.search,
        "train": commands.train,
        "dashboard": commands.dashboard,
        "db": commands.db_copy,
    }[command]
    try:
        return asyncio.run(handler(settings, args))
    except AnotherInstanceRunning as exc:  # a tool that needs the database at rest (db copy)
        print(exc, file=sys.stderr)
        return EXIT_ALREADY_RUNNING


def run_bot(settings: Settings, create_bot: Callable[[Settings], Any]) -> int:
    """Serve while holding the database's instance lock: a second bot on the same database (on PostgreSQL: on
    the same shards) is refused before it connects anywhere (the admin tools do not take the lock)."""
    try:
        lock: InstanceLock | PgShardLock
        if settings.database_url:
            shards = settings.shards
            owned = None if shards.count is None else tuple(shards.ids or range(shards.count))
            lock = PgShardLock.acquire(settings.database_url, owned)
        else:
            lock = InstanceLock.acquire(settings.db_path)
    except AnotherInstanceRunning as exc:
        print(exc, file=sys.stderr)
        return EXIT_ALREADY_RUNNING
    with lock:
        return _serve(settings, create_bot)


def run_web(settings: Settings) -> int:
    """The dashboard on its own (app/web_process.py). It takes no instance lock: it runs beside the bot."""
    problems = settings.problems_for_run()
    if not settings.web.enabled:
        problems.append("WEB_ENABLED is not true: the dashboard is off (set it, and WEB_IN_BOT=false for the bot).")
    elif settings.web.in_bot:
        problems.append(
            "WEB_IN_BOT is true: the bot serves the dashboard itself. Set WEB_IN_BOT=false (for both) to run it apart."
        )
    if problems:
        for problem in problems:
            print(f"config: {problem}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        asyncio.run(web_process.serve(settings))
    except discord.LoginFailure:
        print("Discord rejected DISCORD_TOKEN: reset it in the developer portal (Bot → Reset Token).", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        pass
    return 0


def _serve(settings: Settings, create_bot: Callable[[Settings], Any]) -> int:
    """Connect and serve until stopped; the two usual portal mistakes get a one-line fix."""
    bot = create_bot(settings)
    try:
        bot.run(settings.token.reveal(), log_handler=None)
    except discord.LoginFailure:
        print("Discord rejected DISCORD_TOKEN: reset it in the developer portal (Bot → Reset Token).", file=sys.stderr)
        return EXIT_CONFIG
    except discord.PrivilegedIntentsRequired:
        print(
            "Enable the Message Content Intent: developer portal → your app → Bot → Privileged Gateway Intents.",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    return 0
