"""A rename that Discord's limit (about 2 per 10 minutes) made wait is not lost with a restart: the title a ticket
should have follows from what is recorded (its subject and priority), so the restarted bot gives each open ticket
whose thread shows another title that title, within the limit."""

from __future__ import annotations

from tests.bot.desk import BOTH_MODES, open_ticket, renames, title
from tests.clock import advance
from tests.sim import make_world, text_of


@BOTH_MODES
async def test_a_rename_waiting_for_discords_limit_survives_a_restart(simcord_env, restart_bot, private: bool):
    world = await make_world(simcord_env, private=private)
    thread = await open_ticket(world)
    for new in ("Printer on fire", "Printer fixed?"):
        assert "Done" in text_of(await world.staff.slash(thread, "rename", title=new))
    await world.staff.slash(thread, "rename", title="Third title")  # waits for Discord's limit
    assert title(simcord_env, thread) == "Printer fixed?"

    await restart_bot()
    await advance(simcord_env, 700, step=300)

    assert title(simcord_env, thread) == "Third title"
    assert renames(simcord_env, thread) == ["Printer on fire", "Printer fixed?", "Third title"], "renamed once"


async def test_a_restart_leaves_titles_that_are_right_and_closed_tickets_alone(simcord_env, restart_bot):
    world = await make_world(simcord_env)
    kept = await open_ticket(world)
    closed = await open_ticket(world, world.bob, subject="Old question", text="Solved already")
    assert "Done" in text_of(await world.staff.slash(closed, "rename", title="Old question, renamed"))
    await world.staff.slash(closed, "close", reason="done")
    # The closed ticket's record changes behind its back: a restart must not rename a closed (archived) post.
    await world.core.store.db.run("UPDATE tickets SET subject = 'Changed' WHERE id = :id", {"id": closed.id})

    await restart_bot()
    await advance(simcord_env, 700, step=300)

    assert renames(simcord_env, kept) == []
    assert renames(simcord_env, closed) == ["Old question, renamed"]
