"""Two members filling in the same category's form at once both get their ticket (discord.py keeps the modals
waiting for a submit by custom_id: one id per form shown, or the second form replaces the first)."""

from __future__ import annotations

import pytest

from tests.sim import make_world, text_of


@pytest.mark.parametrize("private", [False, True], ids=["forum", "private"])
async def test_two_forms_of_one_category_open_at_once_both_open_a_ticket(simcord_env, private):
    world = await make_world(simcord_env, private=private)
    panel = world.panel_channel.last_message
    alices = await world.alice.click(panel, label="Open ticket")
    bobs = await world.bob.click(panel, label="Open ticket")

    first = await world.alice.submit_modal(alices, {"subject": "Alice's question", "description": "one"})
    second = await world.bob.submit_modal(bobs, {"subject": "Bob's question", "description": "two"})

    assert "ticket is open" in text_of(first) and "ticket is open" in text_of(second)
    assert sorted(t.name for t in world.threads) == ["Alice's question", "Bob's question"]
