"""``liqmap``: the command line's parser, its logging, and errors turned into exit statuses."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from collections.abc import Iterator, Sequence
from importlib.metadata import version
from typing import NoReturn

from liqmap.cli import backtest, calibrate, doctor, maps, market, record, run, scan
from liqmap.cli.arguments import Command
from liqmap.cli.tuning import Tuning
from liqmap.config import Settings, load_settings
from liqmap.errors import BannedByExchange, ConfigError, ExchangeError, LiqmapError

log = logging.getLogger("liqmap")

CHATTY_LOGGERS = ("httpx", "httpcore", "ccxt", "asyncio", "matplotlib", "apscheduler")
"""Libraries whose records below a warning are left out."""
SERVICES = ("run", "record")
"""The commands that keep running: their log says each retry, as a service's should."""
REQUEST_LOG = "liqmap.exchanges.market_data.requests"
"""The exchange adapter's lines on one request failing (a retry, then the outcome): the
other commands' error line says what they would, so they show only under ``-v``."""


def main(argv: Sequence[str] | None = None, tuning: Tuning | None = None) -> int:
    """Run the command ``argv`` names (else ``sys.argv``); its exit status. ``tuning``, for
    callers in the same process, changes pacing, retries, time and stopping."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:  # --help, --version, or a usage error: argparse has said why
        return int(exit_.code or 0)
    with _logging_to_stderr(args.verbose, quiet_requests=args.command_name not in SERVICES):
        return _exit_status(args, tuning or Tuning())


def build_parser() -> argparse.ArgumentParser:
    """Every command's arguments. ``parse_args`` names the command (``command_name``) and holds
    the function that runs it (``command``), except for doctor, which loads its settings itself."""
    parser = _Parser(
        prog="liqmap",
        description="Liquidation maps for crypto derivatives, their clusters, and alerts.",
    )
    parser.add_argument("--version", action="version", version=f"liqmap {version('liqmap-bot')}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    commands = parser.add_subparsers(
        title="commands", dest="command_name", required=True, metavar="COMMAND"
    )
    for group in (run, maps, backtest, market, record, scan, calibrate, doctor):
        group.add_commands(commands)
    return parser


class _Parser(argparse.ArgumentParser):
    """argparse's parser, but a usage error is one line (the commands' parsers are of the
    same class)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{_one_line(f'{self.prog}: error: {message}')}; see {self.prog} -h\n")


def _one_line(text: str) -> str:
    """``text`` with every line break and run of blanks read as one space: a message that
    echoes what was typed stays one line."""
    return " ".join(text.split())


def _say(text: str) -> None:
    print(_one_line(text), file=sys.stderr)


def _exit_status(args: argparse.Namespace, tuning: Tuning) -> int:
    """0 done; 1 an error, said in one line (or a failed check); 2 bad configuration;
    130 interrupted."""
    try:
        if args.command_name == "doctor":  # it reports bad settings as a check, not a stop
            return asyncio.run(doctor.checkup(args, tuning))
        command: Command = args.command
        settings = load_settings()
        if not args.verbose:
            logging.getLogger().setLevel(settings.log_level)
        try:
            return asyncio.run(command(args, settings, tuning))
        except ExchangeError as exc:
            for failure in exc.failures:
                where = "" if isinstance(failure, BannedByExchange) else _at_url(settings, failure)
                _say(f"error: {failure}{where}")
            return 1
    except ConfigError as exc:
        _say(f"configuration error: {exc}")
        return 2
    except LiqmapError as exc:
        _say(f"error: {exc}")
        return 1
    except (KeyboardInterrupt, asyncio.CancelledError):
        return 130
    except Exception:
        log.exception("liqmap stopped on an unexpected error")
        _say("error: unexpected failure; the log above has the details")
        return 1


def _at_url(settings: Settings, failure: ExchangeError) -> str:
    """`` at URL``: the exchange's address as set, else where ccxt reaches it by default."""
    url = settings.exchange_address(failure.exchange)
    return f" at {url}" if url else ""


def _not_a_request_line(record: logging.LogRecord) -> bool:
    return record.name != REQUEST_LOG


@contextlib.contextmanager
def _logging_to_stderr(verbose: bool, quiet_requests: bool) -> Iterator[None]:
    """Records of INFO and up (DEBUG with ``-v``) to stderr while the command runs, the chatty
    libraries' from WARNING, and without ``-v`` none of ``REQUEST_LOG`` if ``quiet_requests``;
    put back as they were afterwards."""
    root = logging.getLogger()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    if quiet_requests and not verbose:
        handler.addFilter(_not_a_request_line)
    chatty = [logging.getLogger(name) for name in CHATTY_LOGGERS]
    levels = [(logger, logger.level) for logger in (root, *chatty)]
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for logger in chatty:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        root.removeHandler(handler)
        for logger, level in levels:
            logger.setLevel(level)


if __name__ == "__main__":
    raise SystemExit(main())
