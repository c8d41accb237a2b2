"""The dashboard's security promises, each tested against a database filled through the real ticket flow."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

from tests.web.seed import EVIL_FILE_BODY, client_for, sign_in

PAGES = ("", "/tickets", "/tickets/{ticket}", "/analytics", "/memory", "/export", "/export/tickets.csv",
         "/export/tickets.json", "/export/analytics.csv", "/export/analytics.json", "/attachments/1")  # fmt: skip


def _paths(guild_id: int, ticket_id: int) -> list[str]:
    return [f"/g/{guild_id}{p.format(ticket=ticket_id)}" for p in PAGES]


async def test_every_page_and_export_needs_a_session(seeded):
    a = seeded.a
    async with client_for(seeded) as client:
        for path in ["/", *_paths(a.guild.id, seeded.evil_ticket)]:
            response = await client.get(path, allow_redirects=False)
            body = await response.text()
            assert response.status == 401, path
            assert "/dashboard" in body and "Password" not in body and "sam_staff" not in body, path
        for path in (f"/g/{a.guild.id}/memory/gaps/draft", f"/g/{a.guild.id}/memory/suggestions/1/reject", "/logout"):
            assert (await client.post(path, data={"csrf": "x"}, allow_redirects=False)).status == 401, path
        # A cookie that is not a session is no session.
        client.session.cookie_jar.update_cookies({"ticketbot_session": "forged"})
        assert (await client.get(f"/g/{a.guild.id}/tickets")).status == 401


async def test_a_link_signs_in_once_and_expires(seeded):
    a, auth = seeded.a, seeded.context.auth
    async with client_for(seeded) as client:
        link = await auth.create_link(user_id=a.staff.id, guild_id=a.guild.id)
        # Opening the link (a preview bot, a prefetch) only shows a button: it does not spend it.
        shown = await client.get(link)
        assert shown.status == 200 and 'id="sign-in"' in await shown.text()
        first = await client.post(link, allow_redirects=False)
        assert first.status == 303 and first.headers["Location"] == f"/g/{a.guild.id}"
        cookie = first.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
        assert (await client.get(f"/g/{a.guild.id}/tickets")).status == 200
        client.session.cookie_jar.clear()
        again = await client.post(link, allow_redirects=False)
        assert again.status == 403 and "Set-Cookie" not in again.headers
        token, _, signature = link.rpartition(".")
        forged = await auth.create_link(user_id=a.staff.id, guild_id=a.guild.id)
        assert (await client.post(forged[:-4] + "abcd", allow_redirects=False)).status == 403  # bad signature
        assert (await client.post(f"{token}.{'0' * len(signature)}", allow_redirects=False)).status == 403
        late = await auth.create_link(user_id=a.staff.id, guild_id=a.guild.id)
        await seeded.env.advance_time(11 * 60)  # links last 10 minutes
        assert (await client.post(late, allow_redirects=False)).status == 403
        assert (await client.post(forged, allow_redirects=False)).status == 403  # unused, but expired too


async def test_two_clicks_at_once_sign_in_once(seeded):
    a = seeded.a
    link = await seeded.context.auth.create_link(user_id=a.staff.id, guild_id=a.guild.id)
    async with client_for(seeded) as one, client_for(seeded) as two:
        results = await asyncio.gather(*(c.post(link, allow_redirects=False) for c in (one, two)))
        assert sorted(r.status for r in results) == [303, 403]


async def test_sessions_expire_and_sign_out_ends_them(seeded):
    a = seeded.a
    async with client_for(seeded) as client:
        await sign_in(client, seeded, a.staff.id, a.guild.id)
        page = await client.get(f"/g/{a.guild.id}/tickets")
        csrf = re.search(r'name="csrf" value="([^"]+)"', await page.text()).group(1)
        assert (await client.post("/logout", data={"csrf": csrf}, allow_redirects=False)).status == 303
        assert (await client.get(f"/g/{a.guild.id}/tickets")).status == 401
        await sign_in(client, seeded, a.staff.id, a.guild.id)
        # Sessions last 12 hours (the dashboard's own clock moves on: the bot's loops need not run for it).
        seeded.context.auth.clock = lambda: seeded.env.now() + timedelta(hours=13)
        assert (await client.get(f"/g/{a.guild.id}/tickets")).status == 401


async def test_staff_of_one_server_get_404_for_anything_of_another(seeded):
    a, b = seeded.a, seeded.b
    b_attachment = (await seeded.bot.core.archive.attachments(seeded.b_ticket))[0].id
    async with client_for(seeded) as client:
        await sign_in(client, seeded, a.staff.id, a.guild.id)
        wrong = [
            *_paths(b.guild.id, seeded.b_ticket),
            f"/g/{a.guild.id}/tickets/{seeded.b_ticket}",  # B's ticket under A's address
            f"/g/{a.guild.id}/attachments/{b_attachment}",
            f"/g/{b.guild.id}/attachments/{b_attachment}",
            "/g/999/tickets",
            "/g/not-a-number/tickets",
        ]
        for path in wrong:
            response = await client.get(path)
            body = await response.text()
            assert response.status == 404, path
            assert "secret" not in body and "carol" not in body, path
        home = await (await client.get("/")).text()
        assert "Support Server" in home and "Other Server" not in home


async def test_console_links_see_only_their_server(seeded):
    a, b = seeded.a, seeded.b
    async with client_for(seeded) as client:
        await sign_in(client, seeded, 0, a.guild.id, console=True)
        assert (await client.get(f"/g/{a.guild.id}/analytics")).status == 200
        assert (await client.get(f"/g/{b.guild.id}/tickets")).status == 404


async def test_an_opener_sees_only_their_own_tickets(seeded):
    a = seeded.a
    async with client_for(seeded) as client:
        await sign_in(client, seeded, a.alice.id, a.guild.id)
        listing = await client.get(f"/g/{a.guild.id}/tickets")
        text = await listing.text()
        assert listing.status == 200 and "Your tickets" in text
        assert "Password" in text and "Map crash" in text and "alert(&#34;subject" not in text
        assert "Analytics" not in text and "Route taken" not in text
        mine = await client.get(f"/g/{a.guild.id}/tickets/{seeded.password_ticket}")
        assert mine.status == 200 and 'id="notes"' not in await mine.text()  # staff notes are for staff
        evil_attachment = (await seeded.bot.core.archive.attachments(seeded.evil_ticket))[0].id
        for path in (
            f"/g/{a.guild.id}/tickets/{seeded.evil_ticket}", f"/g/{a.guild.id}/attachments/{evil_attachment}",
            f"/g/{a.guild.id}/analytics", f"/g/{a.guild.id}/memory", f"/g/{a.guild.id}/export",
            f"/g/{a.guild.id}/export/tickets.csv", f"/g/{seeded.b.guild.id}/tickets",
        ):  # fmt: skip
            assert (await client.get(path)).status == 404, path
        # Filters cannot widen the view: an opener filter is ignored, search stays within their tickets.
        other = await client.get(f"/g/{a.guild.id}/tickets", params={"opener": str(seeded.mallory.id), "q": "log"})
        assert "alert(&#34;subject" not in await other.text()


async def test_losing_the_staff_role_takes_effect_at_once(seeded):
    a = seeded.a
    async with client_for(seeded) as client:
        await sign_in(client, seeded, a.staff.id, a.guild.id)
        assert (await client.get(f"/g/{a.guild.id}/analytics")).status == 200
        seeded.env.backend.remove_member_role(a.guild.id, a.staff.id, a.staff_role.id)
        assert (await client.get(f"/g/{a.guild.id}/analytics")).status == 404
        assert (await client.get(f"/g/{a.guild.id}/tickets/{seeded.evil_ticket}")).status == 404


async def test_posts_need_the_sessions_csrf_token(seeded):
    a = seeded.a
    memory = seeded.bot.core.memory
    suggestion = await memory.suggest_qa(a.guild.id, "Where is the map?", "Under Menu → Map.")
    reject = f"/g/{a.guild.id}/memory/suggestions/{suggestion}/reject"
    async with client_for(seeded) as client:
        await sign_in(client, seeded, a.staff.id, a.guild.id)
        assert (await client.post(reject, allow_redirects=False)).status == 403
        assert (await client.post(reject, data={"csrf": "guessed"}, allow_redirects=False)).status == 403
        assert [s.id for s in await memory.list_suggestions(a.guild.id)] == [suggestion]
        page = await (await client.get(f"/g/{a.guild.id}/memory")).text()
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        done = await client.post(reject, data={"csrf": csrf}, allow_redirects=False)
        assert done.status == 303 and await memory.list_suggestions(a.guild.id) == []
    # A form posted from another site is refused even with the right token, and so is a sign-in.
    async with client_for(seeded) as client:
        await sign_in(client, seeded, a.staff.id, a.guild.id)
        page = await (await client.get(f"/g/{a.guild.id}/memory")).text()
        token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        target = await memory.suggest_qa(a.guild.id, "Where is the bank?", "Under Menu → Bank.")
        path = f"/g/{a.guild.id}/memory/suggestions/{target}/reject"
        foreign = {"Origin": "https://evil.example"}
        assert (await client.post(path, data={"csrf": token}, headers=foreign)).status == 403
        assert (await client.post(path, data={"csrf": token}, headers={"Origin": "null"})).status == 403
        same = {"Origin": str(client.make_url("")).rstrip("/")}
        assert (await client.post(path, data={"csrf": token}, headers=same, allow_redirects=False)).status == 303
        link = await seeded.context.auth.create_link(user_id=a.staff.id, guild_id=a.guild.id)
        assert (await client.post(link, headers=foreign, allow_redirects=False)).status == 403
        assert (await client.post(link, allow_redirects=False)).status == 303  # not spent by the refused one
    # Another session's token is no good either.
    async with client_for(seeded) as other:
        await sign_in(other, seeded, a.staff.id, a.guild.id)
        again = await memory.suggest_qa(a.guild.id, "Where is the shop?", "Under Menu → Shop.")
        path = f"/g/{a.guild.id}/memory/suggestions/{again}/reject"
        assert (await other.post(path, data={"csrf": csrf}, allow_redirects=False)).status == 403


def _inert(html: str) -> None:
    assert (
        "<script>alert" not in html
        and "<img src=x" not in html
        and "onerror=alert" not in html.replace("onerror=alert(&#34;", "")
    )
    assert not re.search(r"""href\s*=\s*["']?\s*javascript:""", html, re.I)
    assert not re.search(r"<script(?![^>]*(src=\"/static/|type=\"application/json\"))", html)


