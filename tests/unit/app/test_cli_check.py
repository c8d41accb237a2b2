"""`python bot.py check` as a subprocess against the fake Ollama server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

from tests.fixtures_pg import fresh_pg_database

ROOT = Path(__file__).resolve().parents[3]


def run_check(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OLLAMA", "DISCORD", "LLM_", "DB_PATH", "DATABASE_URL"))
    }
    base.update({"DB_PATH": str(tmp_path / "check.db"), "DISCORD_TOKEN": "secret-token-value"})
    base.update(env)
    # cwd=tmp_path so a developer's own .env is not picked up
    return subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), "check"], cwd=tmp_path, env=base, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip


def test_check_passes_with_server_and_models(tmp_path, fake_ollama):
    proc = run_check(tmp_path, OLLAMA_URL=fake_ollama.url, OLLAMA_MODEL="llama3")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "model llama3 is available" in proc.stdout
    assert "dashboard: off (WEB_ENABLED=false)" in proc.stdout
    assert (tmp_path / "check.db").exists()
    assert "secret-token-value" not in proc.stdout + proc.stderr


def test_check_says_where_the_dashboard_runs(tmp_path, fake_ollama):
    proc = run_check(tmp_path, OLLAMA_URL=fake_ollama.url, WEB_ENABLED="true", WEB_IN_BOT="false")
    where = "its own process, `python bot.py web` (WEB_IN_BOT=false) on 127.0.0.1:8088"
    assert f"dashboard: served by {where}" in proc.stdout, proc.stdout


def test_check_prints_the_pull_command_for_a_missing_model(tmp_path, fake_ollama):
    proc = run_check(tmp_path, OLLAMA_URL=fake_ollama.url, OLLAMA_MODEL="qwen2.5:7b")
    assert proc.returncode == 1
    assert "ollama pull qwen2.5:7b" in proc.stdout


def test_check_fails_when_the_server_is_down(tmp_path, closed_port_url):
    proc = run_check(tmp_path, OLLAMA_URL=closed_port_url)
    assert proc.returncode == 1
    assert "not reachable" in proc.stdout


def test_bad_config_lists_every_problem_and_exits_2(tmp_path):
    proc = run_check(tmp_path, SIMILARITY_THRESHOLD="1.5", OLLAMA_URL="localhost:11434", MAX_OPEN_TICKETS="lots")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert any("SIMILARITY_THRESHOLD" in line and "0–1" in line for line in lines)
    assert any("OLLAMA_URL" in line for line in lines)
    assert any("MAX_OPEN_TICKETS" in line for line in lines)
    assert "secret-token-value" not in proc.stdout + proc.stderr


def test_run_without_token_exits_2(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bot.py")], cwd=tmp_path, capture_output=True, text=True, timeout=60,
        env={k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"},
    )  # fmt: skip
    assert proc.returncode == 2 and "DISCORD_TOKEN" in proc.stderr


def test_check_lists_every_server_of_a_pool(tmp_path, fake_ollama, closed_port_url):
    proc = run_check(tmp_path, LLM_URL=f"{fake_ollama.url},{closed_port_url}", LLM_MAX_CONCURRENCY="3,1")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"model server {fake_ollama.url} is up (version 0.6.2, 3 at a time)" in proc.stdout
    assert f"model llama3 is available on {fake_ollama.url}" in proc.stdout
    assert f"not reachable at {closed_port_url}" in proc.stdout
    assert "the other servers take its requests" in proc.stdout


def test_check_reports_chat_and_embedding_servers_apart(tmp_path, fake_ollama, fake_openai, closed_port_url):
    split = {"LLM_BACKEND": "openai", "LLM_URL": fake_openai.url, "EMBED_BACKEND": "ollama"}
    proc = run_check(tmp_path, **split, EMBED_URL=fake_ollama.url)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"model server {fake_openai.url} is up" in proc.stdout
    assert f"embedding server {fake_ollama.url} (ollama) has all-minilm" in proc.stdout

    embed_down = run_check(tmp_path, **split, EMBED_URL=closed_port_url)
    assert embed_down.returncode == 1
    assert f"model server {fake_openai.url} is up" in embed_down.stdout
    assert f"embedding server not reachable at {closed_port_url}" in embed_down.stdout
    assert "search matches words only" in embed_down.stdout

    chat_down = run_check(tmp_path, **{**split, "LLM_URL": closed_port_url}, EMBED_URL=fake_ollama.url)
    assert chat_down.returncode == 1
    assert f"model server not reachable at {closed_port_url}" in chat_down.stdout
    assert f"embedding server {fake_ollama.url} (ollama) has all-minilm" in chat_down.stdout


def test_check_reports_the_shard_settings(tmp_path, fake_ollama):
    plain = run_check(tmp_path, LLM_URL=fake_ollama.url)
    assert "✓ Discord: not sharded (one gateway connection)" in plain.stdout
    sharded = run_check(tmp_path, LLM_URL=fake_ollama.url, SHARD_COUNT="4", SHARD_IDS="0,1")
    assert sharded.returncode == 0 and "✓ Discord: shards 0,1 of 4" in sharded.stdout


def test_check_opens_and_migrates_a_postgresql_database(tmp_path, fake_ollama, pg_session_db):
    url = fresh_pg_database().replace("postgres@", "postgres:pg-secret@")  # trust auth ignores the password
    proc = run_check(tmp_path, OLLAMA_URL=fake_ollama.url, OLLAMA_MODEL="llama3", DATABASE_URL=url)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (
        f"✓ database PostgreSQL 127.0.0.1:{urlsplit(url).port}/" in proc.stdout and "schema up to date" in proc.stdout
    )
    assert "pg-secret" not in proc.stdout + proc.stderr
    assert not (tmp_path / "check.db").exists()


def test_check_fails_when_postgresql_is_unreachable(tmp_path, fake_ollama, closed_port_url):
    port = urlsplit(closed_port_url).port
    proc = run_check(tmp_path, OLLAMA_URL=fake_ollama.url, DATABASE_URL=f"postgresql://bot:pw@127.0.0.1:{port}/bot")
    assert proc.returncode == 1
    assert f"✗ database PostgreSQL 127.0.0.1:{port}/bot" in proc.stdout


def test_a_database_url_that_is_not_postgresql_is_a_config_problem(tmp_path):
    proc = run_check(tmp_path, DATABASE_URL="mysql://db/bot")
    assert proc.returncode == 2 and "DATABASE_URL" in proc.stderr


def test_check_reports_the_embedding_models_scale(tmp_path, fake_ollama):
    # The fake's hashed trigrams, measured against all-MiniLM's reference set: spelling is not meaning.
    proc = run_check(tmp_path, OLLAMA_URL=fake_ollama.url, EMBED_SCALE="auto")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "⚠ all-minilm separates paraphrases poorly" in proc.stdout
    assert "saved answers are sent only through the model" in proc.stdout
    native = run_check(tmp_path, OLLAMA_URL=fake_ollama.url, EMBED_SCALE="native")
    assert "✓ all-minilm: cosines used as the model gives them (EMBED_SCALE=native)" in native.stdout
