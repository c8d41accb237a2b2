"""A burst of tickets queued for the model: the "you're #N in line" notices cost a number of Discord edits
that grows linearly with the queue, not one edit per waiting ticket on every freed slot."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.fakes.ollama import FakeOllama, Reply
from tests.grounded import REFUND_A, REFUND_ASK, answer, train_faq
from tests.sim import make_world

QUEUED = 30


def _notice_edits(env, start: int) -> Counter[int]:
    """Edits of a waiting notice per ticket thread, among the requests from `start` on."""
    edits: Counter[int] = Counter()
    for r in env.http_requests[start:]:
        content = (r.json or {}).get("content") or "" if isinstance(r.json, dict) else ""
        if r.method == "PATCH" and "in line" in content:
            edits[int(r.path.split("/")[2])] += 1
    return edits


@pytest.mark.bot_env(
    LLM_MAX_CONCURRENCY="1", USER_ANSWERS_PER_MINUTE="0", LLM_SERVER_REQUESTS_PER_MINUTE="0",
    TICKET_COOLDOWN_SECONDS="0", LLM_TOTAL_TIMEOUT="30",
)  # fmt: skip
async def test_queue_notices_are_edited_a_bounded_number_of_times_per_ticket(simcord_env, fake_ollama: FakeOllama):
    world = await make_world(simcord_env)
    await train_faq(world, fake_ollama)
    members = [world.guild.add_member(simcord_env.create_user(f"user{i}")) for i in range(QUEUED + 1)]
    threads = []
    for i, member in enumerate(members):
        await world.open_ticket(member, f"Ticket {i}", "Hello")
        threads.append(world.forum.threads[-1])
    first = f"To get your refund: {REFUND_A}"  # slow enough for everyone else to queue
    fake_ollama.script(Reply(answer(first), first_byte_delay=0.5))
    start = len(simcord_env.http_requests)

    for thread, member in zip(threads, members, strict=True):  # all at once
        simcord_env.backend.create_message(thread.id, member.id, REFUND_ASK)
    await simcord_env.settle(timeout=60)

    edits = _notice_edits(simcord_env, start)
    # Today every freed slot edits every waiting notice: about QUEUED²/2 edits.
    assert sum(edits.values()) <= 2 * QUEUED, f"{sum(edits.values())} notice edits for {QUEUED} queued tickets"
    assert max(edits.values(), default=0) <= 2, edits.most_common(3)
    # Every ticket still got its answer, and no notice was left behind.
    for thread in threads:
        last = world.bot_messages(thread)[-1].content
        assert last in (REFUND_A, first), last
    notices = sum(1 for r in simcord_env.http_requests[start:] if r.method == "POST" and "in line" in str(r.json or {}))
    assert notices >= QUEUED // 2, "the burst should have queued most tickets (the test measures nothing else)"
