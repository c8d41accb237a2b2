"""Shared fixtures. LLM fakes live in fixtures_llm.py, memory helpers in fixtures_memory.py."""

pytest_plugins = ["tests.fixtures_llm", "tests.fixtures_memory"]
