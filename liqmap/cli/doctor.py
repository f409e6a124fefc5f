"""``liqmap doctor``: checks the configuration, the database, each exchange and Telegram.

Each check returns one ``CheckResult``, printed as one line (``ok    database  ...`` or
``FAIL  telegram  ...``). Nothing is changed: the database is opened without migrating it and
its write lock is taken and rolled back. Like ``liqmap/cli/main.py`` this module reaches every
outside system, so storage, bot and telegram are imported inside the checks that use them.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from liqmap.config import Settings, load_settings
from liqmap.errors import ConfigError, ExchangeError, LiqmapError
from liqmap.exchanges.market_data import MarketData
from liqmap.market.venues import VENUES
from liqmap.policies.retry import RetryPolicy

log = logging.getLogger(__name__)

EXCHANGE_RETRY = RetryPolicy(attempts=2, first_delay=0.5)
"""One retry only: a dead exchange fails in seconds, not after the service's patient policy."""
BUSY_TIMEOUT_S = 2.0
"""How long the write check waits for another process's write lock; the service's own
transactions hold it far shorter."""


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: passed or not, and what it found, in a few words."""

    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        """``ok    database  liqmap.db: ...``; further lines of the detail indented below."""
        first, *more = self.detail.splitlines() or [""]
        head = f"{'ok' if self.ok else 'FAIL':<6}{self.name:<10}{first}"
        return "\n".join([head, *(f"{'':16}{line}" for line in more)])


async def run_doctor(offline: bool, out: TextIO) -> bool:
    """Run every check in order, print a line for each and a summary; True if all passed.

    ``offline`` runs only the configuration and database checks (no network).
    """
    results: list[CheckResult] = []
    token = ""

    def report(result: CheckResult) -> None:
        results.append(result)
        print(result.line().replace(token, "<token>") if token else result.line(), file=out)
        out.flush()

    config, settings = check_config()
    report(config)
    if settings is None:
        print("1 check failed; the others need a valid configuration", file=out)
        return False
    if settings.telegram_bot_token:
        from bot import log_scrub

        token = settings.telegram_bot_token
        log_scrub.install(token)
    report(await _guarded("database", check_database(settings.db_path)))
    if not offline:
        async with MarketData(urls=settings.exchange_urls, retry=EXCHANGE_RETRY) as market:
            checks = [
                _guarded(name, check_exchange(market, name, settings.exchange_urls.get(name)))
                for name in VENUES
            ]
            checks.append(_guarded("telegram", check_telegram(settings)))
            for result in await asyncio.gather(*checks):
                report(result)
    failed = sum(not result.ok for result in results)
    summary = f"{failed} of {len(results)} checks failed" if failed else "all checks passed"
    print(summary, file=out)
    return not failed


async def _guarded(name: str, check: Awaitable[CheckResult]) -> CheckResult:
    """The check's result; a bug in a check becomes its FAIL line instead of a crash."""
    try:
        return await check
    except Exception as exc:
        log.debug("the %s check failed unexpectedly", name, exc_info=True)
        return CheckResult(
            name, False, f"unexpected {type(exc).__name__}: {exc} (liqmap -v doctor shows more)"
        )


def check_config(env_file: Path = Path(".env")) -> tuple[CheckResult, Settings | None]:
    """The settings from ``env_file`` and the environment, or every problem with them."""
    try:
        settings = load_settings(env_file=env_file)
    except ConfigError as exc:
        return CheckResult("config", False, str(exc)), None
    except (OSError, ValueError) as exc:
        return CheckResult("config", False, f"cannot read {env_file}: {exc}"), None
    source = (
        f"{env_file} and the environment"
        if env_file.is_file()
        else f"the environment (no {env_file} in {Path.cwd()})"
    )
    detail = f"from {source}: exchange {settings.default_exchange}, database {settings.db_path}"
    return CheckResult("config", True, detail), settings


async def check_database(path: Path) -> CheckResult:
    """The SQLite file at ``path``: intact, a schema this liqmap knows, writable. Unchanged."""
    return await asyncio.to_thread(_database, path)


