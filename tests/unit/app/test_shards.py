"""SHARD_COUNT / SHARD_IDS and `run --shards --shard-count`: which shards a process runs and which servers
it owns."""

from __future__ import annotations

import pytest
from discord.ext import commands

from app.cli import run_cli
from app.settings import ConfigError, ShardSettings, load_settings
from bot import ShardedTicketBot, TicketBot, create_bot


def test_not_sharded_by_default_and_owns_every_server() -> None:
    shards = load_settings({}).shards
    assert shards == ShardSettings() and not shards.sharded
    assert shards.owns(1) and shards.owns(123456789 << 22)


def test_shard_ids_pick_the_servers_this_process_owns() -> None:
    shards = load_settings({"SHARD_COUNT": "4", "SHARD_IDS": "1, 0,1"}).shards
    assert shards == ShardSettings(4, (0, 1)) and shards.describe() == "shards 0,1 of 4"
    owned = [n for n in range(8) if shards.owns(n << 22)]  # Discord: shard = (guild id >> 22) % count
    assert owned == [0, 1, 4, 5]
    every = load_settings({"SHARD_COUNT": "2"}).shards
    assert every.owns(0 << 22) and every.owns(1 << 22) and every.describe() == "shards 0,1 of 2"


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"SHARD_IDS": "0"}, "needs SHARD_COUNT"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "0,2"}, "numbered 0 to 1"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "zero"}, "separated by commas"),
        ({"SHARD_COUNT": "0"}, "SHARD_COUNT"),
    ],
)
def test_bad_shard_settings_are_named(env: dict[str, str], problem: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(env)
    assert any(problem in p for p in info.value.problems), info.value.problems


def test_a_sharded_bot_is_an_auto_sharded_bot() -> None:
    plain = create_bot(load_settings({"DISCORD_TOKEN": "t"}))
    assert type(plain) is TicketBot and not isinstance(plain, commands.AutoShardedBot)
    sharded = create_bot(load_settings({"DISCORD_TOKEN": "t", "SHARD_COUNT": "4", "SHARD_IDS": "2,3"}))
    assert isinstance(sharded, ShardedTicketBot) and isinstance(sharded, commands.AutoShardedBot)
    assert sharded.shard_count == 4 and sharded.shard_ids == [2, 3]


def test_run_options_override_the_environment(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # no developer .env
    monkeypatch.setenv("DISCORD_TOKEN", "t")
    monkeypatch.setenv("DB_PATH", str(tmp_path / "bot.db"))
    monkeypatch.setenv("SHARD_COUNT", "2")
    started: list[ShardSettings] = []

    class NotConnecting:
        def __init__(self, shards: ShardSettings) -> None:
            self.shards = shards

        def run(self, token: str, **kwargs: object) -> None:
            started.append(self.shards)

    assert run_cli(["run", "--shards", "0,1", "--shard-count", "4"], lambda s: NotConnecting(s.shards)) == 0
    assert started == [ShardSettings(4, (0, 1))]
    assert run_cli(["run", "--shards", "5", "--shard-count", "4"], lambda s: NotConnecting(s.shards)) == 2
    assert len(started) == 1
