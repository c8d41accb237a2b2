"""The dashboard over a database filled through the real ticket flow (see seed.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.web.seed import Seeded, seed


@pytest.fixture
async def seeded(simcord_env, fake_ollama) -> AsyncIterator[Seeded]:
    yield await seed(simcord_env, fake_ollama)