def _database(path: Path) -> CheckResult:
    from storage.migrations import MIGRATIONS

    def fail(why: str) -> CheckResult:
        return CheckResult("database", False, f"{path}: {why}")

    if path.is_dir():
        return fail("a folder, not a database file")
    if not path.exists():
        return _missing_database(path)
    known = len(MIGRATIONS)
    try:
        # mode=rw: never create the file; isolation_level=None: transactions as written here
        conn = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=rw",
            uri=True,
            timeout=BUSY_TIMEOUT_S,
            isolation_level=None,
        )
    except sqlite3.Error as exc:
        return fail(_sqlite_cause(exc, path))
    try:
        damage = [row[0] for row in conn.execute("PRAGMA quick_check")]
        if damage != ["ok"]:
            more = f" (and {len(damage) - 1} more problems)" if len(damage) > 1 else ""
            return fail(f"damaged: PRAGMA quick_check found {damage[0]}{more}")
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if version > known:
            return fail(
                f"schema {version} is newer than this liqmap knows ({known}); upgrade liqmap "
                "or point LIQMAP_DB elsewhere"
            )
        # A read-only file still grants the write lock: only a page write tells. Rolled back.
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(f"PRAGMA user_version = {version}")
    except sqlite3.Error as exc:
        return fail(_sqlite_cause(exc, path))
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        conn.close()
    schema = f"schema {version}"
    if version < known:
        schema += f" (will be migrated to {known} at start)"
    return CheckResult("database", True, f"{path}: {schema}, {_size(path)}, writable")


def _missing_database(path: Path) -> CheckResult:
    """No file yet: fine if ``liqmap run`` can create it."""
    folder = path.parent
    if not folder.is_dir():
        return CheckResult("database", False, f"{path}: no such file, and no folder {folder}")
    if not os.access(folder, os.W_OK | os.X_OK):
        return CheckResult(
            "database", False, f"{path}: no such file, and its folder {folder} is not writable"
        )
    return CheckResult(
        "database", True, f"{path}: not there yet; liqmap run creates it at first start"
    )


def _sqlite_cause(exc: sqlite3.Error, path: Path) -> str:
    from storage.database import trouble

    return trouble(exc, path, BUSY_TIMEOUT_S) or str(exc)


def _size(path: Path) -> str:
    size = path.stat().st_size
    if size < 1_000_000:
        return f"{size / 1000:.0f} kB"
    if size < 1_000_000_000:
        return f"{size / 1e6:.1f} MB"
    return f"{size / 1e9:.1f} GB"


async def check_exchange(market: MarketData, name: str, url: str | None = None) -> CheckResult:
    """Exchange ``name``: its instrument list, and the price of its BTC USDT perpetual."""
    try:
        book = await market.book(name)
        inst = await market.instrument(f"{name}:BTC")
        price = (await market.prices([inst])).get(inst.key)
    except ExchangeError as exc:
        return CheckResult(name, False, f"{exc.detail} at {url}" if url else exc.detail)
    except LiqmapError as exc:
        return CheckResult(name, False, str(exc))
    if price is None:
        return CheckResult(name, False, f"{len(book):,} instruments, no price for {inst.native_id}")
    return CheckResult(
        name,
        True,
        f"{len(book):,} instruments; {inst.native_id} {price.value:,.2f} ({price.kind})",
    )


async def check_telegram(settings: Settings) -> CheckResult:
    """The bot token, asked to Telegram (getMe). The token itself is never in the detail."""
    token = settings.telegram_bot_token
    if not token:
        return CheckResult("telegram", False, "TELEGRAM_BOT_TOKEN is not set (liqmap run needs it)")
    from telegram import Bot
    from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError

    api = settings.telegram_api_url
    try:
        async with Bot(token, base_url=f"{api}/bot") as bot:
            me = bot.bot  # what initialize() learned from getMe
    except InvalidToken as exc:
        while isinstance(exc.__cause__, InvalidToken):  # the outer messages quote the token
            exc = exc.__cause__
        detail = f"the token was rejected by Telegram ({exc.message}); check it with @BotFather"
    except BadRequest as exc:  # a NetworkError to PTB, yet Telegram did answer
        detail = f"Telegram refused getMe: {exc.message}"
    except NetworkError as exc:
        detail = f"Telegram not reachable at {api}: {exc.message}"
    except TelegramError as exc:
        detail = f"Telegram answered getMe with an error: {exc.message}"
    else:
        return CheckResult("telegram", True, f"@{me.username} (bot id {me.id}) at {api}")
    return CheckResult("telegram", False, detail.replace(token, "<token>"))
