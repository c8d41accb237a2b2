"""The per-server settings registry: typed, validated keys with defaults from `.env`, stored per server."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.settings import DEFAULTS, load_settings
from tickets.errors import InvalidInput
from tickets.server_settings import (
    MAX_OPEN_TICKETS,
    REGISTRY,
    SOLVED_CLOSE_DELAY_HOURS,
    Boolean,
    Choice,
    Integer,
    Number,
    ServerSettingsService,
    SettingsRegistry,
    Text,
    time_zone_problem,
)
from tickets.settings_store import SettingsStore

NOW = datetime(2024, 5, 1, tzinfo=UTC)
README = Path(__file__).resolve().parents[3] / "README.md"


@pytest.mark.parametrize("setting", list(REGISTRY), ids=lambda s: s.key)
def test_every_setting_is_well_formed_and_documented(setting) -> None:
    assert re.fullmatch(r"[a-z][a-z0-9_]{2,40}", setting.key)
    assert setting.description and len(setting.description) <= 100
    if setting.show(setting.default) != "(empty)":
        assert setting.parse(setting.show(setting.default)) == setting.default, "its default is a valid value"
    if setting.env is not None:
        assert setting.env in DEFAULTS, f"{setting.key} names an unknown .env setting"
    assert f"`{setting.key}`" in README.read_text(encoding="utf-8"), f"README does not document {setting.key}"


def test_an_empty_env_gives_the_built_in_defaults() -> None:
    from_env = REGISTRY.with_env_defaults(load_settings({}).env_values)
    assert [(s.key, s.default) for s in from_env] == [(s.key, s.default) for s in REGISTRY]


def test_env_values_become_the_defaults() -> None:
    env = load_settings({"MAX_OPEN_TICKETS": "7", "SOLVED_CLOSE_DELAY_HOURS": "0.5"}).env_values
    registry = REGISTRY.with_env_defaults(env)
    assert registry.get("max_open_tickets").default == 7
    assert registry.get("solved_close_delay_hours").default == 0.5
    assert "DISCORD_TOKEN" not in env and "LLM_API_KEY" not in env, "secrets are never handed on"


@pytest.mark.parametrize(
    ("setting", "raw", "expected"),
    [
        (Integer("n", "d", 1, lo=0, hi=10), " 7 ", 7),
        (Number("h", "d", 1.0, lo=0, hi=10), "2,5", 2.5),
        (Boolean("b", "d", False), "Yes", True),
        (Boolean("b", "d", True), "off", False),
        (Choice("c", "d", "low", choices=("low", "high")), "HIGH", "high"),
        (Text("t", "d", "", max_length=20, check=time_zone_problem), "Europe/Berlin", "Europe/Berlin"),
    ],
)
def test_values_are_read_by_kind(setting, raw: str, expected: object) -> None:
    assert setting.parse(raw) == expected


@pytest.mark.parametrize(
    ("setting", "raw", "message"),
    [
        (Integer("n", "d", 1, lo=0, hi=10), "1.5", "whole number"),
        (Integer("n", "d", 1, lo=0, hi=10), "11", "must be 0–10"),
        (Number("h", "d", 1.0, lo=0, hi=10), "inf", "must be 0–10"),
        (Boolean("b", "d", False), "maybe", "on or off"),
        (Choice("c", "d", "low", choices=("low", "high")), "urgent", "one of: low, high"),
        (Text("t", "d", "", max_length=5), "too long", "at most 5"),
        (Text("t", "d", "", check=time_zone_problem), "Mars/Olympus", "not a time zone"),
    ],
)
def test_bad_values_say_what_is_accepted(setting, raw: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        setting.parse(raw)


def test_a_key_is_registered_once() -> None:
    registry = SettingsRegistry()
    registry.add(Integer("x", "d", 1))
    with pytest.raises(ValueError, match="twice"):
        registry.add(Integer("x", "d", 2))


async def test_adding_a_setting_is_one_line_and_it_is_stored_per_server(memory_db) -> None:
    registry = REGISTRY.with_env_defaults({})
    # A key the registry does not hold yet (reopen_window_hours, the docstring's example, is real now).
    reopen = registry.add(Number("example_window_hours", "Hours after closing an example lasts", 48.0, lo=0, hi=720))
    service = ServerSettingsService(SettingsStore(memory_db), registry)

    await service.set(1, "example_window_hours", "12", by=9, now=NOW)

    assert (await service.of(1)).get(reopen) == 12.0
    assert (await service.of(2)).get(reopen) == 48.0
    fresh = ServerSettingsService(SettingsStore(memory_db), registry)  # another process / a restart
    assert (await fresh.of(1)).get(reopen) == 12.0 and (await fresh.of(1)).is_set(reopen)
    await fresh.reset(1, "example_window_hours")
    assert not (await fresh.of(1)).is_set(reopen)


async def test_a_refused_value_stores_nothing_and_a_stale_one_falls_back(memory_db) -> None:
    service = ServerSettingsService(SettingsStore(memory_db), REGISTRY.with_env_defaults({"MAX_OPEN_TICKETS": "4"}))
    with pytest.raises(InvalidInput):
        await service.set(1, "max_open_tickets", "1000", by=9, now=NOW)
    assert await service.store.values(1) == {}
    await service.store.put(1, "max_open_tickets", "banana", by=9, now=NOW)  # e.g. a range narrowed later
    await service.store.put(1, "gone_setting", "1", by=9, now=NOW)
    settings = await ServerSettingsService(service.store, service.registry).of(1)
    assert settings.get(MAX_OPEN_TICKETS) == 4
    assert settings.seconds(SOLVED_CLOSE_DELAY_HOURS) == 3600
    assert settings.seconds(MAX_OPEN_TICKETS, per=60) == 240, "whole-number settings convert too (e.g. minutes)"
