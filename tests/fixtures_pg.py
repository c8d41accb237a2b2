"""Both storage backends for the tests: SQLite files always, real PostgreSQL when TEST_DATABASE_URL is set.

`db_backend` is "sqlite" unless a test is parametrized over both (tests/conftest.py does that for the storage
tests and the SimCord suite); its PostgreSQL variant skips, saying why, when TEST_DATABASE_URL is unset
(.ci/run starts a throwaway server and sets it). Each PostgreSQL test gets a database of its own, copied from a
template migrated once per session (CREATE DATABASE … TEMPLATE: ~tens of milliseconds, no migrations per test).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest

TEMPLATE = "ticketbot_template"


def admin_url() -> str | None:
    return os.environ.get("TEST_DATABASE_URL") or None


def url_for(database: str) -> str:
    base = admin_url()
    assert base is not None
    parts = urlsplit(base)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))


def _run(coro: object) -> object:
    return asyncio.run(coro)  # type: ignore[arg-type]  # fixtures set databases up outside the test's loop


async def _admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_url())
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _make_template() -> None:
    from app.schema import open_app_database

    await _admin(f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)")
    await _admin(f"CREATE DATABASE {TEMPLATE}")
    db = await open_app_database(url_for(TEMPLATE))
    await db.close()


@pytest.fixture(scope="session")
def pg_template() -> str:
    """The migrated template every PostgreSQL test database is copied from (made once per session)."""
    if admin_url() is None:
        pytest.skip("PostgreSQL variant: set TEST_DATABASE_URL (e.g. .ci/run starts a server and sets it)")
    _run(_make_template())
    return TEMPLATE


def new_pg_database(template: str | None = TEMPLATE) -> str:
    """A fresh database (migrated, when copied from the template); returns its URL."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    copy = f" TEMPLATE {template} STRATEGY FILE_COPY" if template else ""
    _run(_admin(f"CREATE DATABASE {name}{copy}"))
    return url_for(name)


def drop_pg_database(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    _run(_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture
def db_backend(request: pytest.FixtureRequest) -> str:
    return getattr(request, "param", "sqlite")


@pytest.fixture
def pg_url(db_backend: str, request: pytest.FixtureRequest) -> Iterator[str | None]:
    """A fresh migrated PostgreSQL database's URL for the postgresql variant, None for sqlite."""
    if db_backend != "postgresql":
        yield None
        return
    request.getfixturevalue("pg_template")
    url = new_pg_database()
    yield url
    drop_pg_database(url)
