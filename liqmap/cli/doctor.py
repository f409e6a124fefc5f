"""``liqmap doctor``: checks the configuration, the database, each exchange and Telegram.

Each check returns one ``CheckResult``, printed as one line (``ok    database  ...`` or
``FAIL  telegram  ...``). Nothing is changed. The database and Telegram checks are their
adapters' own (``storage.health``, ``bot.health``), imported where they run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from collections.abc import Awaitable, Iterator
from pathlib import Path
from typing import TextIO

from liqmap.checks import CheckResult
from liqmap.cli.arguments import Commands
from liqmap.cli.tuning import Tuning
from liqmap.cli.wiring import clock_of, market_data
from liqmap.config import Settings, load_settings
from liqmap.errors import ConfigError, ExchangeError, LiqmapError
from liqmap.exchanges.market_data import MarketData
from liqmap.market.venues import VENUES
from liqmap.policies.retry import RetryPolicy

log = logging.getLogger(__name__)

EXCHANGE_RETRY = RetryPolicy(attempts=2, first_delay=0.5)
"""One retry only: a dead exchange fails in seconds, not after the service's patient policy."""


def add_commands(commands: Commands) -> None:
    """``doctor``."""
    doctor = commands.add_parser(
        "doctor",
        help="check the configuration, the database, each exchange and Telegram",
        description="Check what liqmap needs to run here: the settings, the database at "
        "LIQMAP_DB (read, never changed), each exchange and the Telegram bot token. One line "
        "per check; exit status 1 if any failed.",
    )
    doctor.add_argument(
        "--offline",
        action="store_true",
        help="check only the configuration, the database and the running service's heartbeat, "
        "without network (a HEALTHCHECK)",
    )


async def checkup(args: argparse.Namespace, tuning: Tuning) -> int:
    """Every check, printed; exit status 1 if any failed. It loads the settings itself, so
    that bad ones are a failed check rather than a stop."""
    with _quiet_retries(not args.verbose):  # the FAIL lines say what the retry warnings would
        return 0 if await run_doctor(args.offline, sys.stdout, tuning) else 1


@contextlib.contextmanager
def _quiet_retries(quiet: bool) -> Iterator[None]:
    """Only errors of the exchange adapter logged while the block runs, if ``quiet``."""
    logger = logging.getLogger("liqmap.exchanges.market_data")
    level = logger.level
    if quiet:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


async def run_doctor(offline: bool, out: TextIO, tuning: Tuning) -> bool:
    """Run every check in order, print a line for each and a summary; True if all passed.

    ``offline`` runs only the configuration, database and service (its heartbeat) checks, no
    network.
    """
    from storage.health import BUSY_TIMEOUT_S, check_database
    from storage.heartbeat import check_heartbeat, heartbeat_path

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
        log_scrub.install(token, *([settings.webhook.secret] if settings.webhook else []))
    busy_timeout_s = tuning.database_busy_timeout or BUSY_TIMEOUT_S
    database = asyncio.to_thread(check_database, settings.db_path, busy_timeout_s)
    report(await _guarded("database", database))
    report(check_heartbeat(heartbeat_path(settings.db_path), clock_of(tuning)()))
    if not offline:
        from bot.health import check_telegram, check_webhook

        async with market_data(settings, None, tuning, EXCHANGE_RETRY) as market:
            checks = [
                _guarded(name, check_exchange(market, name, settings.exchange_address(name)))
                for name in VENUES
            ]
            telegram = check_telegram(settings.telegram_bot_token, settings.telegram_api_url)
            checks.append(_guarded("telegram", telegram))
            if settings.webhook is not None and settings.telegram_bot_token:
                hook = check_webhook(settings.telegram_bot_token, settings.telegram_api_url,
                                     settings.webhook.url)  # fmt: skip
                checks.append(_guarded("webhook", hook))
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


async def check_exchange(market: MarketData, name: str, url: str) -> CheckResult:
    """Exchange ``name``: its instrument list, and the price of its BTC perpetual (USDT;
    USDC on Hyperliquid)."""
    try:
        book = await market.book(name)
        inst = await market.instrument(f"{name}:BTC")
        price = (await market.prices([inst])).get(inst.key)
    except ExchangeError as exc:
        return CheckResult(name, False, f"{exc.detail} at {url}")
    except LiqmapError as exc:
        return CheckResult(name, False, str(exc))
    if price is None:
        return CheckResult(name, False, f"{len(book):,} instruments, no price for {inst.native_id}")
    return CheckResult(
        name,
        True,
        f"{len(book):,} instruments; {inst.native_id} {price.value:,.2f} ({price.kind})",
    )
