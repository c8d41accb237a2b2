"""Fixtures for the fake Ollama / OpenAI-compatible servers."""
