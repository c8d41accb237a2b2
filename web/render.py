"""Templates (Jinja2, autoescaped) and the filters they use; the self-contained transcript file.

Everything a user, a member or Discord wrote reaches HTML through autoescaping. The only markup made
from user text is `linkify`, which escapes the text first and turns http(s) URLs (nothing else, so no
`javascript:`) into links that open without a referrer.
"""

from __future__ import annotations

import re
import zlib
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
_URL = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
_MENTION = re.compile(r"<@[!&]?(\d+)>|<#(\d+)>")
AVATAR_COLOURS = 8


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    return f"{seconds // 86400} d {seconds % 86400 // 3600} h"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f} %"


def when(value: str | None) -> str:
    if not value:
        return "—"
    try:
        return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return value


def initials(name: str) -> str:
    letters = [w[0] for w in re.findall(r"\w+", name)][:2]
    return "".join(letters).upper() or "?"


def avatar_colour(key: object) -> int:
    return zlib.crc32(str(key).encode()) % AVATAR_COLOURS


def file_size(size: int) -> str:
    for unit in ("B", "KiB", "MiB"):
        if size < 1024 or unit == "MiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    return f"{size} B"


def linkify(text: str) -> Markup:
    out, last = [], 0
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(".,);:!?")
        end = match.start() + len(url)
        out.append(escape(text[last : match.start()]))
        out.append(Markup('<a href="{0}" rel="noopener noreferrer nofollow" target="_blank">{0}</a>').format(url))
        last = end
    out.append(escape(text[last:]))
    return Markup("").join(out)


def discord_text(text: str, names: dict[int, str] | None = None) -> Markup:
    """A message as Discord shows it: mentions as @name (or @someone when unknown), http(s) links clickable,
    everything else escaped text."""
    names = names or {}

    def mention(match: re.Match[str]) -> str:
        if match.group(2):
            return "#channel"
        if match.group(0).startswith("<@&"):
            return "@role"
        return "@" + names.get(int(match.group(1)), "someone")

    return linkify(_MENTION.sub(mention, text))


def heat_level(value: int, peak: int) -> int:
    """0 for nothing, else 1–5 by the share of the busiest hour (the heatmap's shades)."""
    return 0 if not value or not peak else max(1, min(5, -(-5 * value // peak)))


FILTERS: dict[str, Any] = {
    "duration": duration,
    "percent": percent,
    "when": when,
    "initials": initials,
    "avatar_colour": avatar_colour,
    "file_size": file_size,
    "linkify": linkify,
    "discord_text": discord_text,
    "heat_level": heat_level,
}


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined
    )
    env.filters.update(FILTERS)
    return env


_FILE_ENV = environment()


def transcript_file(context: dict[str, Any]) -> str:
    """The transcript as one HTML file: styles inline, no scripts, no external resources (for the log
    channel; opens offline in any browser)."""
    return _FILE_ENV.get_template("transcript_file.html").render(context)
