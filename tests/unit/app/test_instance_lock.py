"""One bot per database (issue 7, item 5a): a second `python bot.py run` on the same DB_PATH is refused
with a clear message, the admin tools still work next to a running bot, and kill -9 frees the lock."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import EXIT_ALREADY_RUNNING
from app.instance import AnotherInstanceRunning, InstanceLock, PgShardLock, lock_path

ROOT = Path(__file__).resolve().parents[3]

# `python bot.py run` with discord.py's Client.run replaced by a stand-in that "serves" without any
# network: the real CLI, settings and instance lock, and never a connection to Discord.
RUN_WITHOUT_DISCORD = """
import sys, time
import discord
def serve(self, *args, **kwargs):
    print("serving", flush=True)
    time.sleep(float(sys.argv[1]))
discord.Client.run = serve
sys.path.insert(0, sys.argv[2])
import bot
sys.exit(bot.main(["run"]))
"""


def _env(tmp_path: Path, fake_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OLLAMA", "DISCORD", "LLM_", "DB_PATH"))}
    env.update(
        {"DB_PATH": str(tmp_path / "data" / "bot.db"), "DISCORD_TOKEN": "token-never-used", "OLLAMA_URL": fake_url}
    )
    return env


def _start_bot(tmp_path: Path, env: dict[str, str], seconds: float = 60) -> subprocess.Popen[str]:
    # cwd=tmp_path so a developer's own .env is not picked up
    return subprocess.Popen(
        [sys.executable, "-c", RUN_WITHOUT_DISCORD, str(seconds), str(ROOT)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _wait_serving(proc: subprocess.Popen[str]) -> None:
    line = proc.stdout.readline() if proc.stdout else ""
    assert line.strip() == "serving", f"the bot did not start: {line!r} {proc.stderr.read() if proc.stderr else ''}"


def test_second_lock_on_one_database_is_refused_until_released(tmp_path):
    db = tmp_path / "bot.db"
    first = InstanceLock.acquire(db)
    try:
        with pytest.raises(AnotherInstanceRunning) as refused:
            InstanceLock.acquire(db)
        message = str(refused.value)
        assert str(db) in message and f"process {os.getpid()}" in message and "DB_PATH" in message
        # Another shard set of a (future) sharded deployment is a lock of its own.
        with InstanceLock.acquire(db, shard_set="1"):
            assert lock_path(db, "1") != lock_path(db)
    finally:
        first.release()
    with InstanceLock.acquire(db):
        pass


def test_second_bot_on_one_database_refuses_to_start_and_tools_still_work(tmp_path, fake_ollama):
    env = _env(tmp_path, fake_ollama.url)
    running = _start_bot(tmp_path, env)
    try:
        _wait_serving(running)
        second = _start_bot(tmp_path, env, seconds=0)
        out, err = second.communicate(timeout=60)
        assert second.returncode == EXIT_ALREADY_RUNNING, out + err
        assert "serving" not in out
        assert "Another bot is already running on the database" in err and f"process {running.pid}" in err
        # The admin tools share the database with the running bot.
        faq = tmp_path / "faq.jsonl"
        faq.write_text(json.dumps({"query": "Opening hours?", "response": "9 to 5."}) + "\n", encoding="utf-8")
        tool = subprocess.run(
            [sys.executable, str(ROOT / "bot.py"), "train", "import", str(faq), "--guild", "1"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert tool.returncode == 0, tool.stdout + tool.stderr
        assert "added 1" in tool.stdout
    finally:
        running.kill()
        running.communicate(timeout=30)


def test_a_killed_bot_leaves_no_stale_lock(tmp_path, fake_ollama):
    env = _env(tmp_path, fake_ollama.url)
    running = _start_bot(tmp_path, env)
    _wait_serving(running)
    os.kill(running.pid, signal.SIGKILL)
    running.communicate(timeout=30)
    assert lock_path(Path(env["DB_PATH"])).exists()  # the file stays; the OS dropped the lock itself
    after = _start_bot(tmp_path, env, seconds=0)
    out, err = after.communicate(timeout=60)
    assert after.returncode == 0 and out.strip() == "serving", out + err


# -- PostgreSQL: several processes on one database, one per shard set (issue 12) --------------------------------


def test_processes_on_one_postgresql_database_each_lock_their_own_shards(pg_session_db: str) -> None:
    first = PgShardLock.acquire(pg_session_db, (0, 1))
    second = PgShardLock.acquire(pg_session_db, (2, 3))  # other shards: both run
    try:
        with pytest.raises(AnotherInstanceRunning, match=r"shard\(s\) 1 "):
            PgShardLock.acquire(pg_session_db, (1, 4))
        with pytest.raises(AnotherInstanceRunning, match="not sharded serves every server"):
            PgShardLock.acquire(pg_session_db, None)
        # The refused attempt kept nothing: shard 4 is free.
        PgShardLock.acquire(pg_session_db, (4,)).release()
    finally:
        first.release()
    again = PgShardLock.acquire(pg_session_db, (0, 1))  # released with its process
    again.release()
    second.release()
    whole = PgShardLock.acquire(pg_session_db, None)
    try:
        with pytest.raises(AnotherInstanceRunning, match="not sharded already runs"):
            PgShardLock.acquire(pg_session_db, (0,))
    finally:
        whole.release()
