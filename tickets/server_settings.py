"""Per-server settings: a registry of typed, validated keys, their values per server, and /settings.

Adding a setting is one line here, e.g.

    REOPEN_WINDOW_HOURS = REGISTRY.add(Number("reopen_window_hours", "Hours after closing …", 48, lo=0, hi=720))

and reading it is `(await core.server_settings.of(guild_id)).get(REOPEN_WINDOW_HOURS)` (typed: a float here).
`/settings view` and `/settings set` list and validate it with no further code, and the registry test
checks its default, its round trip and that README documents it. A setting with `env=` takes its
default from that `.env` setting (so servers that never ran /settings keep behaving as configured).
Values are stored as text, as typed after validation (`server_settings` table).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Generic, TypeVar, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tickets.errors import InvalidInput
from tickets.hours import hours_problem
from tickets.settings_store import SettingsStore

log = logging.getLogger(__name__)

T = TypeVar("T")
S = TypeVar("S", bound="Setting[Any]")

_TRUE = ("true", "yes", "on", "1", "enabled")
_FALSE = ("false", "no", "off", "0", "disabled")


@dataclass(frozen=True)
class Setting(Generic[T]):
    """One per-server setting: its key, what it means, its default, and how a typed value is read."""

    key: str
    description: str
    default: T
    env: str | None = None  # the `.env` setting whose value is the default for every server

    def parse(self, raw: str) -> T:
        """The value `raw` stands for; raises InvalidInput saying what is accepted."""
        raise NotImplementedError

    def show(self, value: T) -> str:
        return str(value)

    @property
    def accepts(self) -> str:
        """What may be typed, for the refusal and /settings view."""
        return "text"


@dataclass(frozen=True)
class Integer(Setting[int]):
    lo: int = 0
    hi: int = 1_000_000

    def parse(self, raw: str) -> int:
        try:
            value = int(raw.strip())
        except ValueError:
            raise InvalidInput(f"{self.key} takes a whole number ({self.accepts}).") from None
        if not self.lo <= value <= self.hi:
            raise InvalidInput(f"{self.key} must be {self.accepts}.")
        return value

    @property
    def accepts(self) -> str:
        return f"{self.lo}–{self.hi}"


@dataclass(frozen=True)
class Number(Setting[float]):
    lo: float = 0.0
    hi: float = 1_000_000.0

    def parse(self, raw: str) -> float:
        try:
            value = float(raw.strip().replace(",", "."))
        except ValueError:
            raise InvalidInput(f"{self.key} takes a number ({self.accepts}).") from None
        if not math.isfinite(value) or not self.lo <= value <= self.hi:
            raise InvalidInput(f"{self.key} must be {self.accepts}.")
        return value

    def show(self, value: float) -> str:
        return f"{value:g}"

    @property
    def accepts(self) -> str:
        return f"{self.lo:g}–{self.hi:g}"


@dataclass(frozen=True)
class Boolean(Setting[bool]):
    def parse(self, raw: str) -> bool:
        word = raw.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise InvalidInput(f"{self.key} is {self.accepts}.")

    def show(self, value: bool) -> str:
        return "on" if value else "off"

    @property
    def accepts(self) -> str:
        return "on or off"


@dataclass(frozen=True)
class Choice(Setting[str]):
    choices: tuple[str, ...] = ()

    def parse(self, raw: str) -> str:
        word = raw.strip().lower()
        if word not in self.choices:
            raise InvalidInput(f"{self.key} is one of: {self.accepts}.")
        return word

    @property
    def accepts(self) -> str:
        return ", ".join(self.choices)


@dataclass(frozen=True)
class Text(Setting[str]):
    max_length: int = 200
    # Returns what is wrong with a value (None: fine), for text with a shape (e.g. "09:00-17:00").
    check: Callable[[str], str | None] | None = None

    def parse(self, raw: str) -> str:
        value = raw.strip()
        if len(value) > self.max_length:
            raise InvalidInput(f"{self.key} can have at most {self.max_length} characters.")
        problem = self.check(value) if self.check and value else None
        if problem:
            raise InvalidInput(f"{self.key}: {problem}")
        return value

    def show(self, value: str) -> str:
        return value or "(empty)"

    @property
    def accepts(self) -> str:
        return f"text, at most {self.max_length} characters"


def time_zone_problem(name: str) -> str | None:
    """For a `Text(check=…)` holding an IANA time zone such as Europe/Berlin."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"“{name[:40]}” is not a time zone; use a name such as Europe/Berlin or America/New_York."
    return None


