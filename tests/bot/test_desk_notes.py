"""Internal notes in both ticket modes: stored and shown to staff (/notes, the log channel, the dashboard),
never posted where the opener can read them and never in the model's prompt (read from what the fake
Ollama received, closing summary included)."""

from __future__ import annotations

import json

from tests.bot.desk import BOTH_MODES, open_ticket, readable
from tests.fakes.ollama import FakeOllama
from tests.grounded import REFUND_AGAIN, REFUND_ASK, REFUND_SUBJECT, train_faq
from tests.sim import make_world, text_of

SECRET = "SECRET-NOTE-7731: customer is on the chargeback watchlist"


@BOTH_MODES
async def test_notes_reach_staff_only(simcord_env, fake_ollama: FakeOllama, private: bool):
    world = await make_world(simcord_env, private=private)
    await train_faq(world, fake_ollama)
    thread = await open_ticket(world, subject=REFUND_SUBJECT, text=REFUND_ASK)

    result = await world.staff.slash(thread, "note", text=SECRET)

    assert result.ephemeral and "Note saved" in text_of(result) and SECRET not in text_of(result)
    await world.alice.send(thread, REFUND_AGAIN)
    assert len(fake_ollama.chat_requests()) == 2, "the assistant answered after the note"
    listed = await world.staff.slash(thread, "notes")
    shown = [e.description for m in (listed.response, *listed.followups) if m is not None for e in m.embeds]
    assert listed.ephemeral and SECRET in "".join(d or "" for d in shown), shown
    logged = world.log_channel.last_message
    assert logged.embeds and logged.embeds[0].description == SECRET and thread.mention in str(logged.embeds[0].fields)
    [(author, _at, text)] = await world.core.analytics.ticket_notes(thread.id)
    assert (author, text) == ("sam_staff", SECRET)
    for member in (world.alice,) if private else (world.alice, world.bob):  # bob can't even see a private one
        for command, options in (("note", {"text": "mine"}), ("notes", {})):
            refused = await member.slash(thread, command, **options)
            assert refused.ephemeral and "Only staff" in text_of(refused)

    await world.staff.slash(thread, "close", reason="done")

    assert SECRET not in readable(thread, world.alice), "nothing the opener can read carries the note"
    everything_posted = json.dumps(
        [r.json for r in simcord_env.http_requests if r.path.startswith(f"/channels/{thread.id}")]
    )
    assert SECRET not in everything_posted, "never posted in the ticket"
    prompts = json.dumps([r["json"] for r in fake_ollama.requests])
    assert SECRET not in prompts, "never in a prompt: answers, classification, closing summary"
    assert any(r["messages"][0]["content"].startswith("You summarise") for r in fake_ollama.chat_requests())
    assert [n.content for n in await world.core.desk.notes.of(thread.id)] == [SECRET]


async def test_notes_shows_the_newest_notes_when_they_do_not_all_fit(simcord_env):
    """Notes hold up to 1,000 characters and /notes one embed of 4,096: five long notes were cut at the end, which
    cut off the newest one, the note staff look for. The oldest ones give way instead."""
    world = await make_world(simcord_env)
    thread = await open_ticket(world)
    for n in range(1, 6):
        await world.staff.slash(thread, "note", text=f"note {n}: " + "details " * 120)
    shown = await world.staff.slash(thread, "notes")
    [embed] = shown.followups[-1].embeds if shown.followups else shown.response.embeds
    newest = ("note 5: " + "details " * 120).strip()
    assert newest in embed.description and len(embed.description) <= 4096, "the newest note is shown whole"
    assert embed.description.index("note 4:") < embed.description.index("note 5:"), "oldest first, as before"
