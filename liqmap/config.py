"""Settings read from the environment and ``.env``, validated once at start."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from liqmap.errors import ConfigError
from liqmap.market.instruments import ALL
from liqmap.market.request_weights import SCAN_WEIGHT_PER_MINUTE
from liqmap.market.venues import VENUES
from liqmap.policies.access import Access
from liqmap.policies.fair_use import SubscriptionLimits
from liqmap.policies.webhook_targets import allowed_hosts

TELEGRAM_API_URL = "https://api.telegram.org"
HYPERLIQUID_LEADERBOARD_URL = "https://stats-data.hyperliquid.xyz/Mainnet/leaderboard"
"""Where Hyperliquid's web app reads its leaderboard (undocumented: see
``liqmap.exchanges.leaderboard``)."""
MAX_INTERVAL_SECONDS = 7 * 24 * 3600
MAX_COUNT = 100_000
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
WHALE_ADDRESSES = ("shown", "hidden")
T = TypeVar("T")
_TOKEN_SHAPE = re.compile(r"^\d+:[A-Za-z0-9_-]{20,}$")
WEBHOOK_LISTEN = ("127.0.0.1", 8443)
WEBHOOK_PORTS = (443, 80, 88, 8443)
"""The ports Telegram posts webhook updates to (core.telegram.org/bots/api#setwebhook)."""
_PLAIN_PATH = re.compile(r"^[A-Za-z0-9._~/-]*$")
"""A path the webhook server routes as written (python-telegram-bot makes it a pattern)."""
_SECRET_SHAPE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
"""A webhook secret token as the Bot API allows it: 1-256 of A-Z, a-z, 0-9, _ and -."""


@dataclass(frozen=True)
class Webhook:
    """Where Telegram posts the updates in webhook mode, and what the bot listens on."""

    url: str
    """The public HTTPS URL Telegram posts to (a reverse proxy in front of ``listen``)."""
    secret: str = field(repr=False)
    """Sent by Telegram in the ``X-Telegram-Bot-Api-Secret-Token`` header of every update."""
    listen: tuple[str, int] = WEBHOOK_LISTEN
    """Where the bot's own HTTP server listens (host "" means every interface)."""

    @property
    def path(self) -> str:
        """The URL's path, which the proxy forwards unchanged and the server answers on."""
        return urlsplit(self.url).path or "/"


@dataclass(frozen=True)
class Settings:
    """Everything configurable about one running liqmap."""

    telegram_bot_token: str | None = field(default=None, repr=False)
    telegram_api_url: str = TELEGRAM_API_URL
    db_path: Path = Path("liqmap.db")
    default_exchange: str = "okx"
    exchange_urls: Mapping[str, str] = field(default_factory=dict)
    ws_urls: Mapping[str, str] = field(default_factory=dict)
    """Websocket origin per exchange (``ws(s)://host:port``) for the liquidation recorder."""
    refresh_seconds: float = 300.0
    price_seconds: float = 15.0
    allowed_chats: frozenset[int] = frozenset()
    admin_chats: frozenset[int] = frozenset()
    max_watched: int = 150
    """Instruments the service watches for alerts at most, across all chats."""
    max_subscriptions: int = 30
    """Instruments one chat may subscribe to."""
    maps_per_minute: int = 6
    """Map computations one chat, and one user, may ask for a minute (stored maps are free)."""
    log_level: str = "INFO"
    """The least severe log records written (``-v`` writes DEBUG whatever this says)."""
    metrics_address: tuple[str, int] | None = None
    """Where ``liqmap run`` serves Prometheus metrics (host "" means every interface); None:
    no endpoint."""
    maps_per_minute_total: int = 10
    """Map computations all chats together may ask for a minute: what OKX's request pace
    serves beside the refreshes (``docs/architecture.md`` §6)."""
    scan_seconds: float = 600.0
    """How often ``liqmap run`` starts a pass of the scanner of real positions."""
    scan_weight_per_minute: int = SCAN_WEIGHT_PER_MINUTE
    """Hyperliquid request weight the scanner spends a minute at most: at most half of the
    documented 1200 a minute per IP."""
    whale_addresses: str = "shown"
    """Whether ``/whales`` shows each position's account address, shortened (``shown``), or
    leaves it out (``hidden``)."""
    hyperliquid_leaderboard_url: str | None = HYPERLIQUID_LEADERBOARD_URL
    """Where Hyperliquid accounts are listed with their account value, for the scanner to find
    them; None: not asked."""
    webhook: Webhook | None = None
    """Webhook mode: Telegram posts updates to this URL; None: long polling (the default)."""
    inline_cache_chat: int | None = None
    """The chat (a private channel the bot posts in) where a chart is uploaded once so inline
    queries can offer it by its Telegram file id; None: inline queries offer only charts
    already sent, and a button to open the others in the bot."""
    webhooks_allowed: tuple[str, ...] = ()
    """Hosts a chat's webhook may name (``discord.com``, ``*.example.org``); empty: webhooks
    are off."""
    webhooks_private: bool = False
    """Webhooks may reach private, loopback and link-local addresses (tests, a trusted
    network); off, they never do."""

    @property
    def access(self) -> Access:
        return Access(self.allowed_chats, self.admin_chats)

    @property
    def subscription_limits(self) -> SubscriptionLimits:
        return SubscriptionLimits(self.max_subscriptions, self.max_watched)

    def require_token(self) -> str:
        """The bot token, or a clear error naming the variable."""
        if not self.telegram_bot_token:
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN is required by liqmap run: put the token from @BotFather "
                "in .env"
            )
        return self.telegram_bot_token

    def exchange_address(self, exchange: str) -> str:
        """Where ``exchange``'s requests go: its ``LIQMAP_<EXCHANGE>_URL``, else where ccxt
        goes by default (empty for a name no venue has)."""
        venue = VENUES.get(exchange)
        return self.exchange_urls.get(exchange) or (venue.default_url if venue else "")