class SettingsRegistry:
    """Every per-server setting, in the order /settings view lists them."""

    def __init__(self) -> None:
        self._settings: dict[str, Setting[Any]] = {}

    def add(self, setting: S) -> S:
        if setting.key in self._settings:
            raise ValueError(f"setting {setting.key!r} is registered twice")
        self._settings[setting.key] = setting
        return setting

    def get(self, key: str) -> Setting[Any]:
        found = self._settings.get(key.strip().lower())
        if found is None:
            raise InvalidInput(f"There is no setting “{key[:40]}”. /settings view lists them.")
        return found

    def __iter__(self) -> Iterator[Setting[Any]]:
        return iter(self._settings.values())

    def __len__(self) -> int:
        return len(self._settings)

    def with_env_defaults(self, env: Mapping[str, str]) -> SettingsRegistry:
        """A copy whose defaults come from `env` (the `.env` values) where a setting names one.

        A value the setting cannot take keeps the built-in default (logged): app/settings.py has
        validated it already, with the same ranges, so this only guards against the two drifting.
        """
        copy = SettingsRegistry()
        for setting in self:
            raw = env.get(setting.env, "") if setting.env else ""
            if raw.strip():
                try:
                    setting = replace(setting, default=setting.parse(raw))
                except InvalidInput:
                    log.warning("%s=%r does not suit the server setting %s; using %r", setting.env, raw,
                                setting.key, setting.default)  # fmt: skip
            copy.add(setting)
        return copy


REGISTRY = SettingsRegistry()

# Opening tickets (anti-spam for members; staff opening a ticket for someone skip them).
MAX_OPEN_TICKETS = REGISTRY.add(
    Integer("max_open_tickets", "Open tickets one member may have at once", 3, "MAX_OPEN_TICKETS", lo=1, hi=100)
)
TICKET_COOLDOWN_SECONDS = REGISTRY.add(
    Integer("ticket_cooldown_seconds", "Seconds a member waits between opening two tickets", 60,
            "TICKET_COOLDOWN_SECONDS", lo=0, hi=86_400)
)  # fmt: skip
# Auto-close.
SOLVED_CLOSE_DELAY_HOURS = REGISTRY.add(
    Number("solved_close_delay_hours", "Hours after Solved before the ticket closes by itself (0 = never)", 1.0,
           "SOLVED_CLOSE_DELAY_HOURS", lo=0, hi=720)
)  # fmt: skip
IDLE_WARN_HOURS = REGISTRY.add(
    Number("idle_warn_hours", "Hours without activity before a ticket gets a warning (0 = no idle handling)", 48.0,
           "IDLE_WARN_HOURS", lo=0, hi=8760)
)  # fmt: skip
IDLE_CLOSE_AFTER_WARN_HOURS = REGISTRY.add(
    Number("idle_close_after_warn_hours", "Hours after that warning before the ticket closes (0 = warn only)", 24.0,
           "IDLE_CLOSE_AFTER_WARN_HOURS", lo=0, hi=8760)
)  # fmt: skip
# The staff desk: reopening, close requests, the on-call rotation, urgency detection.
REOPEN_WINDOW_HOURS = REGISTRY.add(
    Number("reopen_window_hours", "Hours after closing during which /reopen works (0 = no reopening)", 48.0,
           lo=0, hi=720)
)  # fmt: skip
CLOSE_REQUEST_HOURS = REGISTRY.add(
    Number("close_request_hours", "Hours a /close_request waits for the opener before the ticket closes "
           "(0 = it waits for an answer)", 24.0, lo=0, hi=720)
)  # fmt: skip
ONCALL_ROTATION = REGISTRY.add(
    Boolean("oncall_rotation", "Assign new tickets in turn to staff who are on call (/oncall on)", False)
)
URGENCY_DETECTION = REGISTRY.add(
    Choice("urgency_detection", "Flag urgent or angry tickets, raising their priority (auto: model, else keywords)",
           "auto", choices=("auto", "rules", "off"))
)  # fmt: skip
# Who may open tickets (members; staff opening a ticket for someone skip these too): tickets/gates.py.
MIN_ACCOUNT_AGE_HOURS = REGISTRY.add(
    Number("min_account_age_hours", "Hours a Discord account must exist before it can open tickets (0 = any)", 0.0,
           lo=0, hi=8760)
)  # fmt: skip
MAX_TICKETS_PER_HOUR = REGISTRY.add(
    Integer("max_tickets_per_hour", "Tickets members may open per hour on this server, all together (0 = no cap)",
            0, lo=0, hi=10_000)
)  # fmt: skip
# Reminders and SLA (tickets/schedule.py), support hours (tickets/hours.py), ratings (tickets/ratings.py).
STAFF_REPING_MINUTES = REGISTRY.add(
    Integer("staff_reping_minutes", "Minutes of support hours a ticket waits for staff before they are pinged "
            "again (0 = off)", 0, lo=0, hi=10_080)
)  # fmt: skip
STAFF_REPING_REPEAT_MINUTES = REGISTRY.add(
    Integer("staff_reping_repeat_minutes", "Then again every so many minutes, 3 re-pings at most (0 = once)", 0,
            lo=0, hi=10_080)
)  # fmt: skip
OPENER_REMINDER_HOURS = REGISTRY.add(
    Number("opener_reminder_hours", "Hours a ticket waits on its opener before they are reminded (0 = off)", 0.0,
           lo=0, hi=720)
)  # fmt: skip
OPENER_REMINDERS = REGISTRY.add(
    Integer("opener_reminders", "How many reminders an opener gets per wait, before the idle warning", 1, lo=1, hi=5)
)
SUPPORT_HOURS = REGISTRY.add(
    Text("support_hours", "When staff are there, e.g. mon-fri 09:00-17:00 (empty = always)", "", max_length=200,
         check=hours_problem)
)  # fmt: skip
SUPPORT_TIME_ZONE = REGISTRY.add(
    Text("support_time_zone", "The time zone of support_hours, e.g. Europe/Berlin", "UTC", max_length=64,
         check=time_zone_problem)
)  # fmt: skip
RATING_PROMPT = REGISTRY.add(
    Boolean("rating_prompt", "Ask the opener to rate the ticket (1–5 and a comment) when it closes", True)
)
# The ticket panel says when staff are there: changing these edits the panels already posted.
SHOWN_ON_PANEL = frozenset({SUPPORT_HOURS.key, SUPPORT_TIME_ZONE.key})


