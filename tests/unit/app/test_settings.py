"""Configuration from the environment: defaults, one line per problem, secrets never shown."""

from __future__ import annotations

import pytest

from app.settings import ConfigError, load_settings


def test_defaults_need_only_the_token():
    s = load_settings({"DISCORD_TOKEN": "abc"})
    assert s.llm.base_url == "http://127.0.0.1:11434" and s.llm.model == "llama3"
    assert s.llm.embed_model == "all-minilm" and s.similarity_threshold is None
    assert str(s.db_path) == "data/bot.db" and s.max_open_tickets == 3
    assert s.solved_close_delay_s == 3600 and s.idle_warn_s == 48 * 3600
    assert s.problems_for_run() == []


def test_every_problem_is_reported_at_once():
    with pytest.raises(ConfigError) as err:
        load_settings(
            {
                "OLLAMA_URL": "ftp://x",
                "SIMILARITY_THRESHOLD": "1.2",
                "MAX_CONTEXT_LENGTH": "lots",
                "LLM_BACKEND": "gpt",
                "SYSTEM_PROMPT_FILE": "/nonexistent/prompt.txt",
            }
        )
    problems = "\n".join(err.value.problems)
    assert len(err.value.problems) == 5
    for name in ("OLLAMA_URL", "SIMILARITY_THRESHOLD", "MAX_CONTEXT_LENGTH", "LLM_BACKEND", "SYSTEM_PROMPT_FILE"):
        assert name in problems


def test_token_and_api_key_never_appear_in_reprs():
    s = load_settings({"DISCORD_TOKEN": "tok-123", "LLM_API_KEY": "key-456", "LLM_BACKEND": "openai"})
    text = repr(s) + str(s) + repr(s.token) + str(s.token) + repr(s.llm)
    assert "tok-123" not in text and "key-456" not in text
    assert s.token.reveal() == "tok-123" and s.llm.api_key == "key-456"
    assert s.llm.base_url == "http://127.0.0.1:8080"  # the openai backend's usual port


def test_missing_token_is_a_run_problem_only():
    s = load_settings({})
    assert any("DISCORD_TOKEN" in p for p in s.problems_for_run())


def test_llm_names_and_their_old_ollama_names():
    s = load_settings({"LLM_URL": "http://gpu:11434", "LLM_MODEL": "qwen2.5", "LLM_EMBED_MODEL": "nomic-embed-text"})
    assert (s.llm.base_url, s.llm.model, s.llm.embed_model) == ("http://gpu:11434", "qwen2.5", "nomic-embed-text")
    old = load_settings({"OLLAMA_URL": "http://gpu:11434", "OLLAMA_MODEL": "qwen2.5", "OLLAMA_EMBED_MODEL": "none"})
    assert (old.llm.base_url, old.llm.model, old.llm.embed_model) == ("http://gpu:11434", "qwen2.5", None)
    both = load_settings({"LLM_MODEL": "new", "OLLAMA_MODEL": "old"})
    assert both.llm.model == "new"
    with pytest.raises(ConfigError) as err:
        load_settings({"LLM_URL": "ftp://x"})
    assert err.value.problems[0].startswith("LLM_URL=")


def test_system_prompt_file_and_embed_off(tmp_path):
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("You are the helper of Example Games.\n", encoding="utf-8")
    s = load_settings({"SYSTEM_PROMPT_FILE": str(prompt), "OLLAMA_EMBED_MODEL": "none", "SIMILARITY_THRESHOLD": "0.9"})
    assert s.system_prompt == "You are the helper of Example Games."
    assert s.llm.embed_model is None and s.similarity_threshold == 0.9


def test_zero_delays_disable_auto_close():
    s = load_settings({"SOLVED_CLOSE_DELAY_HOURS": "0", "IDLE_WARN_HOURS": "0"})
    assert s.solved_close_delay_s == 0 and s.idle_warn_s == 0


def test_pacing_settings_have_defaults_and_zero_turns_them_off():
    s = load_settings({})
    assert s.user_answers_per_minute == 5 and s.llm.server_requests_per_minute == 30
    s = load_settings({"USER_ANSWERS_PER_MINUTE": "0", "LLM_SERVER_REQUESTS_PER_MINUTE": "0"})
    assert s.user_answers_per_minute == 0 and s.llm.server_requests_per_minute == 0
    with pytest.raises(ConfigError) as err:
        load_settings({"USER_ANSWERS_PER_MINUTE": "-1", "LLM_SERVER_REQUESTS_PER_MINUTE": "many"})
    assert len(err.value.problems) == 2


def test_web_dashboard_settings_default_to_off_and_local():
    s = load_settings({})
    assert not s.web.enabled and s.web.host == "127.0.0.1" and s.web.port == 8088
    assert s.web.public_url == "http://127.0.0.1:8088" and not s.web.secure_cookies
    proxied = load_settings({"WEB_ENABLED": "true", "WEB_PUBLIC_URL": "https://support.example.com/"})
    assert proxied.web.enabled and proxied.web.public_url == "https://support.example.com"
    assert proxied.web.secure_cookies
    with pytest.raises(ConfigError) as err:
        load_settings({"WEB_ENABLED": "maybe", "WEB_PORT": "70000", "WEB_PUBLIC_URL": "support.example.com"})
    assert len(err.value.problems) == 3
