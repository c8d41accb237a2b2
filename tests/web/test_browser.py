"""A real browser: headless Chromium (Debian's package) driven by Playwright signs in through a link, filters
the ticket list, opens a transcript and the analytics page, and finds the numbers the seeded tickets imply.
Screenshots of each page land in the test's temporary directory.

Locally the test is skipped, saying why, when Chromium or Playwright is missing; CI sets REQUIRE_BROWSER=1
(.ci/run installs Chromium), and there a missing browser fails the test instead.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from tests.web.seed import EVIL_SUBJECT, Seeded
from web.server import create_app

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
# Root needs --no-sandbox; the rest keep Chromium from reaching for Google's services on a closed network.
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]  # fmt: skip


def _browser_or_skip() -> None:
    problem = None
    if not Path(CHROMIUM).exists():
        problem = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    else:
        try:
            import playwright.async_api  # noqa: F401
        except ImportError:
            problem = "Playwright is not installed (pip install -r requirements-dev.txt)"
    if problem is None:
        return
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"REQUIRE_BROWSER=1 but {problem}")
    pytest.skip(problem)


async def test_a_real_browser_signs_in_filters_reads_a_transcript_and_the_analytics(seeded: Seeded, tmp_path):
    _browser_or_skip()
    from playwright.async_api import async_playwright

    g = seeded.a.guild.id
    async with TestServer(create_app(seeded.context), host="127.0.0.1") as server, async_playwright() as p:
        base = str(server.make_url("")).rstrip("/")
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = await browser.new_page(viewport={"width": 390, "height": 844})  # a phone
            problems: list[str] = []
            page.on("dialog", lambda d: problems.append(f"dialog: {d.message}"))
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.on("console", lambda m: problems.append(f"console: {m.text}") if m.type == "error" else None)

            link = await seeded.context.auth.create_link(user_id=seeded.a.staff.id, guild_id=g)
            await page.goto(base + link)
            await page.click("#sign-in")
            await page.wait_for_url(f"**/g/{g}/analytics")
            # Charts are drawn by a script under a strict CSP (no eval): wait on the flag it sets.
            await page.wait_for_selector("body[data-charts-ready]", state="attached")
            assert await page.inner_text("#kpi-opened") == "3"
            assert await page.inner_text("#kpi-closed") == "2"
            assert await page.inner_text("#kpi-backlog") == "1"
            assert await page.inner_text("#kpi-deflection") == "50 %"
            assert await page.inner_text("#kpi-hit-rate") == "25 %"
            staff_row = await page.locator("#staff tbody tr").first.inner_text()
            # Claimed nothing (claims are recorded); answered and closed mallory's ticket, rated 2.
            assert staff_row.split("\t") == ["sam_staff", "0", "1", "1", "2.00"]
            assert await page.locator("#volume-chart").bounding_box() is not None
            await page.screenshot(path=str(tmp_path / "analytics.png"), full_page=True)

            await page.click("nav >> text=Tickets")
            await page.wait_for_url(f"**/g/{g}/tickets")
            assert await page.locator("#tickets tbody tr").count() == 3
            await page.fill("input[name=q]", "turning it off")
            await page.select_option("select[name=status]", "closed")
            await page.click("#filters button")
            await page.wait_for_url("**status=closed**")
            rows = page.locator("#tickets tbody tr")
            assert await rows.count() == 1
            assert EVIL_SUBJECT in await rows.first.inner_text()  # shown as text, not run
            await page.screenshot(path=str(tmp_path / "tickets.png"), full_page=True)

            await rows.first.locator("a").click()
            await page.wait_for_url(f"**/tickets/{seeded.evil_ticket}")
            assert await page.inner_text("h1.subject") == EVIL_SUBJECT
            transcript = await page.inner_text(".transcript")
            assert "Have you tried turning it off and on again?" in transcript and "model" in transcript
            assert await page.locator(".attachment a").count() == 1
            assert await page.locator("a[href^='javascript:']").count() == 0
            await page.screenshot(path=str(tmp_path / "ticket.png"), full_page=True)

            await page.click("nav >> text=Memory")
            await page.wait_for_url(f"**/g/{g}/memory")
            assert "The app crashes when I open the map view." in await page.inner_text("#gaps")
            await page.screenshot(path=str(tmp_path / "memory.png"), full_page=True)

            assert problems == [], problems
            for name in ("analytics", "tickets", "ticket", "memory"):
                assert (tmp_path / f"{name}.png").stat().st_size > 5000
        finally:
            await browser.close()
