"""What the pages show for the seeded tickets: list filters and search, transcripts, analytics, memory, export."""

from __future__ import annotations

import csv
import io
import json
import re

from tests.grounded import REFUND_Q
from tests.web.seed import EVIL_COMMENT, PASSWORD_COMMENT, PASSWORD_Q, STAFF_REPLY, client_for, sign_in


def _ticket_links(html: str, guild_id: int) -> set[int]:
    return {int(x) for x in re.findall(rf'href="/g/{guild_id}/tickets/(\d+)"', html)}


async def _staff_client(seeded):
    client = client_for(seeded)
    await client.start_server()
    await sign_in(client, seeded, seeded.a.staff.id, seeded.a.guild.id)
    return client


async def test_ticket_list_filters_searches_and_pages(seeded):
    g = seeded.a.guild.id
    client = await _staff_client(seeded)
    try:

        async def listed(**params: str) -> set[int]:
            response = await client.get(f"/g/{g}/tickets", params=params)
            assert response.status == 200
            return _ticket_links(await response.text(), g)

        everything = {seeded.password_ticket, seeded.evil_ticket, seeded.crash_ticket}
        assert await listed() == everything
        assert await listed(status="closed") == {seeded.password_ticket, seeded.evil_ticket}
        assert await listed(status="waiting_staff") == {seeded.crash_ticket}
        assert await listed(route="answer") == {seeded.password_ticket}
        assert await listed(route="staff") == {seeded.crash_ticket}
        assert await listed(route="llm") == {seeded.evil_ticket}
        assert await listed(opener="alice") == {seeded.password_ticket, seeded.crash_ticket}
        assert await listed(opener=str(seeded.mallory.id)) == {seeded.evil_ticket}
        assert await listed(q="passw") == {seeded.password_ticket}  # a word's beginning, in a message
        assert await listed(q="turning it OFF") == {seeded.evil_ticket}  # only in staff's reply
        assert await listed(q="map crash") == {seeded.crash_ticket}  # the subject
        assert await listed(q='zzz" OR "') == set()  # search syntax is inert: every word must be there
        assert await listed(**{"from": "2026-01-02"}) == set()
        assert await listed(**{"from": "2026-01-01", "to": "2026-01-01"}) == everything
        assert await listed(category="general", status="open") == set()
        assert await listed(rating="5") == {seeded.password_ticket} and await listed(rating="2") == {seeded.evil_ticket}
        assert await listed(rating="3") == set()
        assert (
            'name="rating" type="number" min="1" max="5" value="5"'
            in await (await client.get(f"/g/{g}/tickets", params={"rating": "5"})).text()
        )
        bad = await client.get(f"/g/{g}/tickets", params={"status": "nonsense", "from": "yesterday", "rating": "9"})
        text = await bad.text()
        assert "Unknown status." in text and "From must be a date" in text and "A rating is 1 to 5 stars." in text
        page = await seeded.bot.core.analytics.tickets(g, __import__("tickets.analytics").analytics.TicketFilter(),
                                                       page=2, per_page=2)  # fmt: skip
        assert page.total == 3 and page.pages == 2 and len(page.rows) == 1
        assert page.rows[0].id == seeded.password_ticket  # newest first: the oldest is last
    finally:
        await client.close()


