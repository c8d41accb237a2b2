"""Typed configuration read once from the environment / `.env`.

`load_settings` collects every problem instead of stopping at the first, so an admin
fixes their `.env` in one pass. The token is kept in a `Secret` that never prints.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from ai.settings import LLMSettings


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
class Settings:
    token: Secret = field(repr=False)
    db_path: Path
    llm: LLMSettings
    similarity_threshold: float | None  # None: the calibrated default (memory.decision.Thresholds)
    max_context_length: int
    history_messages: int
    system_prompt: str | None
    max_open_tickets: int
    ticket_cooldown_s: int
    user_answers_per_minute: int  # per user and ticket; 0 = no limit
    solved_close_delay_s: int
    idle_warn_s: int
    idle_close_s: int
    autoclose_check_s: int
    log_level: str

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

    def text(self, name: str, default: str) -> str:
        value = self.env.get(name, "").strip()
        return value if value else default

    def number(self, name: str, default: float, *, lo: float, hi: float, integer: bool = False) -> float:
        raw = self.env.get(name, "").strip()
        if not raw:
            return default
        try:
            value = int(raw) if integer else float(raw)
        except ValueError:
            kind = "a whole number" if integer else "a number"
            self.problems.append(f"{name}={raw!r} is not {kind}.")
            return default
        if not lo <= value <= hi:
            self.problems.append(f"{name}={raw} is outside the allowed range {lo:g}–{hi:g}.")
            return default
        return value

    def optional_number(self, name: str, *, lo: float, hi: float) -> float | None:
        if not self.env.get(name, "").strip():
            return None
        return self.number(name, 0.0, lo=lo, hi=hi)

    def integer(self, name: str, default: int, *, lo: int, hi: int) -> int:
        return int(self.number(name, default, lo=lo, hi=hi, integer=True))

    def url(self, name: str, default: str) -> str:
        value = self.text(name, default).rstrip("/")
        parsed = urlparse(value)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            self.problems.append(f"{name}={value!r} is not an http(s) URL such as http://127.0.0.1:11434.")
            return default
        return value

    def choice(self, name: str, default: str, options: tuple[str, ...]) -> str:
        value = self.text(name, default).lower()
        if value not in options:
            self.problems.append(f"{name}={value!r} must be one of: {', '.join(options)}.")
            return default
        return value


def load_settings(env: Mapping[str, str] | None = None, *, dotenv: bool = True) -> Settings:
    """Read settings from `env` (default: the process environment, after loading `.env`)."""
    if env is None:
        if dotenv:
            from dotenv import load_dotenv

            load_dotenv(override=False)
        env = os.environ
    r = _Reader(env)
    backend = r.choice("LLM_BACKEND", "ollama", ("ollama", "openai"))
    default_url = "http://127.0.0.1:11434" if backend == "ollama" else "http://127.0.0.1:8080"
    llm = LLMSettings(
        backend=backend,
        base_url=r.url("OLLAMA_URL", default_url),
        model=r.text("OLLAMA_MODEL", "llama3"),
        embed_model=_optional(r.text("OLLAMA_EMBED_MODEL", "all-minilm")),
        api_key=r.text("LLM_API_KEY", "") or None,
        connect_timeout=r.number("LLM_CONNECT_TIMEOUT", 5.0, lo=0.1, hi=120),
        first_token_timeout=r.number("LLM_FIRST_TOKEN_TIMEOUT", 120.0, lo=1, hi=1800),
        chunk_timeout=r.number("LLM_CHUNK_TIMEOUT", 30.0, lo=1, hi=600),
        total_timeout=r.number("LLM_TOTAL_TIMEOUT", 300.0, lo=1, hi=3600),
        keep_alive=r.text("LLM_KEEP_ALIVE", "30m"),
        num_ctx=r.integer("LLM_NUM_CTX", 4096, lo=512, hi=262144),
        temperature=r.number("LLM_TEMPERATURE", 0.3, lo=0, hi=2),
        num_predict=r.integer("LLM_NUM_PREDICT", 512, lo=16, hi=8192),
        max_concurrency=r.integer("LLM_MAX_CONCURRENCY", 2, lo=1, hi=64),
        server_requests_per_minute=r.integer("LLM_SERVER_REQUESTS_PER_MINUTE", 30, lo=0, hi=100_000),
    )
    system_prompt = None
    prompt_file = r.text("SYSTEM_PROMPT_FILE", "")
    if prompt_file:
        try:
            system_prompt = Path(prompt_file).read_text(encoding="utf-8").strip() or None
        except OSError as exc:
            r.problems.append(f"SYSTEM_PROMPT_FILE={prompt_file!r} cannot be read: {exc.strerror}.")
    hours = 3600
    settings = Settings(
        token=Secret(r.text("DISCORD_TOKEN", "")),
        db_path=Path(r.text("DB_PATH", "data/bot.db")),
        llm=llm,
        similarity_threshold=r.optional_number("SIMILARITY_THRESHOLD", lo=0, hi=1),
        max_context_length=r.integer("MAX_CONTEXT_LENGTH", 6000, lo=500, hi=500_000),
        history_messages=r.integer("HISTORY_MESSAGES", 16, lo=1, hi=100),
        system_prompt=system_prompt,
        max_open_tickets=r.integer("MAX_OPEN_TICKETS", 3, lo=1, hi=100),
        ticket_cooldown_s=r.integer("TICKET_COOLDOWN_SECONDS", 60, lo=0, hi=86_400),
        user_answers_per_minute=r.integer("USER_ANSWERS_PER_MINUTE", 5, lo=0, hi=1000),
        solved_close_delay_s=int(r.number("SOLVED_CLOSE_DELAY_HOURS", 1, lo=0, hi=720) * hours),
        idle_warn_s=int(r.number("IDLE_WARN_HOURS", 48, lo=0, hi=8760) * hours),
        idle_close_s=int(r.number("IDLE_CLOSE_AFTER_WARN_HOURS", 24, lo=0, hi=8760) * hours),
        autoclose_check_s=r.integer("AUTOCLOSE_CHECK_SECONDS", 60, lo=5, hi=3600),
        log_level=r.choice("LOG_LEVEL", "info", ("debug", "info", "warning", "error")).upper(),
    )
    if r.problems:
        raise ConfigError(r.problems)
    return settings


def _optional(value: str) -> str | None:
    return None if value.lower() in ("none", "off", "-") else value
