"""Shared fixtures: the bot under SimCord on a real database and a fake Ollama on 127.0.0.1.

The storage tests (tests/unit/db, memory, tickets) and the SimCord suite (tests/bot) run on both backends:
SQLite files, and PostgreSQL when TEST_DATABASE_URL is set (tests/fixtures_pg.py; the variant skips, saying
why, when it is not). `@pytest.mark.sqlite_only("why")` keeps a test on SQLite (it tests SQLite itself).

LLM fakes live in fixtures_llm.py, memory helpers in fixtures_memory.py.
The bot runs the shipped defaults, answer checks included (ANSWER_CHECKS on, ai/guards.py): with no trained note
about a message the model is not asked, and a reply without the ANSWER marker or not grounded in the notes goes
to staff. A test that needs a model answer trains notes and scripts a grounded reply (tests/grounded.py); a test
of the unchecked path sets `bot_env(ANSWER_CHECKS="false")` and says why.
`@pytest.mark.bot_env(KEY="value")` overrides the bot's environment for one test;
`LLM_URL="fake_openai"` points the bot at the `fake_openai` fixture's server instead
(with `LLM_BACKEND="openai"`); `EMBED_URL="fake_ollama"` asks `fake_ollama` for embeddings.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import AsyncIterator, Awaitable, Callable

import aiosqlite.core
import pytest

from app.settings import load_settings
from bot import TicketBot, create_bot
from tests.fakes.ollama import FakeOllama

pytest_plugins = ["tests.fixtures_llm", "tests.fixtures_memory", "tests.fixtures_pg"]

BACKENDS = ("sqlite", "postgresql")
# Test directories whose database-backed tests run on both backends.
_BOTH_BACKENDS = ("tests/bot/", "tests/unit/db/", "tests/unit/memory/", "tests/unit/tickets/")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "db_backend" not in metafunc.fixturenames or metafunc.definition.get_closest_marker("sqlite_only"):
        return
    path = metafunc.definition.path.as_posix()
    if any(part in path for part in _BOTH_BACKENDS):
        metafunc.parametrize("db_backend", BACKENDS, indirect=True)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Let the test process exit even if a test left an aiosqlite connection open.

    aiosqlite runs each connection in a non-daemon thread that only stops when the connection is closed
    or garbage-collected; the interpreter joins such threads before it exits, so one connection a test
    forgot (a bot dropped by restart_bot, objects kept by `gc.freeze()` after a big index load) hangs CI
    after every test has passed. Give frozen objects back, collect, then stop what is still running."""
    gc.unfreeze()
    gc.collect()
    stopped = 0
    for thread in threading.enumerate():
        if "_connection_worker_thread" in thread.name and thread.is_alive():
            queue = thread._args[0]  # type: ignore[attr-defined]  # the connection's request queue
            queue.put_nowait((None, lambda: aiosqlite.core._STOP_RUNNING_SENTINEL))
            stopped += 1
    if stopped:
        print(f"\nconftest: stopped {stopped} aiosqlite connection thread(s) that tests left open")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", 'bot_env(**env): environment variables for the bot under test (LLM_URL="fake_openai")'
    )
    config.addinivalue_line("markers", "sqlite_only(why): a storage test that runs on SQLite only (it tests SQLite)")


@pytest.fixture
def bot_env(request: pytest.FixtureRequest, tmp_path, fake_ollama: FakeOllama, pg_url: str | None) -> dict[str, str]:
    env = {
        "DISCORD_TOKEN": "test-token-never-used",
        "DB_PATH": str(tmp_path / "bot.db"),
        "DATABASE_URL": pg_url or "",
        "LLM_URL": fake_ollama.url,
        "LLM_MODEL": "llama3",
        "LLM_EMBED_MODEL": "all-minilm",
        # The fake's hashed vectors stand in for all-minilm; the tests were written on their cosines as they are.
        "EMBED_SCALE": "native",
        "LLM_FIRST_TOKEN_TIMEOUT": "2",
        "LLM_CHUNK_TIMEOUT": "1",
        "LLM_TOTAL_TIMEOUT": "4",
        "LLM_CONNECT_TIMEOUT": "1",
        # Off unless a test asks for it: a background generation would take replies scripted for tickets.
        "GENERATE_PHRASINGS": "false",
        # Tests jump the virtual clock by minutes and hours: a memory sync round every 5 virtual seconds would be
        # hundreds of rounds to settle per jump. The tests of the sync set it (tests/bot/test_memory_sync.py).
        "MEMORY_SYNC_SECONDS": "3600",
    }
    marker = request.node.get_closest_marker("bot_env")
    if marker:
        env.update({k: str(v) for k, v in marker.kwargs.items()})
    if env["LLM_URL"] == "fake_openai":
        env["LLM_URL"] = request.getfixturevalue("fake_openai").url
    if env.get("EMBED_URL") == "fake_ollama":  # chat on fake_openai, embeddings on fake_ollama
        env["EMBED_URL"] = fake_ollama.url
    return env


@pytest.fixture
async def simcord_bot(bot_env: dict[str, str]) -> AsyncIterator[TicketBot]:
    bot = create_bot(load_settings(bot_env))
    yield bot
    # SimCord detaches the bot without closing it; release the DB thread and HTTP session.
    core = getattr(bot, "core", None)
    if core is not None:
        await core.close()


@pytest.fixture
async def restart_bot(simcord_env, bot_env: dict[str, str]) -> AsyncIterator[Callable[[], Awaitable[TicketBot]]]:
    """`await restart_bot()`: a new bot on the same settings and database replaces the running one
    (SimCord's restart); every bot started this way is closed after the test, even one that failed, so no
    database connection (an aiosqlite thread, a PostgreSQL pool) outlives its test."""
    started: list[TicketBot] = []

    async def restart() -> TicketBot:
        bot = create_bot(load_settings(bot_env))
        started.append(bot)
        await simcord_env.restart_bot(bot)
        return bot

    yield restart
    for bot in started:
        core = getattr(bot, "core", None)
        if core is not None:
            await core.close()
