"""One bot per database: an OS lock on a file next to the database, held for as long as the bot runs.

Two bots on one database would both answer every ticket and each serve answers the other deleted.
The lock is the operating system's (flock, or msvcrt on Windows): it belongs to the open file, so it
ends with the process however that ends (kill -9 included) and can never go stale. The admin tools
(check, ask, search, train) do not take it: they share the database with a running bot by design.

A future sharded deployment (several bot processes on one database, each serving its own shards)
would pass its shard set, so that each set is locked on its own (`lock_path(db, shard_set="0-3")`).
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

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