async def test_transcript_shows_routes_form_attachments_and_close_reason(seeded):
    g = seeded.a.guild.id
    client = await _staff_client(seeded)
    try:
        html = await (await client.get(f"/g/{g}/tickets/{seeded.password_ticket}")).text()
        entry = (await seeded.bot.core.memory.get_by_query(g, PASSWORD_Q)).id
        assert f'<span class="route r-answer">saved answer #{entry}</span>' in html
        assert "<dt>Close reason</dt><dd>fixed</dd>" in html
        assert f"<dt>Rating</dt><dd>5/5 — {PASSWORD_COMMENT}</dd>" in html
        # The form as the opener saw it: the subject, then the category's questions (issue 10 stores the answers).
        assert '<dt>Subject</dt><dd class="content">Password</dd>' in html
        assert '<dt>Describe the problem</dt><dd class="content">how do i reset my password</dd>' in html
        assert "Ticket closed: Password" in html  # the closing embed, as Discord showed it
        evil = await (await client.get(f"/g/{g}/tickets/{seeded.evil_ticket}")).text()
        assert '<span class="route r-llm">model</span>' in evil and STAFF_REPLY in evil
        assert '<span class="tag staff">STAFF</span>' in evil and 'id="notes"' in evil
        assert "<dt>Rating</dt><dd>2/5 — &lt;script&gt;alert(&#34;comment&#34;)&lt;/script&gt;</dd>" in evil
        assert EVIL_COMMENT not in evil
        assert re.search(rf'href="/g/{g}/attachments/\d+" download>', evil)
        crash = await (await client.get(f"/g/{g}/tickets/{seeded.crash_ticket}")).text()
        assert '<span class="route r-staff">staff hand-off</span>' in crash
        assert "attachments and embeds are saved when it closes" in crash  # still open: stored messages only
    finally:
        await client.close()


