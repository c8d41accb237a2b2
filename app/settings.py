"""Typed configuration read once from the environment / `.env`, with every default in one place.

`DEFAULTS` is the one list of settings and their defaults (`.env.example` documents exactly these
keys; a test keeps the two in step). `load_settings` collects every problem instead of stopping at
the first, so an admin fixes their `.env` in one pass. The token is kept in a `Secret` that never prints.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from ai.settings import BACKENDS, LLMSettings, ServerSpec
from web.settings import WebSettings

# Every setting the bot reads, with its default as it would be written in `.env` ("" = unset).
DEFAULTS: dict[str, str] = {
    "DISCORD_TOKEN": "",
    "LLM_BACKEND": "ollama",
    "LLM_URL": "",  # by backend: DEFAULT_URLS; several, comma-separated, for a pool of servers
    "LLM_MODEL": "llama3",
    "EMBED_BACKEND": "",  # LLM_BACKEND
    "EMBED_URL": "",  # the chat servers (LLM_URL), or EMBED_BACKEND's usual URL when that differs
    "EMBED_MODEL": "all-minilm",
    "EMBED_SCALE": "auto",
    "LLM_API_KEY": "",
    "LLM_MAX_CONCURRENCY": "2",
    "LLM_SERVER_REQUESTS_PER_MINUTE": "30",
    "LLM_CONNECT_TIMEOUT": "5",
    "LLM_FIRST_TOKEN_TIMEOUT": "120",
    "LLM_CHUNK_TIMEOUT": "30",
    "LLM_TOTAL_TIMEOUT": "300",
    "LLM_KEEP_ALIVE": "30m",
    "LLM_NUM_CTX": "4096",
    "LLM_TEMPERATURE": "0.3",
    "LLM_NUM_PREDICT": "512",
    "SYSTEM_PROMPT_FILE": "",
    "DB_PATH": "data/bot.db",
    "DATABASE_URL": "",  # postgresql://… selects PostgreSQL; empty: SQLite at DB_PATH
    "SIMILARITY_THRESHOLD": "",  # the calibrated default (memory.decision.Thresholds)
    "GENERATE_PHRASINGS": "false",
    "MAX_CONTEXT_LENGTH": "6000",
    "HISTORY_MESSAGES": "16",
    "ANSWER_CHECKS": "true",
    "MAX_OPEN_TICKETS": "3",
    "TICKET_COOLDOWN_SECONDS": "60",
    "USER_ANSWERS_PER_MINUTE": "5",
    "SOLVED_CLOSE_DELAY_HOURS": "1",
    "IDLE_WARN_HOURS": "48",
    "IDLE_CLOSE_AFTER_WARN_HOURS": "24",
    "AUTOCLOSE_CHECK_SECONDS": "60",
    "MEMORY_SYNC_SECONDS": "5",
    "LOG_LEVEL": "info",
    "SHARD_COUNT": "",  # no sharding: one gateway connection
    "SHARD_IDS": "",  # every shard of SHARD_COUNT
    "WEB_ENABLED": "false",
    "WEB_IN_BOT": "true",
    "WEB_HOST": "127.0.0.1",
    "WEB_PORT": "8088",
    "WEB_PUBLIC_URL": "",  # http://WEB_HOST:WEB_PORT
}
DEFAULT_URLS = {"ollama": "http://127.0.0.1:11434", "openai": "http://127.0.0.1:8080"}
# Older names still accepted (the first backend was Ollama; the embedding model was LLM_EMBED_MODEL
# before it got its own server settings); the new name wins when both are set, and an alias may
# itself have an older alias (EMBED_MODEL → LLM_EMBED_MODEL → OLLAMA_EMBED_MODEL).
ALIASES: dict[str, str] = {
    "LLM_URL": "OLLAMA_URL",
    "LLM_MODEL": "OLLAMA_MODEL",
    "EMBED_MODEL": "LLM_EMBED_MODEL",
    "LLM_EMBED_MODEL": "OLLAMA_EMBED_MODEL",
}
# Never handed on with `Settings.env_values`.
SECRETS = ("DISCORD_TOKEN", "LLM_API_KEY")
# Writing one of these as the embedding model turns embeddings off (keyword search only).
EMBEDDINGS_OFF = ("none", "off", "-")
# EMBED_SCALE: measure the embedding model's cosine scale and map it onto the bars' (memory/scale.py), or not.
EMBED_SCALES = ("auto", "native")


class ConfigError(Exception):
    """Raised with one human-readable line per configuration problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class Secret(str):
    """A string whose repr/str never reveal the value (so it cannot leak into logs)."""

    def __repr__(self) -> str:
        return "Secret('********')" if self else "Secret('')"

    def __str__(self) -> str:
        return "********" if self else ""

    def reveal(self) -> str:
        return str.__str__(self)


