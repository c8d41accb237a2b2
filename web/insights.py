"""The Analytics page and the exports (CSV and JSON of tickets and analytics)."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from typing import Any

from aiohttp import web

from tickets.analytics import AnalyticsReport, Period, TicketRow
from web.app import context, page, viewer
from web.pages import parse_day, ticket_filter

DAY_CHOICES = (7, 30, 90, 365)
EXPORT_LIMIT = 100_000
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def period_of(request: web.Request, problems: list[str]) -> tuple[Period, int | None]:
    """The chosen period: from/to dates, else the last `days` days (30 by default), ending today (UTC)."""
    now = context(request).clock()
    first = parse_day(request.query.get("from"), problems, "From")
    last = parse_day(request.query.get("to"), problems, "To")
    if first and last:
        if last < first or (last - first).days > 3660:
            problems.append("The period must start before it ends and last at most ten years.")
        else:
            return Period.between(first, last), None
    try:
        days = int(request.query.get("days", "30"))
    except ValueError:
        days = 30
    days = min(max(days, 1), 3660)
    return Period.last_days(days, now), days


async def analytics(request: web.Request) -> web.Response:
    view = await viewer(request, staff_only=True)
    problems: list[str] = []
    period, days = period_of(request, problems)
    report = await context(request).analytics.report(view.guild_id, period)
    peak = max((max(row) for row in report.heatmap), default=0)
    charts = {
        "days": [d.day for d in report.days],
        "opened": [d.opened for d in report.days],
        "closed": [d.closed for d in report.days],
        "backlog": [d.backlog for d in report.days],
        "routes": {r.route: r.answers for r in report.routes},
    }
    return page(
        request, "analytics.html", view,
        {
            "r": report, "days": days, "day_choices": DAY_CHOICES, "problems": problems, "charts": charts,
            "peak": peak, "weekdays": WEEKDAYS, "last_day": report.days[-1].day if report.days else "",
            "query_string": request.query_string,
        },
    )  # fmt: skip


async def export_page(request: web.Request) -> web.Response:
    view = await viewer(request, staff_only=True)
    return page(request, "export.html", view, {"day_choices": DAY_CHOICES})


def _format(request: web.Request) -> str:
    fmt = request.match_info["fmt"]
    if fmt not in ("csv", "json"):
        raise web.HTTPNotFound()
    return fmt


def _download(body: str, filename: str, fmt: str) -> web.Response:
    return web.Response(
        text=body,
        content_type="text/csv" if fmt == "csv" else "application/json",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _cell(value: object) -> object:
    """A spreadsheet must not run what a user typed: text that starts like a formula is quoted."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


def _csv(header: list[str], rows: list[list[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([[_cell(v) for v in row] for row in rows])
    return out.getvalue()


async def export_tickets(request: web.Request) -> web.Response:
    view = await viewer(request, staff_only=True)
    fmt = _format(request)
    analytics = context(request).analytics
    f = ticket_filter(view, request.query, [])
    rows: list[TicketRow] = []
    number, pages = 1, 1
    while number <= pages and len(rows) < EXPORT_LIMIT:
        result = await analytics.tickets(view.guild_id, f, page=number, per_page=1000)
        rows += result.rows
        pages, number = result.pages, number + 1
    records = [dataclasses.asdict(r) for r in rows[:EXPORT_LIMIT]]
    if fmt == "json":
        return _download(json.dumps(records, ensure_ascii=False, indent=1), "tickets.json", fmt)
    header = [f.name for f in dataclasses.fields(rows[0])] if rows else ["id"]
    return _download(_csv(header, [[r[h] for h in header] for r in records]), "tickets.csv", fmt)


def report_dict(r: AnalyticsReport) -> dict[str, Any]:
    return {
        "guild_id": r.guild_id,
        "since": r.period.since.isoformat(),
        "until": r.period.until.isoformat(),
        "opened": r.opened,
        "closed": r.closed,
        "open_at_end": r.backlog_now,
        "days": [dataclasses.asdict(d) for d in r.days],
        "first_response_bot": dataclasses.asdict(r.first_bot),
        "first_response_staff": dataclasses.asdict(r.first_staff),
        "resolution": dataclasses.asdict(r.resolution),
        "deflection": {**dataclasses.asdict(r.deflection), "rate": r.deflection.rate},
        "routes": [dataclasses.asdict(x) for x in r.routes],
        "saved_answer_hit_rate": r.saved_answer_hit_rate,
        "ratings": dataclasses.asdict(r.ratings) if r.ratings else None,
        "staff": [dataclasses.asdict(s) for s in r.staff],
        "busiest_hours_utc": {WEEKDAYS[d]: r.heatmap[d] for d in range(7)},
        "close_reasons": dict(r.close_reasons),
        "categories": dict(r.categories),
    }


def _report_rows(d: dict[str, Any]) -> list[list[object]]:
    """The report as (section, key, value) rows: one CSV for every table of the page."""
    rows: list[list[object]] = []
    for key in ("since", "until", "opened", "closed", "open_at_end", "saved_answer_hit_rate"):
        rows.append(["summary", key, d[key]])
    for section in ("first_response_bot", "first_response_staff", "resolution", "deflection"):
        rows += [[section, k, v] for k, v in d[section].items()]
    for day in d["days"]:
        rows += [["day " + day["day"], k, v] for k, v in day.items() if k != "day"]
    for route in d["routes"]:
        rows += [["route " + route["route"], k, v] for k, v in route.items() if k != "route"]
    for s in d["staff"]:
        rows += [[f"staff {s['staff_id']}", k, v] for k, v in s.items() if k != "staff_id"]
    for weekday, hours in d["busiest_hours_utc"].items():
        rows += [[f"hour {weekday}", f"{h:02d}", n] for h, n in enumerate(hours)]
    rows += [["close reason", k, v] for k, v in d["close_reasons"].items()]
    rows += [["category", k, v] for k, v in d["categories"].items()]
    rows.append(["ratings", "recorded", "yes" if d["ratings"] else "not recorded"])
    return rows


async def export_analytics(request: web.Request) -> web.Response:
    view = await viewer(request, staff_only=True)
    fmt = _format(request)
    period, _days = period_of(request, [])
    data = report_dict(await context(request).analytics.report(view.guild_id, period))
    if fmt == "json":
        return _download(json.dumps(data, ensure_ascii=False, indent=1), "analytics.json", fmt)
    return _download(_csv(["section", "key", "value"], _report_rows(data)), "analytics.csv", fmt)
