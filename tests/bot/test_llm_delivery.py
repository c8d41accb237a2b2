"""How LLM answers reach a ticket in the real bot under SimCord: streaming edits, long answers,
the queue, timeouts, close summaries and the OpenAI-compatible backend.

The fake servers stream in real time (their own thread); SimCord virtualises time.monotonic
inside the bot. Streaming throttles and request deadlines use a real clock (see
ai/delivery.py, ai/client.py), so the timings asserted here are real seconds.
"""

from __future__ import annotations

import math
import time

import pytest

from ai.delivery import TYPING_MARKER
from ai.summary import SUMMARY_PROMPT
from tests.fakes.ollama import FakeOllama, Reply
from tests.fakes.openai import FakeOpenAI
from tests.grounded import REFUND_A, REFUND_A_SHORT, REFUND_ASK, REFUND_SUBJECT, train_faq
from tests.grounded import answer as grounded
from tests.sim import make_world, text_of

STOPPED_NOTE = "The AI assistant stopped before finishing this answer."


def _labels(message) -> list[str]:
    return [c.label for row in message.components for c in row.children]


def _requests(env, method: str, path: str) -> list:
    return [r for r in env.http_requests if r.method == method and r.path == path]


def _content_edits(env, thread_id: int, message_id: int) -> list[str]:
    edits = _requests(env, "PATCH", f"/channels/{thread_id}/messages/{message_id}")
    return [r.json["content"] for r in edits if isinstance(r.json, dict) and "content" in r.json]


def _posts(env, thread_id: int) -> list[str]:
    return [r.json.get("content") or "" for r in _requests(env, "POST", f"/channels/{thread_id}/messages")]


async def _open(world, member=None, subject="Question", description=REFUND_ASK):
    await world.open_ticket(member or world.alice, subject, description)
    return next(t for t in reversed(world.forum.threads) if t.name == subject)


# -- streaming -----------------------------------------------------------------------------


async def test_streaming_edits_are_throttled_to_about_one_per_second(simcord_env, fake_ollama: FakeOllama):
    world = await make_world(simcord_env)
    await train_faq(world)
    answer = " ".join([REFUND_A] * 7)  # ~1500 chars: one message
    chunks = 40
    fake_ollama.script(Reply(grounded(answer), chunk_size=math.ceil(len(answer) / chunks), chunk_delay=0.05))

    started = time.perf_counter()
    thread = await _open(world, subject="Streaming")
    elapsed = time.perf_counter() - started

    [message] = world.bot_messages(thread)[1:]
    assert message.content == answer, "the final content is the whole answer, without the typing marker"
    assert _labels(message) == ["Solved", "Talk to staff"]

    [first_post] = [p for p in _posts(simcord_env, thread.id) if p.endswith(TYPING_MARKER)]
    edits = _content_edits(simcord_env, thread.id, message.id)
    streaming, final = edits[:-1], edits[-1]
    assert final == answer
    assert all(e.endswith(TYPING_MARKER) for e in streaming)
    # ~2 s of streaming at one edit per second: at least one visible update before the end
    # (a frozen throttle clock makes none), and nowhere near one per chunk.
    assert 1 <= len(streaming) <= elapsed + 1, (len(streaming), elapsed)
    assert len(edits) < chunks / 4
    # Each update shows more of the same answer.
    shown = [first_post, *streaming]
    lengths = [len(s) for s in shown]
    assert lengths == sorted(lengths) and all(answer.startswith(s.removesuffix(TYPING_MARKER)) for s in shown)


@pytest.mark.bot_env(LLM_TOTAL_TIMEOUT="2")
async def test_a_stream_that_outlasts_the_total_timeout_stops_on_time(simcord_env, fake_ollama: FakeOllama):
    world = await make_world(simcord_env)
    await train_faq(world)
    answer = " ".join([REFUND_A] * 4)
    # ~7 s if left to finish; what streams in 2 s is enough to be shown (15 words, enough from the notes)
    fake_ollama.script(Reply(grounded(answer), chunk_size=40, chunk_delay=0.3))

    started = time.perf_counter()
    thread = await _open(world, subject="Endless")
    elapsed = time.perf_counter() - started

    assert elapsed < 4, f"LLM_TOTAL_TIMEOUT=2 but the answer took {elapsed:.1f} s"
    [message] = world.bot_messages(thread)[1:]
    assert message.content.startswith("Unused store items") and message.content.endswith(STOPPED_NOTE)
    assert len(message.content) < len(answer)
    assert _labels(message) == ["Solved", "Talk to staff"], "a partial answer is still an answer"


