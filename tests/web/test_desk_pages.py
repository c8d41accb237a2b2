"""The dashboard's staff-desk pieces over tickets the staff desk changed through Discord (SimCord): the priority
and claimer columns and filters, the per-staff claimed count, and the notes panel (staff only, escaped)."""

from __future__ import annotations

import re

from tests.sim import text_of
from tests.web.seed import client_for, sign_in

NOTE = '<b onmouseover="alert(1)">VIP</b> customer'


def _ticket_links(html: str, guild_id: int) -> set[int]:
    return {int(x) for x in re.findall(rf'href="/g/{guild_id}/tickets/(\d+)"', html)}


async def _desk_actions(seeded) -> None:
    a = seeded.a
    crash = a.thread(seeded.crash_ticket)
    for command, options in (("claim", {}), ("priority", {"level": "urgent"}), ("note", {"text": NOTE})):
        result = await a.staff.slash(crash, command, **options)
        assert result.ephemeral and "Only staff for" not in text_of(result), text_of(result)


async def test_priority_and_claimer_columns_and_filters(seeded):
    await _desk_actions(seeded)
    g = seeded.a.guild.id
    client = client_for(seeded)
    await client.start_server()
    try:
        await sign_in(client, seeded, seeded.a.staff.id, g)

        async def listed(**params: str) -> tuple[set[int], str]:
            response = await client.get(f"/g/{g}/tickets", params=params)
            assert response.status == 200
            html = await response.text()
            return _ticket_links(html, g), html

        everything, html = await listed()
        assert len(everything) == 3
        assert '<select name="priority">' in html and '<input name="claimer"' in html
        assert '<td class="priority p-urgent">urgent</td><td class="claimer">sam_staff</td>' in html
        assert (await listed(priority="urgent"))[0] == {seeded.crash_ticket}
        assert (await listed(priority="low"))[0] == set()
        assert (await listed(claimer="sam_staff"))[0] == {seeded.crash_ticket}
        assert (await listed(claimer=str(seeded.a.staff.id)))[0] == {seeded.crash_ticket}
        assert (await listed(claimer="nobody"))[0] == set()
        _links, refused = await listed(priority="sky-high")
        assert "Unknown priority." in refused

        report = await (await client.get(f"/g/{g}/analytics", params={"days": "7"})).text()
        staff_table = report[report.index('id="staff"') :]
        assert re.search(r"<tr><td>sam_staff</td><td>1</td>", staff_table), staff_table[:600]
        exported = await (await client.get(f"/g/{g}/export/tickets.json")).json()
        crash = next(row for row in exported if row["id"] == seeded.crash_ticket)
        assert (crash["priority"], crash["claimer_name"]) == ("urgent", "sam_staff")
    finally:
        await client.close()


async def test_the_notes_panel_is_for_staff_and_escaped(seeded):
    await _desk_actions(seeded)
    g = seeded.a.guild.id
    staff = client_for(seeded)
    opener = client_for(seeded)
    await staff.start_server()
    await opener.start_server()
    try:
        await sign_in(staff, seeded, seeded.a.staff.id, g)
        await sign_in(opener, seeded, seeded.a.alice.id, g)

        html = await (await staff.get(f"/g/{g}/tickets/{seeded.crash_ticket}")).text()
        notes = html[html.index('id="notes"') :]
        assert "&lt;b onmouseover=&#34;alert(1)&#34;&gt;VIP&lt;/b&gt; customer" in notes
        assert "<b onmouseover" not in html
        assert "<b>sam_staff</b>" in notes
        assert '<dd id="claimer">sam_staff</dd>' in html and '<dd id="priority">urgent</dd>' in html

        mine = await opener.get(f"/g/{g}/tickets/{seeded.crash_ticket}")
        text = await mine.text()
        assert mine.status == 200 and 'id="notes"' not in text and "VIP" not in text
        listed = await (await opener.get(f"/g/{g}/tickets", params={"claimer": "sam_staff"})).text()
        assert '<input name="claimer"' not in listed, "openers get no staff filters"
    finally:
        await staff.close()
        await opener.close()
