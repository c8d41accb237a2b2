"""Sign-in without passwords: single-use, short-lived, signed links and server-side sessions.

A link carries a random token and an HMAC of it (a garbled or forged link is refused before the
database is asked); the database keeps only the token's SHA-256, and one atomic UPDATE … RETURNING
spends it, so two clicks on one link sign in at most once. A session is a random id in an HttpOnly
cookie (hashed in the database too) with its own CSRF token. Sessions never hold permissions: what
a session may see is decided on every request (web/access.py).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from db.database import Database, utc_iso

LINK_TTL = timedelta(minutes=10)
SESSION_TTL = timedelta(hours=12)
Clock = Callable[[], datetime]


def real_clock() -> datetime:
    return datetime.now(UTC)


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True)
class Session:
    user_id: int  # 0 for a console session
    guild_id: int  # the server the link was given for (a console session sees only this one)
    console: bool
    csrf: str
    expires_at: str


@dataclass(frozen=True)
class SignIn:
    cookie: str  # the session id, known only now: the database keeps its hash
    session: Session


class Auth:
    def __init__(self, db: Database, *, clock: Clock = real_clock) -> None:
        self.db = db
        self.clock = clock
        self._secret: bytes | None = None

    async def secret(self) -> bytes:
        """The key that signs links: made once per database, kept in it."""
        if self._secret is None:
            await self.db.run(
                "INSERT INTO web_secrets (name, value) VALUES ('link_key', :value) ON CONFLICT (name) DO NOTHING",
                {"value": secrets.token_hex(32)},
            )
            row = await self.db.fetchone("SELECT value FROM web_secrets WHERE name = 'link_key'")
            assert row is not None
            self._secret = bytes.fromhex(row[0])
        return self._secret

    async def _signature(self, token: str) -> str:
        return hmac.new(await self.secret(), token.encode(), hashlib.sha256).hexdigest()[:32]

    async def create_link(
        self, *, user_id: int, guild_id: int, console: bool = False, ttl: timedelta = LINK_TTL
    ) -> str:
        """A new sign-in link's path (`/login/<token>.<signature>`); valid once, for `ttl`."""
        token = secrets.token_urlsafe(32)
        now = self.clock()
        await self.db.run(
            """INSERT INTO web_login_links (token_hash, user_id, guild_id, console, created_at, expires_at)
               VALUES (:hash, :user_id, :guild_id, :console, :now, :expires)""",
            {
                "hash": _hash(token), "user_id": user_id, "guild_id": guild_id, "console": int(console),
                "now": utc_iso(now), "expires": utc_iso(now + ttl),
            },
        )  # fmt: skip
        await self._forget_expired(now)
        return f"/login/{token}.{await self._signature(token)}"

    async def spend_link(self, raw: str) -> SignIn | None:
        """Sign in with a link's `<token>.<signature>`: a new session, or None when the link is not valid
        (garbled, forged, used or expired) — the caller cannot tell which, and neither can a guesser."""
        token, _, signature = raw.rpartition(".")
        if not token or not hmac.compare_digest(signature, await self._signature(token)):
            return None
        now = utc_iso(self.clock())
        row = await self.db.fetchone(
            """UPDATE web_login_links SET used_at = :now
               WHERE token_hash = :hash AND used_at IS NULL AND expires_at > :now
               RETURNING user_id, guild_id, console""",
            {"now": now, "hash": _hash(token)},
        )
        if row is None:
            return None
        return await self._new_session(row["user_id"], row["guild_id"], bool(row["console"]))

    async def _new_session(self, user_id: int, guild_id: int, console: bool) -> SignIn:
        now = self.clock()
        sid, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        expires = utc_iso(now + SESSION_TTL)
        await self.db.run(
            """INSERT INTO web_sessions (session_hash, user_id, guild_id, console, csrf, created_at, expires_at)
               VALUES (:hash, :user_id, :guild_id, :console, :csrf, :now, :expires)""",
            {
                "hash": _hash(sid), "user_id": user_id, "guild_id": guild_id, "console": int(console),
                "csrf": csrf, "now": utc_iso(now), "expires": expires,
            },
        )  # fmt: skip
        return SignIn(sid, Session(user_id, guild_id, console, csrf, expires))

    async def session(self, sid: str | None) -> Session | None:
        if not sid or len(sid) > 100:
            return None
        row = await self.db.fetchone(
            "SELECT user_id, guild_id, console, csrf, expires_at FROM web_sessions "
            "WHERE session_hash = :hash AND expires_at > :now",
            {"hash": _hash(sid), "now": utc_iso(self.clock())},
        )
        if row is None:
            return None
        return Session(row["user_id"], row["guild_id"], bool(row["console"]), row["csrf"], row["expires_at"])

    async def end_session(self, sid: str | None) -> None:
        if sid:
            await self.db.run("DELETE FROM web_sessions WHERE session_hash = :hash", {"hash": _hash(sid)})

    async def _forget_expired(self, now: datetime) -> None:
        # Spent and expired links and sessions are of no use; a day's grace keeps recent ones for a look.
        cutoff = {"cutoff": utc_iso(now - timedelta(days=1))}
        await self.db.run("DELETE FROM web_login_links WHERE expires_at < :cutoff", cutoff)
        await self.db.run("DELETE FROM web_sessions WHERE expires_at < :cutoff", cutoff)


def csrf_ok(session: Session, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(session.csrf, given or "")


class AttemptLimiter:
    """At most `limit` sign-in attempts per client in `window`; more are refused (HTTP 429) until it passes.

    In memory, per process: tokens are 256-bit, so this slows scripted guessing and keeps a flood of
    attempts off the database rather than being what keeps links secret.
    """

    def __init__(self, *, limit: int = 10, window: timedelta = timedelta(minutes=5), clock: Clock = real_clock):
        self.limit = limit
        self.window = window
        self.clock = clock
        self._seen: dict[str, deque[datetime]] = {}

    def allow(self, client: str) -> bool:
        now = self.clock()
        seen = self._seen.setdefault(client, deque())
        while seen and now - seen[0] >= self.window:
            seen.popleft()
        if len(seen) >= self.limit:
            return False
        seen.append(now)
        if len(self._seen) > 10_000:  # forget quiet clients so the table cannot grow without bound
            for key in [k for k, v in self._seen.items() if not v]:
                del self._seen[key]
        return True