@dataclass(frozen=True)
class ShardSettings:
    """Which Discord shards this process connects (SHARD_COUNT / SHARD_IDS, or `run --shards`)."""

    count: int | None = None  # None: not sharded, one connection (a plain commands.Bot)
    ids: tuple[int, ...] | None = None  # None: every shard of `count`

    @property
    def sharded(self) -> bool:
        return self.count is not None

    def owns(self, guild_id: int) -> bool:
        """Whether this process serves `guild_id`: Discord puts a server on shard (id >> 22) % count, and
        per-server background jobs run only where that shard is connected."""
        if self.count is None or self.ids is None:
            return True
        return (guild_id >> 22) % self.count in self.ids

    def describe(self) -> str:
        if self.count is None:
            return "not sharded (one gateway connection)"
        ids = range(self.count) if self.ids is None else self.ids
        return f"shards {','.join(map(str, ids))} of {self.count}"


@dataclass(frozen=True)
class Settings:
    token: Secret = field(repr=False)
    db_path: Path
    # postgresql://…: PostgreSQL (db/postgres.py); None: the SQLite file at db_path. Not in repr (a password).
    database_url: str | None = field(repr=False)
    llm: LLMSettings
    similarity_threshold: float | None  # None: the calibrated default (memory.decision.Thresholds)
    # Ask the model for users' phrasings of each trained question (memory/generated.py).
    generate_phrasings: bool
    max_context_length: int
    history_messages: int
    system_prompt: str | None
    # The guards on model replies (ai/guards.py): off shows the model's reply as it streams, unchecked.
    answer_checks: bool
    max_open_tickets: int
    ticket_cooldown_s: int
    user_answers_per_minute: int  # per user and ticket; 0 = no limit
    solved_close_delay_s: int
    idle_warn_s: int
    idle_close_s: int
    autoclose_check_s: int
    # How often the bot looks for trained answers other processes wrote (memory/sync.py).
    memory_sync_s: int
    log_level: str
    web: WebSettings
    shards: ShardSettings
    # Every setting as given (secrets left out): the defaults of the per-server settings that name one
    # (tickets/server_settings.py), so a server that never ran /settings behaves as `.env` says.
    env_values: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def database(self) -> str | Path:
        """What `app.schema.open_app_database` opens: the PostgreSQL URL if set, else the SQLite file."""
        return self.database_url or self.db_path

    def describe_database(self) -> str:
        """The database for messages: the SQLite path, or the PostgreSQL server and database (no password)."""
        if not self.database_url:
            return str(self.db_path)
        from urllib.parse import urlsplit

        parts = urlsplit(self.database_url)
        return f"PostgreSQL {parts.hostname or 'localhost'}:{parts.port or 5432}{parts.path}"

    def problems_for_run(self) -> list[str]:
        return (
            []
            if self.token.reveal()
            else ["DISCORD_TOKEN is not set: copy it from the developer portal (Bot → Reset Token)."]
        )