@dataclass(frozen=True)
class ServerSettings:
    """One server's settings: what it set, the registry's defaults for the rest."""

    guild_id: int
    registry: SettingsRegistry
    values: Mapping[str, object] = field(default_factory=dict)

    def get(self, setting: Setting[T]) -> T:
        # The registry's copy carries the default from `.env`; `setting` may be the module's own: same type.
        return cast(T, self._value(setting.key))

    def _value(self, key: str) -> object:
        return self.values[key] if key in self.values else self.registry.get(key).default

    def is_set(self, setting: Setting[Any]) -> bool:
        return setting.key in self.values

    def seconds(self, setting: Setting[float] | Setting[int], *, per: int = 3600) -> int:
        """A duration setting in whole seconds (`per`: seconds per unit of the setting: 3600 for hours, the
        default; 60 for minutes)."""
        return int(cast(float, self._value(setting.key)) * per)


class ServerSettingsService:
    """Reads (cached) and changes the settings of each server."""

    def __init__(self, store: SettingsStore, registry: SettingsRegistry = REGISTRY) -> None:
        self.store = store
        self.registry = registry
        self._cache: dict[int, ServerSettings] = {}

    async def of(self, guild_id: int) -> ServerSettings:
        if guild_id not in self._cache:
            values: dict[str, object] = {}
            for key, raw in (await self.store.values(guild_id)).items():
                try:
                    values[key] = self.registry.get(key).parse(raw)
                except InvalidInput:
                    # A setting since removed or narrowed: the default applies (and says so in /settings view).
                    log.warning("Ignoring stored setting %s=%r of guild %d", key, raw, guild_id)
            self._cache[guild_id] = ServerSettings(guild_id, self.registry, values)
        return self._cache[guild_id]

    async def set(self, guild_id: int, key: str, raw: str, *, by: int, now: datetime) -> tuple[Setting[Any], object]:
        """Validate and store one value; returns the setting and the value it now has. Raises InvalidInput."""
        setting = self.registry.get(key)
        value = setting.parse(raw)
        await self.store.put(guild_id, setting.key, raw.strip(), by=by, now=now)
        self._cache.pop(guild_id, None)
        log.info("Guild %d set %s = %r", guild_id, setting.key, value)
        return setting, value

    async def reset(self, guild_id: int, key: str) -> Setting[Any]:
        """Back to the default (the `.env` value or the built-in one)."""
        setting = self.registry.get(key)
        await self.store.delete(guild_id, setting.key)
        self._cache.pop(guild_id, None)
        return setting
