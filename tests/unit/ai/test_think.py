"""Thinking never reaches users: `think: false` is sent, and thinking in the text is removed."""

from __future__ import annotations

import aiohttp
import pytest

from ai.factory import create_llm_client
from ai.think import strip_think, thinking_open
from tests.fakes.ollama import FakeOllama, Reply
from tests.fixtures_llm import fast_settings


@pytest.mark.parametrize(
    ("text", "clean"),
    [
        ("<think>hmm</think>Answer.", "Answer."),
        ("<think>\nstep 1\nstep 2\n</think>\n\nAnswer.", "Answer."),
        ("<THINK>a</THINK>One.<thinking>b</thinking> Two.", "One. Two."),
        ("step 1, step 2</think>Answer.", "Answer."),  # the template wrote the opening tag
        ("Answer.<think>more thoughts that never end", "Answer."),
        ("<reasoning>x</reasoning>Answer.", "Answer."),
        ("<think>only thoughts", ""),
        ("No thinking here, 2 < 3.", "No thinking here, 2 < 3."),
    ],
)
def test_strip_think(text: str, clean: str) -> None:
    assert strip_think(text) == clean


def test_thinking_open_while_streaming() -> None:
    assert thinking_open("<think>still going")
    assert thinking_open("<thi")  # may become <think>
    assert thinking_open("Answer <")
    assert not thinking_open("<think>done</think> Answer")
    assert not thinking_open("Answer with 2 < 3 in it")


async def test_ollama_requests_say_think_false(fake_ollama: FakeOllama, http_session: aiohttp.ClientSession) -> None:
    fake_ollama.script(Reply("Open Settings.", thinking="The user asks about settings."))
    client = create_llm_client(fast_settings(fake_ollama.url), http_session)
    result = await client.chat([{"role": "user", "content": "where are the settings"}])
    [body] = fake_ollama.chat_requests()
    assert body["think"] is False
    assert result.text == "Open Settings."  # the fake skips thinking when told to, as Ollama does


async def test_a_server_that_ignores_think_false_still_shows_no_thinking(
    fake_ollama: FakeOllama, http_session: aiohttp.ClientSession
) -> None:
    # The fake streams thinking into the text unless think is false; here we ask without the flag.
    fake_ollama.script(Reply("Open Settings.", thinking="The user asks about settings.", chunk_size=4))
    async with http_session.post(
        f"{fake_ollama.url}/api/chat", json={"model": "llama3", "messages": [], "stream": False}
    ) as response:
        text = (await response.json())["message"]["content"]
    assert text.startswith("<think>")
    assert strip_think(text) == "Open Settings."