async def test_analytics_show_the_numbers_the_seeded_tickets_imply(seeded):
    g = seeded.a.guild.id
    client = await _staff_client(seeded)
    try:
        html = await (await client.get(f"/g/{g}/analytics", params={"days": "7"})).text()

        def number(element_id: str) -> str:
            return re.search(rf'id="{element_id}">([^<]+)<', html).group(1)

        assert (number("kpi-opened"), number("kpi-closed"), number("kpi-backlog")) == ("3", "2", "1")
        assert number("kpi-deflection") == "50 %"  # of 2 closed, alice's closed without staff
        assert "<td>Closed without staff, confirmed by Solved</td><td>1</td>" in html
        assert "<td>Closed without staff, assumed (no Solved)</td><td>0</td>" in html
        assert "<td>Staff wrote in them</td><td>1</td>" in html
        assert "<td>saved answer</td><td>1</td><td>1</td><td>0</td>" in html  # answered, and marked Solved
        assert "<td>model</td><td>2</td>" in html and "<td>staff hand-off</td><td>1</td>" in html
        assert number("kpi-hit-rate") == "25 %"  # 1 saved answer of 4 decisions
        assert "<td>First answer by staff</td><td>1</td><td>10 min</td><td>10 min</td>" in html
        # sam_staff claimed nothing (claims are recorded), answered and closed mallory's ticket, rated 2.
        assert "<td>sam_staff</td><td>0</td><td>1</td><td>1</td><td>2.00</td>" in html
        assert "<tr><td>2026-01-01</td><td>3</td><td>2</td><td>1</td></tr>" in html
        assert "<td>fixed</td><td>1</td>" in html and "<td>closed by staff</td><td>1</td>" in html
        assert "<td>general</td><td>3</td>" in html
        assert "<p>Average <b>3.50</b> from 2</p>" in html
        ratings = html[html.index('id="ratings"') : html.index("</table>", html.index('id="ratings"'))]
        assert re.findall(r"<td>(\d) ★</td><td>(\d)</td>", ratings) == [
            ("5", "1"), ("4", "0"), ("3", "0"), ("2", "1"), ("1", "0"),
        ]  # fmt: skip
        assert re.search(r"<th>Thu</th><td class=\"h5\">3</td>", html)  # 2026-01-01 00:00 UTC was a Thursday
        data = json.loads(re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', html).group(1))
        assert data["opened"][-1] == 3 and data["routes"] == {"answer": 1, "llm": 2, "fallback": 0, "staff": 1}
        period = await client.get(f"/g/{g}/analytics", params={"from": "2025-12-01", "to": "2025-12-31"})
        assert 'id="kpi-opened">0<' in await period.text()
    finally:
        await client.close()


async def test_memory_page_reviews_suggestions_and_drafts_from_coverage_gaps(seeded):
    g = seeded.a.guild.id
    memory = seeded.bot.core.memory
    client = await _staff_client(seeded)
    try:
        html = await (await client.get(f"/g/{g}/memory")).text()
        csrf = re.search(r'name="csrf" value="([^"]+)"', html).group(1)
        assert "Saved answers (2)" in html and PASSWORD_Q in html and REFUND_Q in html  # the seed trained both
        assert "Also:" not in html  # the entry's answer is searched as a row of its own, never listed as a phrasing
        assert "<td>1</td><td>1.00</td>" in html  # used once (Solved), full confidence
        gaps = html[html.index('id="gaps"') : html.index('id="suggestions"')]
        assert "<b>1×</b> The app crashes when I open the map view." in gaps
        response = await client.post(
            f"/g/{g}/memory/gaps/draft",
            data={"csrf": csrf, "ticket_id": str(seeded.crash_ticket), "question": "The app crashes on the map",
                  "answer": "Update to version 2.1: it fixes the map crash."},
            allow_redirects=False,
        )  # fmt: skip
        assert response.status == 303
        [draft] = await memory.list_suggestions(g)
        assert draft.ticket_id == seeded.crash_ticket and draft.kind == "qa"
        # Approve with an edited answer: the same TrainedMemory method as /memory approve.
        too_long = await client.post(
            f"/g/{g}/memory/suggestions/{draft.id}/approve", data={"csrf": csrf, "answer": "x" * 2000}
        )
        assert too_long.status == 400 and "Not approved: the answer is 2000 characters long" in await too_long.text()
        approved = await client.post(
            f"/g/{g}/memory/suggestions/{draft.id}/approve",
            data={"csrf": csrf, "question": "The app crashes on the map", "answer": "Update to 2.2."},
        )
        assert "Suggestion approved" in await approved.text()
        entry = await memory.get_by_query(g, "The app crashes on the map")
        assert entry is not None and entry.response == "Update to 2.2." and await memory.list_suggestions(g) == []
        # A suggestion of another server is not reachable from this one.
        other = await memory.suggest_qa(seeded.b.guild.id, "B's question", "B's answer")
        gone = await client.post(f"/g/{g}/memory/suggestions/{other}/approve", data={"csrf": csrf})
        assert "no longer pending" in await gone.text()
        assert [s.id for s in await memory.list_suggestions(seeded.b.guild.id)] == [other]
    finally:
        await client.close()


async def test_exports_carry_the_tickets_and_the_analytics(seeded):
    g = seeded.a.guild.id
    client = await _staff_client(seeded)
    try:
        response = await client.get(f"/g/{g}/export/tickets.csv")
        assert response.headers["Content-Disposition"] == 'attachment; filename="tickets.csv"'
        rows = list(csv.DictReader(io.StringIO(await response.text())))
        assert {int(r["id"]) for r in rows} == {seeded.password_ticket, seeded.evil_ticket, seeded.crash_ticket}
        evil = next(r for r in rows if int(r["id"]) == seeded.evil_ticket)
        assert evil["subject"] == '<script>alert("subject")</script>' and evil["status"] == "closed"
        filtered = await (await client.get(f"/g/{g}/export/tickets.json", params={"status": "closed"})).json()
        assert {t["id"] for t in filtered} == {seeded.password_ticket, seeded.evil_ticket}
        data = await (await client.get(f"/g/{g}/export/analytics.json", params={"days": "7"})).json()
        assert (data["opened"], data["closed"], data["open_at_end"]) == (3, 2, 1)
        assert data["deflection"]["confirmed"] == 1
        assert data["ratings"] == {"count": 2, "average": 3.5, "distribution": {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1}}
        table = await (await client.get(f"/g/{g}/export/analytics.csv", params={"days": "7"})).text()
        assert "summary,opened,3" in table and "first_response_staff,median_s,600" in table
        assert (await client.get(f"/g/{g}/export/tickets.xml")).status == 404
    finally:
        await client.close()


def test_csv_cells_that_look_like_formulas_are_quoted():
    from web.insights import _csv

    text = _csv(["subject"], [['=HYPERLINK("http://x")'], ["+1"], ["-2"], ["@SUM(A1)"], ["fine"]])
    assert text.splitlines()[1:] == ['"\'=HYPERLINK(""http://x"")"', "'+1", "'-2", "'@SUM(A1)", "fine"]