# Unchecked: a 4000-character script no note can hold (answers are at most 1900 characters) would be
# invented code to the checks; the splitting is the same with them on.
@pytest.mark.bot_env(ANSWER_CHECKS="false")
async def test_long_answer_with_code_is_split_with_balanced_fences(simcord_env, fake_ollama: FakeOllama):
    world = await make_world(simcord_env)
    code = "".join(f"    print('configuration line number {i:03d}')\n" for i in range(90))
    answer = (
        "Here is a script that prints your whole configuration.\n\n"
        + "```python\ndef show():\n"
        + code
        + "```\n\nRun it with `python show.py` and paste the output here."
    )
    assert len(answer) > 4000
    fake_ollama.script(Reply(answer, chunk_size=150))

    thread = await _open(world, subject="Long")

    messages = world.bot_messages(thread)[1:]
    assert len(messages) >= 3
    for m in messages:
        assert len(m.content) <= 2000
        assert m.content.count("```") % 2 == 0, f"unbalanced fences in:\n{m.content}"
        assert not m.content.endswith(TYPING_MARKER)
    assert [bool(_labels(m)) for m in messages] == [False] * (len(messages) - 1) + [True]
    assert _labels(messages[-1]) == ["Solved", "Talk to staff"]
    whole = "\n".join(m.content for m in messages)
    for i in range(90):
        assert whole.count(f"print('configuration line number {i:03d}')") == 1
    assert messages[0].content.startswith("Here is a script")
    assert messages[-1].content.endswith("paste the output here.")
    # Messages that continue the code block reopen it with its language.
    assert all(m.content.startswith("```python") for m in messages[1:-1])


# -- the queue -------------------------------------------------------------------------------


@pytest.mark.bot_env(LLM_MAX_CONCURRENCY="1")
async def test_waiting_ticket_sees_its_place_and_the_notice_becomes_the_answer(simcord_env, fake_ollama: FakeOllama):
    world = await make_world(simcord_env)
    await train_faq(world, fake_ollama)
    thread_a = await _open(world, world.alice, "Alice's ticket")
    thread_b = await _open(world, world.bob, "Bob's ticket")
    first_text = f"To get your refund: {REFUND_A}"  # streamed slowly while the other ticket waits
    second_text = REFUND_A_SHORT
    fake_ollama.script(
        Reply(grounded(first_text), chunk_size=6, first_byte_delay=0.5, chunk_delay=0.05),
        Reply(grounded(second_text), chunk_size=6, chunk_delay=0.02),
    )
    calls = len(fake_ollama.chat_requests())
    posts_before = {t.id: len(_posts(simcord_env, t.id)) for t in (thread_a, thread_b)}

    # Actor verbs settle one at a time (SimCord refuses overlapping operations), so the two
    # messages arrive through the backend the way Member.send delivers them, and one
    # settle lets the bot handle both at once.
    backend = simcord_env.backend
    backend.create_message(thread_a.id, world.alice.id, "what about a refund for the skin Alice bought?")
    backend.create_message(thread_b.id, world.bob.id, "what about a refund for the skin Bob bought?")
    await simcord_env.settle(timeout=10)

    requests = fake_ollama.chat_requests()[calls:]
    assert len(requests) == 2 and fake_ollama.max_in_flight == 1
    served_first = thread_a if "Alice" in requests[0]["messages"][-1]["content"] else thread_b
    waited = thread_b if served_first is thread_a else thread_a

    new_posts = _posts(simcord_env, waited.id)[posts_before[waited.id] :]
    assert len(new_posts) == 1 and "you're #1 in line" in new_posts[0], new_posts
    [notice_turned_answer] = world.bot_messages(waited)[-1:]
    assert notice_turned_answer.content == second_text
    assert second_text in _content_edits(simcord_env, waited.id, notice_turned_answer.id)
    assert _labels(notice_turned_answer) == ["Solved", "Talk to staff"]
    assert not any("in line" in m.content for m in world.bot_messages(waited))

    first_posts = _posts(simcord_env, served_first.id)[posts_before[served_first.id] :]
    assert not any("in line" in p for p in first_posts), "the ticket served at once was never queued"
    assert world.bot_messages(served_first)[-1].content == first_text
    assert _labels(world.bot_messages(served_first)[-1]) == ["Solved", "Talk to staff"]
    routes = await world.core.store.routes_since(world.guild.id, simcord_env.now().replace(year=2000))
    assert routes == {"llm": 4}  # two opening answers and the two overlapping ones