async def test_user_text_names_and_file_names_render_inert(seeded):
    a = seeded.a
    async with client_for(seeded) as client:
        await sign_in(client, seeded, a.staff.id, a.guild.id)
        for path in (f"/g/{a.guild.id}/tickets", f"/g/{a.guild.id}/tickets/{seeded.evil_ticket}",
                     f"/g/{a.guild.id}/analytics", f"/g/{a.guild.id}/memory",
                     f"/g/{a.guild.id}/tickets?q=%3Cscript%3E&opener=%22%3E%3Cimg"):  # fmt: skip
            html = await (await client.get(path)).text()
            _inert(html)
        html = await (await client.get(f"/g/{a.guild.id}/tickets/{seeded.evil_ticket}")).text()
        assert "&lt;script&gt;alert(&#34;subject&#34;)&lt;/script&gt;" in html  # shown as text
        assert "&lt;img src=x onerror=alert(&#34;name&#34;)&gt;" in html  # the display name
        assert "&#34;&gt;&lt;img src=x onerror=alert(&#34;file&#34;)&gt;.html" in html  # the file name
        assert "javascript:alert(1)" in html  # text, not a link
        assert '<a href="https://example.com/help" rel="noopener noreferrer nofollow"' in html  # only http(s) links
    # The HTML transcript in the log channel too.
    log_files = [m.attachments for m in seeded.a.log_channel.history() if m.attachments]
    html_file = next(f for files in log_files for f in files if f.filename == f"ticket-{seeded.evil_ticket}.html")
    _inert((await html_file.read()).decode())


