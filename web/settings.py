"""The dashboard's settings (read by app/settings.py from WEB_* in the environment)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WebSettings:
    enabled: bool
    host: str  # the only address the dashboard listens on
    port: int  # 0 = any free port
    public_url: str  # how people reach it (links given in Discord), without a trailing slash
    # Served by the bot process itself (WEB_IN_BOT); false when it runs on its own (`python bot.py web`).
    in_bot: bool = True

    def describe(self) -> str:
        if not self.enabled:
            return "off (WEB_ENABLED=false)"
        where = "the bot process" if self.in_bot else "its own process, `python bot.py web` (WEB_IN_BOT=false)"
        return f"served by {where} on {self.host}:{self.port}, linked as {self.public_url}"

    @property
    def secure_cookies(self) -> bool:
        """Cookies are marked Secure when people reach the dashboard over https (a reverse proxy)."""
        return self.public_url.startswith("https://")