def load_settings(
    environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")
) -> Settings:
    """Read settings from ``env_file`` (if it exists) overlaid by ``environ``; validate all."""
    values: dict[str, str] = {}
    if env_file is not None and env_file.is_file():
        from dotenv import dotenv_values

        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ if environ is None else environ)
    return _parse(values)


def _parse(values: Mapping[str, str]) -> Settings:
    problems: list[str] = []

    def get(name: str) -> str | None:
        value = values.get(name, "").strip()
        return value or None

    def checked(parse: Callable[[str], T], name: str, default: T) -> T:
        raw = get(name)
        if raw is None:
            return default
        try:
            return parse(raw)
        except ValueError as exc:
            problems.append(f"{name} {exc}, got {raw!r}")
            return default

    token = get("TELEGRAM_BOT_TOKEN")
    if token is not None and not _TOKEN_SHAPE.match(token):
        problems.append(
            "TELEGRAM_BOT_TOKEN does not look like a bot token (digits, a colon, then letters)"
        )
    # neither the token nor the secret is ever echoed in a message
    token_free_url = not (token and token in (get("LIQMAP_WEBHOOK_URL") or ""))
    if not token_free_url:
        problems.append(
            "LIQMAP_WEBHOOK_URL must not contain the bot token: the secret header "
            "(LIQMAP_WEBHOOK_SECRET) proves the updates come from Telegram"
        )
    secret = get("LIQMAP_WEBHOOK_SECRET")
    if secret is not None and not _SECRET_SHAPE.match(secret):
        problems.append(
            "LIQMAP_WEBHOOK_SECRET must be 1 to 256 of the characters A-Z, a-z, 0-9, _ and - "
            "(the value is not shown)"
        )
        secret = ""  # told already: not "required" as well
    settings = Settings(
        telegram_bot_token=token,
        telegram_api_url=checked(_url, "TELEGRAM_API_URL", TELEGRAM_API_URL),
        db_path=Path(get("LIQMAP_DB") or "liqmap.db"),
        default_exchange=checked(_exchange, "LIQMAP_EXCHANGE", "okx"),
        exchange_urls={
            name: url
            for name in VENUES
            if (url := checked(_url, f"LIQMAP_{name.upper()}_URL", None)) is not None
        },
        ws_urls={
            name: url
            for name in VENUES
            if (url := checked(_ws_url, f"LIQMAP_{name.upper()}_WS_URL", None)) is not None
        },
        refresh_seconds=checked(_seconds, "LIQMAP_REFRESH_SECONDS", 300.0),
        price_seconds=checked(_seconds, "LIQMAP_PRICE_SECONDS", 15.0),
        allowed_chats=checked(_chat_ids, "LIQMAP_ALLOWED_CHATS", frozenset()),
        admin_chats=checked(_chat_ids, "LIQMAP_ADMIN_CHATS", frozenset()),
        max_watched=checked(_count, "LIQMAP_MAX_WATCHED", 150),
        max_subscriptions=checked(_count, "LIQMAP_MAX_SUBSCRIPTIONS", 30),
        maps_per_minute=checked(_count, "LIQMAP_MAPS_PER_MINUTE", 6),
        log_level=checked(_log_level, "LIQMAP_LOG_LEVEL", "INFO"),
        metrics_address=checked(_listen_address, "LIQMAP_METRICS_PORT", None),
        maps_per_minute_total=checked(_count, "LIQMAP_MAPS_PER_MINUTE_TOTAL", 10),
        scan_seconds=checked(_seconds, "LIQMAP_SCAN_SECONDS", 600.0),
        scan_weight_per_minute=checked(
            _scan_weight, "LIQMAP_SCAN_WEIGHT_PER_MINUTE", SCAN_WEIGHT_PER_MINUTE
        ),
        whale_addresses=checked(_whale_addresses, "LIQMAP_WHALE_ADDRESSES", "shown"),
        hyperliquid_leaderboard_url=_leaderboard_url(values, problems),
        webhook=_webhook(
            checked(_webhook_url, "LIQMAP_WEBHOOK_URL", None) if token_free_url else None,
            secret,
            checked(_listen_address, "LIQMAP_WEBHOOK_LISTEN", WEBHOOK_LISTEN),
            problems,
        ),
        inline_cache_chat=checked(_chat_id, "LIQMAP_INLINE_CACHE_CHAT", None),
        webhooks_allowed=checked(allowed_hosts, "LIQMAP_WEBHOOKS_ALLOWED", ()),
        webhooks_private=checked(_webhooks_private, "LIQMAP_WEBHOOKS_PRIVATE", False),
    )
    if problems:
        raise ConfigError("\n".join(problems))
    return settings


