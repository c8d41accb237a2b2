"""A pool of model servers (LLM_URL with several URLs): least-busy routing, per-server limits, one fair
queue, a server killed mid-run, retries that never duplicate shown text."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import replace

import aiohttp
import pytest

from ai.errors import LLMError, LLMResponseError, LLMUnavailable
from ai.factory import create_model_pool
from ai.pool import ModelPool
from ai.settings import ServerSpec
from app.settings import ConfigError, load_settings
from tests.fakes.ollama import Fail, FakeOllama, Reply
from tests.fixtures_llm import fast_settings
from tests.waiting import wait_until


@pytest.fixture
def three() -> Iterator[list[FakeOllama]]:
    with ExitStack() as stack:
        yield [stack.enter_context(FakeOllama()) for _ in range(3)]


def pool_of(servers: list[FakeOllama], session: aiohttp.ClientSession, *limits: int, **overrides: object) -> ModelPool:
    limits = limits or (1,) * len(servers)
    specs = tuple(ServerSpec(s.url, limit) for s, limit in zip(servers, limits, strict=True))
    settings = replace(fast_settings(servers[0].url, **overrides), servers=specs)
    return create_model_pool(settings, session)


def ask(pool: ModelPool, i: int, positions: dict[int, list[int]] | None = None) -> asyncio.Task[str]:
    async def on_queued(position: int) -> None:
        if positions is not None:
            positions.setdefault(i, []).append(position)

    async def run() -> str:
        return (await pool.chat([{"role": "user", "content": f"question {i}"}], on_queued=on_queued)).text

    return asyncio.create_task(run())


def answered(server: FakeOllama) -> list[str]:
    return [body["messages"][0]["content"] for body in server.chat_requests()]


def sent(servers: list[FakeOllama]) -> int:
    return sum(len(server.chat_requests()) for server in servers)


# Tests that look at the pool while requests are in flight hold the replies (Reply.hold) until they have
# looked, and wait for the requests to arrive: a fixed sleep against a 0.3 s answer was flaky under load.


async def test_requests_go_to_the_least_busy_server(three: list[FakeOllama], http_session) -> None:
    go = threading.Event()
    for n, server in enumerate(three):
        server.script(*[Reply(f"from {n}", hold=go)] * 4)
    pool = pool_of(three, http_session, 2, 2, 2)
    tasks = [ask(pool, i) for i in range(3)]
    try:
        await wait_until(lambda: sent(three) == 3, "the three requests reached the servers")
        # Each server has one in flight: the second request did not stack onto the first server's free slot.
        assert pool.in_flight == [1, 1, 1]
        assert [len(s.chat_requests()) for s in three] == [1, 1, 1]
    finally:
        go.set()
    assert sorted(await asyncio.gather(*tasks)) == ["from 0", "from 1", "from 2"]
    await pool.aclose()


async def test_a_bigger_server_takes_a_bigger_share(three: list[FakeOllama], http_session) -> None:
    big, small, _ = three
    go = threading.Event()
    big.script(*[Reply("big", hold=go)] * 4)
    small.script(*[Reply("small", hold=go)] * 4)
    pool = pool_of([big, small], http_session, 4, 1)
    tasks = [ask(pool, i) for i in range(5)]
    try:
        await wait_until(lambda: sent([big, small]) == 5, "the five requests reached the servers")
        assert pool.in_flight == [4, 1] and pool.queue_length == 0
    finally:
        go.set()
    assert sorted(await asyncio.gather(*tasks)) == ["big"] * 4 + ["small"]
    await pool.aclose()


async def test_per_server_limits_and_one_fair_queue(three: list[FakeOllama], http_session) -> None:
    go = threading.Event()
    for server in three:
        server.script(*[Reply("ok", hold=go)] * 9)
    pool = pool_of(three, http_session)
    positions: dict[int, list[int]] = {}
    tasks = []
    try:
        for i in range(9):  # fix the arrival order: each one is in flight or in line before the next comes
            tasks.append(ask(pool, i, positions))
            if i < 3:
                await wait_until(lambda i=i: sent(three) == i + 1, f"question {i} reached a server")
            else:
                await wait_until(lambda i=i: i in positions, f"question {i} joined the line")
    finally:
        go.set()
    assert await asyncio.gather(*tasks) == ["ok"] * 9
    assert [s.max_in_flight for s in three] == [1, 1, 1]
    # Three start at once; the other six wait in one line, served in arrival order by whichever frees up.
    assert all(i not in positions for i in range(3))
    assert [positions[i][0] for i in range(3, 9)] == [1, 2, 3, 4, 5, 6]
    # Places only move forward (two servers finishing at once may move a waiter two places in one step).
    assert all(p == sorted(p, reverse=True) for p in positions.values())
    for server in three:  # each server took its share of the line in arrival order
        numbers = [int(q.split()[1]) for q in answered(server)]
        assert numbers == sorted(numbers)
    assert sum(len(answered(s)) for s in three) == 9 and pool.queue_length == 0
    await pool.aclose()


async def test_a_server_killed_mid_run_loses_nothing(three: list[FakeOllama], http_session) -> None:
    """Nothing lost, the queue drains through the other two, nobody got two answers."""
    a, b, c = three
    for n, server in ((0, a), (2, c)):
        server.script(*[Reply(f"answer from {n}", first_byte_delay=0.2)] * 20)
    # b is slow to start answering: it dies with a request in flight that has shown nothing yet.
    b.script(*[Reply("answer from 1", first_byte_delay=2.0)] * 20)
    pool = pool_of(three, http_session, down_retry_after=30.0)
    tasks = []
    for i in range(15):
        tasks.append(ask(pool, i))
        await asyncio.sleep(0.005)
    await wait_until(lambda: len(answered(b)) == 1, "b has a request in flight")  # and a long line waiting
    assert pool.queue_length >= 5
    [cut_off] = answered(b)
    await asyncio.to_thread(b.stop)  # killed: its in-flight request breaks off, its port is closed
    results = await asyncio.wait_for(asyncio.gather(*tasks), 10)

    assert len(results) == 15 and all(r in ("answer from 0", "answer from 2") for r in results), results
    assert answered(b) == [cut_off], "the dead server got requests after it died"
    assert not pool.servers[1].health.available and pool.health.available
    # Every question reached a live server exactly once, the cut-off one included.
    from_others = answered(a) + answered(c)
    assert sorted(from_others) == sorted(f"question {i}" for i in range(15))
    assert a.max_in_flight == 1 and c.max_in_flight == 1
    assert pool.queue_length == 0 and pool.in_flight == [0, 0, 0]
    await pool.aclose()


async def test_a_failure_before_any_text_is_retried_on_another_server(three: list[FakeOllama], http_session) -> None:
    a, b, _ = three
    a.script(Fail(500, "CUDA error: out of memory"))
    b.script(Reply("from b"))
    pool = pool_of([a, b], http_session)
    started = time.perf_counter()
    assert (await pool.chat([{"role": "user", "content": "hi"}])).text == "from b"
    assert time.perf_counter() - started < 2
    assert len(a.chat_requests()) == 1 and len(b.chat_requests()) == 1
    assert pool.in_flight == [0, 0]
    await pool.aclose()


async def test_text_already_shown_is_not_answered_again_elsewhere(three: list[FakeOllama], http_session) -> None:
    a, b, _ = three
    a.script(Reply("The first half of an answer, then", chunk_size=10, chunk_delay=0.05, truncate_after_chunks=2))
    pool = pool_of([a, b], http_session)
    seen: list[str] = []
    with pytest.raises(LLMResponseError):
        async for piece in pool.chat_stream([{"role": "user", "content": "hi"}]):
            seen.append(piece)
    assert "".join(seen) == "The first half of an"
    assert b.chat_requests() == [], "the answer was started again on another server"
    assert pool.in_flight == [0, 0]
    await pool.aclose()


async def test_the_last_server_going_down_fails_the_line_fast(three: list[FakeOllama], http_session) -> None:
    a, b, _ = three
    for server in (a, b):
        server.script(*[Reply("slow", first_byte_delay=0.3)] * 4)
    pool = pool_of([a, b], http_session, down_retry_after=30.0)
    tasks = [ask(pool, i) for i in range(5)]
    await wait_until(lambda: sent([a, b]) == 2, "both servers have a request in flight")
    assert pool.queue_length == 3
    await asyncio.gather(asyncio.to_thread(a.stop), asyncio.to_thread(b.stop))
    started = time.perf_counter()
    results = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 5)
    # The two in flight may finish during the servers' graceful shutdown; the line cannot be served.
    assert all(isinstance(r, LLMError) for r in results[2:]), results
    assert time.perf_counter() - started < 2
    assert not pool.health.available and pool.queue_length == 0 and pool.in_flight == [0, 0]
    # Now it fails at once, without touching the network, with the reason.
    with pytest.raises(LLMUnavailable, match="retrying"):
        await pool.chat([{"role": "user", "content": "hi"}])
    await pool.aclose()


async def test_a_cancelled_waiter_leaves_the_pool_queue(three: list[FakeOllama], http_session) -> None:
    a, b, _ = three
    for server in (a, b):
        server.script(Reply("slow", first_byte_delay=0.3), Reply("next"))
    pool = pool_of([a, b], http_session)
    first = [ask(pool, 0), ask(pool, 1)]
    await wait_until(lambda: sent([a, b]) == 2, "both servers have a request in flight")
    waiting = ask(pool, 2)
    await asyncio.sleep(0.05)
    assert pool.queue_length == 1
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert pool.queue_length == 0
    assert await asyncio.gather(*first) == ["slow", "slow"]
    assert (await asyncio.wait_for(pool.chat([{"role": "user", "content": "x"}]), 2)).text == "next"
    assert pool.in_flight == [0, 0]
    await pool.aclose()


def test_llm_url_lists_servers_with_their_limits() -> None:
    urls = "http://gpu1:11434, http://gpu2:11434/,http://gpu1:11434"  # spaces, a slash, a duplicate
    s = load_settings({"LLM_URL": urls, "LLM_MAX_CONCURRENCY": "3"})
    assert s.llm.chat_servers == (ServerSpec("http://gpu1:11434", 3), ServerSpec("http://gpu2:11434", 3))
    assert s.llm.embed_server_urls == ("http://gpu1:11434", "http://gpu2:11434") and s.llm.embeds_on_chat_servers
    mixed = load_settings({"LLM_URL": "http://a:1,http://b:2", "LLM_MAX_CONCURRENCY": "4,1"})
    assert [spec.max_concurrency for spec in mixed.llm.chat_servers] == [4, 1]
    with pytest.raises(ConfigError) as info:
        load_settings({"LLM_URL": "http://a:1,ftp://b", "LLM_MAX_CONCURRENCY": "4,1,1"})
    assert any("ftp://b" in p for p in info.value.problems)
    assert any("one per server" in p for p in info.value.problems)