async def test_attachments_download_as_opaque_files(seeded):
    a = seeded.a
    [saved] = await seeded.bot.core.archive.attachments(seeded.evil_ticket)
    async with client_for(seeded) as client:
        await sign_in(client, seeded, a.staff.id, a.guild.id)
        response = await client.get(f"/g/{a.guild.id}/attachments/{saved.id}")
        assert response.status == 200 and await response.read() == EVIL_FILE_BODY
        disposition = response.headers["Content-Disposition"]
        assert disposition.startswith("attachment;") and "<" not in disposition and '">' not in disposition
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Content-Type"] == "application/octet-stream"
        assert "sandbox" in response.headers["Content-Security-Policy"]


async def test_pages_carry_a_strict_content_security_policy(seeded):
    a = seeded.a
    async with client_for(seeded) as client:
        await sign_in(client, seeded, a.staff.id, a.guild.id)
        response = await client.get(f"/g/{a.guild.id}/analytics")
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert response.headers["Referrer-Policy"] == "same-origin" and response.headers["Cache-Control"] == "no-store"


async def test_sign_in_attempts_are_rate_limited(seeded):
    a = seeded.a
    async with client_for(seeded) as client:
        for _ in range(5):  # the seeded limiter allows 5 attempts per client in 5 minutes
            assert (await client.post("/login/nothing.here", allow_redirects=False)).status == 403
        good = await seeded.context.auth.create_link(user_id=a.staff.id, guild_id=a.guild.id)
        assert (await client.post(good, allow_redirects=False)).status == 429  # even a good link, for now
        assert (await client.get(good)).status == 429
        await seeded.env.advance_time(5 * 60)
        assert (await client.post(good, allow_redirects=False)).status == 303  # and it was not spent