class _Reader:
    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.problems: list[str] = []

    def raw(self, name: str) -> tuple[str, str]:
        """(the name the value was given under, the value); the default when it is unset."""
        key: str | None = name
        while key is not None:
            value = self.env.get(key, "").strip()
            if value:
                return key, value
            key = ALIASES.get(key)
        return name, DEFAULTS[name]

    def text(self, name: str) -> str:
        return self.raw(name)[1]

    def number(self, name: str, *, lo: float, hi: float, integer: bool = False) -> float:
        given, raw = self.raw(name)
        default = DEFAULTS[name]
        if not raw:
            return 0.0
        try:
            value = int(raw) if integer else float(raw)
        except ValueError:
            kind = "a whole number" if integer else "a number"
            self.problems.append(f"{given}={raw!r} is not {kind}.")
            return float(default or 0)
        if not lo <= value <= hi:
            self.problems.append(f"{given}={raw} is outside the allowed range {lo:g}–{hi:g}.")
            return float(default or 0)
        return value

    def optional_number(self, name: str, *, lo: float, hi: float) -> float | None:
        _, raw = self.raw(name)
        if not raw:
            return None
        return self.number(name, lo=lo, hi=hi)

    def integer(self, name: str, *, lo: int, hi: int) -> int:
        return int(self.number(name, lo=lo, hi=hi, integer=True))

    def url(self, name: str, default: str) -> str:
        given, value = self.raw(name)
        return self._one_url(given, value or default, default)

    def urls(self, name: str, default: tuple[str, ...]) -> tuple[str, ...]:
        """One URL or several, comma-separated (a pool of servers); duplicates are dropped."""
        given, value = self.raw(name)
        if not value:
            return default
        parts = [part.strip() for part in value.split(",") if part.strip()]
        urls = tuple(dict.fromkeys(self._one_url(given, part, default[0]) for part in parts))
        return urls or default

    def _one_url(self, given: str, value: str, default: str) -> str:
        value = value.rstrip("/")
        parsed = urlparse(value)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            self.problems.append(f"{given}={value!r} is not an http(s) URL such as {default}.")
            return default
        return value

    def concurrency(self, name: str, servers: int) -> tuple[int, ...]:
        """One limit for every server, or one per server (in LLM_URL's order), comma-separated."""
        given, raw = self.raw(name)
        parts = [part.strip() for part in raw.split(",")]
        if len(parts) not in (1, servers):
            self.problems.append(f"{given}={raw!r} must be one number, or one per server of LLM_URL ({servers}).")
            return (int(DEFAULTS[name]),) * servers
        limits = []
        for part in parts:
            if not part.isdigit() or not 1 <= int(part) <= 64:
                self.problems.append(f"{given}={raw!r}: each limit must be a whole number from 1 to 64.")
                return (int(DEFAULTS[name]),) * servers
            limits.append(int(part))
        return tuple(limits) * servers if len(limits) == 1 else tuple(limits)

    def flag(self, name: str) -> bool:
        given, value = self.raw(name)
        value = value.lower()
        if value in ("1", "true", "yes", "on"):
            return True
        if value not in ("0", "false", "no", "off"):
            self.problems.append(f"{given}={value!r} must be true or false.")
        return False

    def choice(self, name: str, options: tuple[str, ...]) -> str:
        given, value = self.raw(name)
        value = value.lower()
        if value not in options:
            self.problems.append(f"{given}={value!r} must be one of: {', '.join(options)}.")
            return DEFAULTS[name]
        return value


def load_settings(
    env: Mapping[str, str] | None = None, *, dotenv: bool = True, overrides: Mapping[str, str] | None = None
) -> Settings:
    """Read settings from `env` (default: the process environment, after loading `.env`); `overrides`
    win over both (command-line options such as `run --shards`)."""
    if env is None:
        if dotenv:
            from dotenv import load_dotenv

            load_dotenv(override=False)
        env = os.environ
    if overrides:
        env = {**env, **overrides}
    r = _Reader(env)
    backend = r.choice("LLM_BACKEND", BACKENDS)
    urls = r.urls("LLM_URL", (DEFAULT_URLS[backend],))
    limits = r.concurrency("LLM_MAX_CONCURRENCY", len(urls))
    embed_backend = (r.choice("EMBED_BACKEND", BACKENDS) if r.text("EMBED_BACKEND") else "") or backend
    # Unset: the chat servers, unless embeddings are asked of another kind of server than chat.
    embed_urls = r.urls("EMBED_URL", urls if embed_backend == backend else (DEFAULT_URLS[embed_backend],))
    embed_model = r.text("EMBED_MODEL")
    llm = LLMSettings(
        backend=backend,
        base_url=urls[0],
        servers=tuple(ServerSpec(url, limit) for url, limit in zip(urls, limits, strict=True)),
        embed_backend=embed_backend,
        embed_urls=embed_urls,
        model=r.text("LLM_MODEL"),
        embed_model=None if embed_model.lower() in EMBEDDINGS_OFF else embed_model,
        embed_scale=r.choice("EMBED_SCALE", EMBED_SCALES),
        api_key=r.text("LLM_API_KEY") or None,
        connect_timeout=r.number("LLM_CONNECT_TIMEOUT", lo=0.1, hi=120),
        first_token_timeout=r.number("LLM_FIRST_TOKEN_TIMEOUT", lo=1, hi=1800),
        chunk_timeout=r.number("LLM_CHUNK_TIMEOUT", lo=1, hi=600),
        total_timeout=r.number("LLM_TOTAL_TIMEOUT", lo=1, hi=3600),
        keep_alive=r.text("LLM_KEEP_ALIVE"),
        num_ctx=r.integer("LLM_NUM_CTX", lo=512, hi=262144),
        temperature=r.number("LLM_TEMPERATURE", lo=0, hi=2),
        num_predict=r.integer("LLM_NUM_PREDICT", lo=16, hi=8192),
        max_concurrency=max(limits),
        server_requests_per_minute=r.integer("LLM_SERVER_REQUESTS_PER_MINUTE", lo=0, hi=100_000),
    )
    system_prompt = None
    prompt_file = r.text("SYSTEM_PROMPT_FILE")
    if prompt_file:
        try:
            system_prompt = Path(prompt_file).read_text(encoding="utf-8").strip() or None
        except OSError as exc:
            r.problems.append(f"SYSTEM_PROMPT_FILE={prompt_file!r} cannot be read: {exc.strerror}.")
    hours = 3600
    settings = Settings(
        token=Secret(r.text("DISCORD_TOKEN")),
        db_path=Path(r.text("DB_PATH")),
        database_url=_database_url(r),
        llm=llm,
        similarity_threshold=r.optional_number("SIMILARITY_THRESHOLD", lo=0, hi=1),
        generate_phrasings=r.flag("GENERATE_PHRASINGS"),
        max_context_length=r.integer("MAX_CONTEXT_LENGTH", lo=500, hi=500_000),
        history_messages=r.integer("HISTORY_MESSAGES", lo=1, hi=100),
        system_prompt=system_prompt,
        answer_checks=r.flag("ANSWER_CHECKS"),
        max_open_tickets=r.integer("MAX_OPEN_TICKETS", lo=1, hi=100),
        ticket_cooldown_s=r.integer("TICKET_COOLDOWN_SECONDS", lo=0, hi=86_400),
        user_answers_per_minute=r.integer("USER_ANSWERS_PER_MINUTE", lo=0, hi=1000),
        solved_close_delay_s=int(r.number("SOLVED_CLOSE_DELAY_HOURS", lo=0, hi=720) * hours),
        idle_warn_s=int(r.number("IDLE_WARN_HOURS", lo=0, hi=8760) * hours),
        idle_close_s=int(r.number("IDLE_CLOSE_AFTER_WARN_HOURS", lo=0, hi=8760) * hours),
        autoclose_check_s=r.integer("AUTOCLOSE_CHECK_SECONDS", lo=5, hi=3600),
        memory_sync_s=r.integer("MEMORY_SYNC_SECONDS", lo=1, hi=3600),
        log_level=r.choice("LOG_LEVEL", ("debug", "info", "warning", "error")).upper(),
        web=_web_settings(r),
        shards=_shard_settings(r),
        env_values={name: r.text(name) for name in DEFAULTS if name not in SECRETS},
    )
    if r.problems:
        raise ConfigError(r.problems)
    return settings


