"""One bot per database: an OS lock on a file next to the database, held for as long as the bot runs.

Two bots on one database would both answer every ticket and each serve answers the other deleted.
The lock is the operating system's (flock, or msvcrt on Windows): it belongs to the open file, so it
ends with the process however that ends (kill -9 included) and can never go stale. The admin tools
(check, ask, search, train) do not take it: they share the database with a running bot by design.

On PostgreSQL (DATABASE_URL) several processes share the database, each serving its own shards: there
`PgShardLock` locks each shard instead, in the database itself.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if sys.platform == "win32":
    import msvcrt
else:
    import fcntl


class AnotherInstanceRunning(Exception):
    """Raised by `InstanceLock.acquire` when a bot already runs on the database; the message says what to do."""


def lock_path(db_path: Path, shard_set: str = "") -> Path:
    suffix = f".{shard_set}.lock" if shard_set else ".lock"
    return db_path.with_name(db_path.name + suffix)


class InstanceLock:
    def __init__(self, path: Path | None, fd: int | None) -> None:
        self.path = path
        self._fd = fd

    @classmethod
    def acquire(cls, db_path: Path, *, shard_set: str = "") -> InstanceLock:
        """Lock the database for this process's bot, or raise AnotherInstanceRunning."""
        db_path = Path(db_path)
        if str(db_path) == ":memory:":
            return cls(None, None)  # nothing another process could share
        path = lock_path(db_path, shard_set)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            _lock(fd)
        except OSError:
            holder = _holder(fd)
            os.close(fd)
            running = f"Another bot is already running on the database {db_path}" + (
                f" (process {holder})." if holder else "."
            )
            raise AnotherInstanceRunning(
                f"{running} Only one bot may use a database: stop the other one first, or give this one "
                "its own DB_PATH. (The admin tools check, ask, search and train can run next to it.)"
            ) from None
        # Who holds it, for the message another instance prints (the lock itself is what counts).
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        return cls(path, fd)

    def release(self) -> None:
        """Give the lock up (the file stays: removing it could race with the next instance's lock)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        os.close(fd)  # closing the file ends the lock

    def __enter__(self) -> InstanceLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _lock(fd: int) -> None:
    if sys.platform == "win32":
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    else:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _holder(fd: int) -> str:
    try:
        return os.pread(fd, 32, 0).decode(errors="replace").strip()
    except (OSError, AttributeError):  # unreadable, or no pread (Windows)
        return ""


# On PostgreSQL several bot processes share one database, each serving its own shards (issue 12). What must not
# happen is two processes serving the same shard: each shard is a session advisory lock, held on a connection of
# the lock's own for as long as the bot runs (the server drops it when that connection ends, kill -9 included).
# A bot that is not sharded serves every server: it holds the "all shards" key exclusively, sharded ones share it.
_SHARD_LOCKS = 0x746B6275  # "tkbu"
_ALL_SHARDS = -1


class PgShardLock:
    """The shards this process serves, locked on a PostgreSQL database (`acquire`); the counterpart of
    `InstanceLock` there. The connection lives on a small thread's event loop: the bot runs its own loop."""

    def __init__(self, loop: Any, thread: threading.Thread, conn: Any) -> None:
        self._loop, self._thread, self._conn = loop, thread, conn

    @classmethod
    def acquire(cls, url: str, shard_ids: Sequence[int] | None) -> PgShardLock:
        """Lock `shard_ids` (None: every shard, a bot that is not sharded), or raise AnotherInstanceRunning."""
        import asyncio

        import asyncpg

        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="pg-shard-lock", daemon=True)
        thread.start()

        def call(coro: Any) -> Any:
            return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=60)

        try:
            conn = call(asyncpg.connect(url))
        except BaseException:
            loop.call_soon_threadsafe(loop.stop)
            raise
        lock = cls(loop, thread, conn)
        try:
            taken = call(_take(conn, shard_ids))
        except BaseException:
            lock.release()
            raise
        if taken is not None:
            lock.release()
            raise AnotherInstanceRunning(taken)
        return lock

    def release(self) -> None:
        if self._conn is None:
            return
        import asyncio

        conn, self._conn = self._conn, None
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(conn.close(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    def __enter__(self) -> PgShardLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


async def _take(conn: Any, shard_ids: Sequence[int] | None) -> str | None:
    """Take the locks; None when all were free, else the message for the user (nothing is kept then)."""
    if shard_ids is None:
        if await conn.fetchval("SELECT pg_try_advisory_lock($1, $2)", _SHARD_LOCKS, _ALL_SHARDS):
            return None
        return (
            "Other bots already run on this PostgreSQL database: a bot that is not sharded serves every server, so "
            "it cannot run beside them. Stop them, or give this one SHARD_COUNT and SHARD_IDS of its own."
        )
    if not await conn.fetchval("SELECT pg_try_advisory_lock_shared($1, $2)", _SHARD_LOCKS, _ALL_SHARDS):
        return (
            "A bot that is not sharded already runs on this PostgreSQL database and serves every server: stop it "
            "first, or shard both (SHARD_COUNT, SHARD_IDS)."
        )
    busy = [s for s in shard_ids if not await conn.fetchval("SELECT pg_try_advisory_lock($1, $2)", _SHARD_LOCKS, s)]
    if not busy:
        return None
    await conn.execute("SELECT pg_advisory_unlock_all()")
    return (
        f"Another bot already runs shard(s) {','.join(map(str, busy))} on this PostgreSQL database: each shard may "
        "run in one process only. Give this one other SHARD_IDS."
    )