async def test_numbers_too_big_for_the_database_are_not_found_not_errors(seeded):
    """Ids and filters come from the address: one past the database's 64-bit integers (typed, or a scanner's
    probe) is a ticket, attachment or opener that does not exist, never an internal error."""
    a = seeded.a
    huge = "9" * 30
    async with client_for(seeded) as client:
        await sign_in(client, seeded, a.staff.id, a.guild.id)
        for path in (f"/g/{a.guild.id}/tickets/{huge}", f"/g/{a.guild.id}/attachments/{huge}", f"/g/{huge}/tickets"):
            assert (await client.get(path)).status == 404, path
        for query in (f"opener={huge}", f"claimer={huge}", "opener=%C2%B2", f"page={huge}", f"page=-{huge}"):
            response = await client.get(f"/g/{a.guild.id}/tickets?{query}")
            assert response.status == 200, query
            assert (await client.get(f"/g/{a.guild.id}/export/tickets.csv?{query}")).status == 200, query
        for query in (f"page={huge}", f"days={huge}"):
            assert (await client.get(f"/g/{a.guild.id}/memory?{query}")).status == 200, query
        # The last day a date can be: the day after it, where a period ends, is past what Python's dates hold.
        for path in ("tickets", "analytics", "memory", "export/tickets.csv", "export/analytics.json"):
            response = await client.get(f"/g/{a.guild.id}/{path}?from=9999-12-01&to=9999-12-31")
            assert response.status in (200, 400), (path, response.status)
        page = await (await client.get(f"/g/{a.guild.id}/memory")).text()
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        posted = await client.post(
            f"/g/{a.guild.id}/memory/suggestions/{huge}/reject", data={"csrf": csrf}, allow_redirects=False
        )
        assert posted.status in (303, 404), posted.status
        drafted = await client.post(
            f"/g/{a.guild.id}/memory/gaps/draft",
            data={"csrf": csrf, "question": "Where is the map?", "answer": "Under Menu → Map.", "ticket_id": huge},
            allow_redirects=False,
        )
        assert drafted.status == 303, drafted.status
