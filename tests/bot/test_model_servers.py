"""The bot with chat on one server and embeddings on another (EMBED_URL): each request reaches its own."""

from __future__ import annotations

import pytest

from tests.fakes.openai import Reply
from tests.grounded import REFUND_A_SHORT, REFUND_ASK, REFUND_SUBJECT, answer, train_faq
from tests.sim import make_world


@pytest.mark.bot_env(LLM_BACKEND="openai", LLM_URL="fake_openai", EMBED_BACKEND="ollama", EMBED_URL="fake_ollama")
async def test_search_embeds_on_the_embedding_server_and_the_chat_server_answers(simcord_env, fake_ollama, fake_openai):
    world = await make_world(simcord_env)
    await train_faq(world)
    trained_vectors = len(fake_ollama.requests_to("/api/embed"))
    assert trained_vectors >= 1

    fake_openai.script(Reply(answer(REFUND_A_SHORT)))
    await world.open_ticket(world.alice, REFUND_SUBJECT, REFUND_ASK)
    [thread] = world.forum.threads
    assert world.bot_messages(thread)[-1].content == REFUND_A_SHORT
    assert len(fake_ollama.requests_to("/api/embed")) > trained_vectors, "the question was not embedded"
    assert fake_ollama.chat_requests() == [], "chat went to the embedding server"
    assert fake_openai.requests_to("/v1/embeddings") == [], "embeddings went to the chat server"
    assert len(fake_openai.chat_requests()) == 1