# -- close summaries -------------------------------------------------------------------------


def _summary(message) -> str:
    [embed] = message.embeds
    return {f.name: f.value for f in embed.fields}["Summary"]


async def test_close_uses_the_model_summary(simcord_env, fake_ollama: FakeOllama):
    world = await make_world(simcord_env)
    await train_faq(world)
    fake_ollama.script(Reply(grounded(REFUND_A_SHORT)))
    thread = await _open(world, subject=REFUND_SUBJECT)
    summary = "Alice asked how to get a refund for a skin; the assistant pointed her to Settings → Store."
    fake_ollama.script(Reply(summary, chunk_size=10))

    result = await world.alice.slash(thread, "close", reason="answered")

    assert "closed" in text_of(result).lower()
    assert _summary(world.bot_messages(thread)[-1]) == summary
    assert _summary(world.log_channel.last_message) == summary
    prompt = fake_ollama.chat_requests()[-1]["messages"]
    assert prompt[0] == {"role": "system", "content": SUMMARY_PROMPT}
    assert REFUND_ASK in prompt[1]["content"]
    ticket = await world.core.store.get_ticket(thread.id)
    assert ticket.summary == summary


async def test_close_with_the_model_down_uses_the_extractive_summary_quickly(simcord_env, fake_ollama: FakeOllama):
    world = await make_world(simcord_env)
    await train_faq(world)
    fake_ollama.script(Reply(grounded(REFUND_A_SHORT)))
    thread = await _open(world, subject=REFUND_SUBJECT)
    fake_ollama.stop()

    started = time.perf_counter()
    result = await world.alice.slash(thread, "close")
    elapsed = time.perf_counter() - started

    assert "closed" in text_of(result).lower()
    assert elapsed < 1.5, f"closing took {elapsed:.1f} s with the model down"
    summary = _summary(world.bot_messages(thread)[-1])
    assert summary.startswith(f"Subject: {REFUND_SUBJECT}")
    assert REFUND_ASK in summary and "Settings → Store" in summary
    assert _summary(world.log_channel.last_message) == summary


# -- OpenAI-compatible backend ----------------------------------------------------------------


@pytest.mark.bot_env(LLM_BACKEND="openai", LLM_URL="fake_openai")
async def test_openai_compatible_backend_streams_an_answer(
    simcord_env, fake_openai: FakeOpenAI, fake_ollama: FakeOllama
):
    world = await make_world(simcord_env)
    await train_faq(world)
    answer = f"From the OpenAI-compatible server: {REFUND_A_SHORT}"
    fake_openai.script(Reply(grounded(answer), chunk_size=5, chunk_delay=0.01))

    thread = await _open(world, subject=REFUND_SUBJECT)

    [message] = world.bot_messages(thread)[1:]
    assert message.content == answer
    assert _labels(message) == ["Solved", "Talk to staff"]
    [request] = fake_openai.chat_requests()
    assert request["stream"] is True and request["model"] == "llama3"
    assert REFUND_ASK in request["messages"][-1]["content"]
    assert fake_ollama.requests == [], "nothing may go to the Ollama fake"
    routes = await world.core.store.routes_since(world.guild.id, simcord_env.now().replace(year=2000))
    assert routes == {"llm": 1}
