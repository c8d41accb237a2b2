"""`.env.example` documents exactly the settings the loader reads, with the loader's defaults."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from app.settings import ALIASES, DEFAULTS, load_settings

EXAMPLE = Path(__file__).resolve().parents[3] / ".env.example"


class _Recording(Mapping[str, str]):
    """An empty environment that remembers which keys were asked for."""

    def __init__(self) -> None:
        self.asked: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.asked.add(key)
        return default

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def _example() -> dict[str, str]:
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    pairs = (line.split("=", 1) for line in lines if line.strip() and not line.lstrip().startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


def test_env_example_lists_exactly_the_keys_the_loader_reads() -> None:
    env = _Recording()
    load_settings(env)
    assert env.asked - set(ALIASES.values()) == set(_example())
    assert set(DEFAULTS) == set(_example())


def test_env_example_shows_the_loaders_defaults() -> None:
    assert _example() == DEFAULTS


def test_old_names_are_documented_and_still_read() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    for new, old in ALIASES.items():
        assert old in text, f"{old} (the old name of {new}) is not mentioned in .env.example"
