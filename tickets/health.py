"""Facts about the local installation for /status and `python bot.py check`."""

from __future__ import annotations

from pathlib import Path


def database_size(path: Path) -> int:
    """Bytes on disk, including the WAL and shared-memory files."""
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists())