def _web_settings(r: _Reader) -> WebSettings:
    host = r.text("WEB_HOST")
    port = r.integer("WEB_PORT", lo=0, hi=65535)  # 0: any free port (tests)
    public = r.text("WEB_PUBLIC_URL")
    if public:
        public = r.url("WEB_PUBLIC_URL", "https://support.example.com")
    else:
        public = f"http://{'[' + host + ']' if ':' in host else host}:{port}"
    return WebSettings(
        enabled=r.flag("WEB_ENABLED"), in_bot=r.flag("WEB_IN_BOT"), host=host, port=port, public_url=public
    )


def _shard_settings(r: _Reader) -> ShardSettings:
    given_count, count_text = r.raw("SHARD_COUNT")
    given_ids, ids_text = r.raw("SHARD_IDS")
    if not count_text:
        if ids_text:
            r.problems.append(f"{given_ids}={ids_text!r} needs SHARD_COUNT (how many shards there are in all).")
        return ShardSettings()
    count = r.integer("SHARD_COUNT", lo=1, hi=100_000)
    if not ids_text:
        return ShardSettings(count)
    parts = [part.strip() for part in ids_text.split(",")]
    if not all(part.isdigit() for part in parts):
        r.problems.append(f"{given_ids}={ids_text!r} must be shard numbers separated by commas, e.g. 0,1.")
        return ShardSettings(count)
    ids = tuple(sorted(set(map(int, parts))))
    if ids[-1] >= count:
        r.problems.append(f"{given_ids}={ids_text!r}: shards are numbered 0 to {count - 1} ({given_count}={count}).")
        return ShardSettings(count)
    return ShardSettings(count, ids)


def default_llm_settings(**changes: Any) -> LLMSettings:
    """The LLM settings an empty `.env` gives, with `changes` (for tools and tests).

    One server, which also embeds, unless `changes` say otherwise: a `base_url` given here is the server.
    """
    one_server: dict[str, Any] = {"servers": (), "embed_backend": None, "embed_urls": ()}
    return replace(load_settings({}).llm, **{**one_server, **changes})


def _database_url(r: _Reader) -> str | None:
    given, url = r.raw("DATABASE_URL")
    url = url.strip()
    if not url:
        return None
    if not url.startswith(("postgresql://", "postgres://")):
        r.problems.append(f"{given} must be a postgresql://user:password@host:port/database URL (or empty for SQLite).")
        return None
    return url
