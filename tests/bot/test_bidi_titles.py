"""Bidi controls in user text never reach a thread name or an embed title the bot builds: a right-to-left
override in a subject or a member's name would reverse how the title reads in the forum list."""

from __future__ import annotations

from typing import Any

from tests.bot.desk import BOTH_MODES, open_ticket, renames, title
from tests.sim import make_world

BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
# "Refund for invoice.pdf" once the override is gone; with it, the title displays "...fdp.exe" backwards.
SUBJECT = "Refund for \u202eexe.pdf\u202c invoice \u2067x\u2069\u200f\u061c"
SHOWN = "Refund for exe.pdf invoice x"


def _titles(env: Any) -> list[str]:
    """Every thread name and embed title the bot sent Discord (thread creation, renames, messages, replies)."""
    found: list[str] = []

    def walk(value: Any, key: str, path: str) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, k, path)
        elif isinstance(value, list):
            for v in value:
                walk(v, key, path)
        elif isinstance(value, str) and (key == "title" or (key == "name" and "/threads" in path)):
            found.append(value)

    for r in env.http_requests:
        walk(r.json, "", r.path)
        if r.method == "PATCH" and r.json and "name" in r.json:
            found.append(r.json["name"])  # a rename: PATCH /channels/{thread id}
    return found


@BOTH_MODES
async def test_bidi_controls_never_reach_thread_names_or_embed_titles(simcord_env, private: bool):
    world = await make_world(simcord_env, private=private)
    mallory = world.guild.add_member(simcord_env.create_user("\u202emallory\u202c"))
    thread = await open_ticket(world, mallory, subject=SUBJECT, text="I was charged twice.")

    assert title(simcord_env, thread) == SHOWN
    await world.staff.slash(thread, "rename", title="\u202eNew title\u202c for \u2066it\u2069")
    assert renames(simcord_env, thread)[-1] == "New title for it"
    assert "now called “New title for it”" in world.bot_messages(thread)[-1].content  # the title, as shown
    await world.staff.slash(thread, "priority", level="urgent")
    await world.staff.slash(thread, "note", text="checked the invoices")
    await world.staff.slash(thread, "notes")
    await world.staff.slash(thread, "close")

    titles = _titles(simcord_env)
    assert SHOWN in titles and any("mallory" in t for t in titles), titles  # the titles built from user text
    assert [t for t in titles if set(t) & set(BIDI)] == []
