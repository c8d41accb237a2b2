"""The agreement bar of memory/decision.py on a real memory: what counts as "through the staff's question"."""

from __future__ import annotations

from memory.decision import Thresholds, evidence

GUILD = 1


async def _train(memory):
    refund = await memory.add(
        GUILD,
        "How do I get a refund for a store purchase?",
        "Store purchases can be refunded within 14 days: open the store, pick the purchase and request a refund.",
        alternates=["money back for the skin i bought"],
    )
    await memory.add(GUILD, "How do I reset my password?", "Use Forgot password on the sign-in page to reset it.")
    await memory.add(GUILD, "Which platforms can I play on?", "We run on Windows, PlayStation 5 and Xbox Series.")
    await memory.add(GUILD, "How do I link my Twitch account?", "Open Settings, then Connections, and pick Twitch.")
    await memory.add(GUILD, "Where are the patch notes?", "Every update's notes are on our news page.")
    return refund


async def test_a_tiny_faq_never_agrees(memory):
    refund = await memory.add(
        GUILD,
        "How do I get a refund for a store purchase?",
        "Store purchases can be refunded within 14 days: open the store, pick the purchase and request a refund.",
    )
    await memory.add(GUILD, "How do I reset my password?", "Use Forgot password on the sign-in page to reset it.")
    matches = await memory.find_similar(GUILD, "how do i get a refund for a store purchase", k=5)
    assert matches[0].entry.id == refund.id and len(matches) == 2
    assert not evidence(matches[0], matches[1:], Thresholds()).agreed


async def test_a_match_through_the_trained_question_can_be_agreed(memory):
    refund = await _train(memory)
    matches = await memory.find_similar(GUILD, "how do i get a refund for a store purchase", k=5)
    top = matches[0]
    assert top.entry.id == refund.id and top.phrasing == refund.query and len(matches) == 5
    assert evidence(top, matches[1:], Thresholds()).agreed


async def test_a_match_through_a_learned_phrasing_is_never_agreed(memory):
    refund = await _train(memory)
    matches = await memory.find_similar(GUILD, "money back for the skin i bought", k=5)
    top = matches[0]
    assert top.entry.id == refund.id and top.phrasing == "money back for the skin i bought"
    assert not evidence(top, matches[1:], Thresholds()).agreed
