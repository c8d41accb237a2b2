"""Fixtures for the trained memory: a real database per test (SQLite, or PostgreSQL: tests/fixtures_pg.py) and
deterministic embedders."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from ai.errors import LLMUnavailable
from app.schema import open_app_database
from db.database import Database
from memory.hashed_embedder import HashedEmbedder
from memory.store import TrainedMemory

log = logging.getLogger(__name__)


class DownEmbedder:
    """An embedder whose server is unreachable; counts how often it was asked."""

    # The hashed embedder's server, down: its cosines would be used as they are (memory/hashed_embedder.py).
    native_scale = True

    def __init__(self, model: str = "hashed-trigrams") -> None:
        self.model = model
        self.calls = 0

    async def embed(self, texts: list[str]) -> list[list[float]]:
        self.calls += 1
        raise LLMUnavailable("connection refused")


@pytest.fixture
async def memory_db(tmp_path, pg_url: str | None) -> AsyncIterator[Database]:
    """The application's database, migrated: a SQLite file, or (postgresql variant) a fresh PostgreSQL database."""
    db = await open_app_database(pg_url or tmp_path / "memory.db")
    yield db
    await db.close()


@pytest.fixture
def hashed_embedder() -> HashedEmbedder:
    return HashedEmbedder()


@pytest.fixture
def down_embedder() -> DownEmbedder:
    return DownEmbedder()


@pytest.fixture
def memory(memory_db, hashed_embedder) -> TrainedMemory:
    return TrainedMemory(memory_db, hashed_embedder)


@pytest.fixture
def lexical_memory(memory_db) -> TrainedMemory:
    return TrainedMemory(memory_db)