def _leaderboard_url(values: Mapping[str, str], problems: list[str]) -> str | None:
    """``LIQMAP_HYPERLIQUID_LEADERBOARD_URL``: unset, the public one; set empty, none."""
    name = "LIQMAP_HYPERLIQUID_LEADERBOARD_URL"
    raw = values.get(name)
    if raw is None:
        return HYPERLIQUID_LEADERBOARD_URL
    if not raw.strip():
        return None
    try:
        return _url(raw.strip())
    except ValueError as exc:
        problems.append(f"{name} {exc}, got {raw!r}")
        return None


def _seconds(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise ValueError("must be a positive number of seconds")
    if value > MAX_INTERVAL_SECONDS:
        raise ValueError(f"must be at most {MAX_INTERVAL_SECONDS} seconds (7 days)")
    return value


def _count(raw: str) -> int:
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_COUNT:
        raise ValueError(f"must be a whole number from 1 to {MAX_COUNT:,}")
    return int(raw)


def _scan_weight(raw: str) -> int:
    if not raw.isdigit() or not 2 <= int(raw) <= SCAN_WEIGHT_PER_MINUTE:
        raise ValueError(
            f"must be a whole number from 2 (one account read) to {SCAN_WEIGHT_PER_MINUTE}, "
            "half of Hyperliquid's 1200 a minute"
        )
    return int(raw)


def _url(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an http(s) URL such as https://example.com")
    return raw.rstrip("/")


def _ws_url(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise ValueError("must be a ws(s) URL such as wss://ws.okx.com:8443")
    if parts.path.strip("/") or parts.query or parts.fragment:
        raise ValueError("must name only scheme, host and port: the recorder adds the path")
    try:
        if parts.port == 0:
            raise ValueError
    except ValueError:
        raise ValueError("has a port that is not a number from 1 to 65535") from None
    return f"{parts.scheme}://{parts.netloc}"


def _webhook_url(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError("must be the public https:// URL Telegram posts the updates to")
    if parts.username is not None or parts.password is not None or parts.fragment:
        raise ValueError("must name no user, password or #fragment")
    if not _PLAIN_PATH.match(parts.path):
        raise ValueError("must have a plain path: letters, digits and . _ ~ - /")
    try:
        port = parts.port or 443
    except ValueError:
        raise ValueError("has a port that is not a number from 1 to 65535") from None
    if port not in WEBHOOK_PORTS:
        raise ValueError(
            f"must use a port Telegram posts to: {', '.join(map(str, WEBHOOK_PORTS))} "
            "(the reverse proxy forwards it to LIQMAP_WEBHOOK_LISTEN)"
        )
    return raw


def _webhook(
    url: str | None, secret: str | None, listen: tuple[str, int], problems: list[str]
) -> Webhook | None:
    """Webhook mode when ``LIQMAP_WEBHOOK_URL`` is set, which then needs a secret."""
    if url is None or secret == "":
        return None
    if secret is None:
        problems.append(
            "LIQMAP_WEBHOOK_SECRET is required with LIQMAP_WEBHOOK_URL: 1 to 256 of A-Z, a-z, "
            "0-9, _ and -, e.g. from python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
        return None
    return Webhook(url, secret, listen)


def _log_level(raw: str) -> str:
    name = raw.upper()
    if name not in LOG_LEVELS:
        raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
    return name


def _whale_addresses(raw: str) -> str:
    name = raw.strip().lower()
    if name not in WHALE_ADDRESSES:
        raise ValueError(f"must be {' or '.join(WHALE_ADDRESSES)}")
    return name


def _webhooks_private(raw: str) -> bool:
    name = raw.strip().lower()
    if name not in ("allow", "deny"):
        raise ValueError("must be allow or deny")
    return name == "allow"


def _listen_address(raw: str) -> tuple[str, int]:
    host, _, port = raw.rpartition(":")
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError("must be a port from 1 to 65535, or HOST:PORT such as 127.0.0.1:9464")
    return host.strip("[]"), int(port)


def _exchange(raw: str) -> str:
    name = raw.lower()
    if name not in (*VENUES, ALL):
        raise ValueError(f"must be one of {', '.join([*VENUES, ALL])}")
    return name


def _chat_id(raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ValueError("must be a chat id such as -1001234567890") from None


def _chat_ids(raw: str) -> frozenset[int]:
    try:
        return frozenset(int(part) for part in raw.split(",") if part.strip())
    except ValueError:
        raise ValueError("must be comma-separated chat ids such as 12345,-100987") from None
