"""Load: 200 chats send 2,000 mixed commands within a minute to ``liqmap run``.

Run: ``python -m benchmarks.load [--chats 200] [--commands 2000] [--seconds 60]``.

``liqmap run`` runs as a process against the local fakes (nothing reaches the internet), with
its production settings except prices checked every second: OKX requests paced as ccxt paces
them (``rateLimit`` 110 ms) and answered after a round trip (``--okx-latency``), Telegram's
30 messages a second (python-telegram-bot's rate limiter), 6 new maps a minute per chat. A
coroutine inside it ticks every 10 ms and records how late it wakes: the event loop's
stalls. Every chat sends its next command once the previous one was answered
(``tests/support/chat_load.py``), so each answer is matched to its command. Meanwhile a subscribed
chat waits for alerts: the fake OKX's price is moved into a dense cluster a few times during
the load, and the time from the move to the alert at the fake Telegram is measured.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from tests.fakes.http import free_port
from tests.fakes.okx import FakeOkx
from tests.fakes.telegram import FakeTelegram
from tests.support.chat_load import REFUSALS, UNAVAILABLE, ChatLoad, LoopLag, percentile

ROOT = Path(__file__).resolve().parent.parent
WATCHER = 7001
ADMIN = 9001
MARKS = "/api/v5/public/mark-price"
STALL_FILE = "LIQMAP_BENCH_STALL_FILE"


# -- the service, measured from inside -------------------------------------------------------


def serve() -> int:
    """``liqmap run`` with a 10 ms ticker in its event loop, lateness written to a JSON file."""
    from liqmap.cli import main, run
    from liqmap.cli.tuning import Tuning

    real = run.serve
    path = Path(os.environ[STALL_FILE])

    async def measured(args: argparse.Namespace, settings: object, tuning: Tuning) -> int:
        lag = LoopLag(0.01)
        ticking = asyncio.create_task(lag.run())
        writing = asyncio.create_task(_keep_writing(lag, path))
        try:
            return await real(args, settings, tuning)
        finally:
            ticking.cancel()
            writing.cancel()
            _write(lag, path)

    run.serve = measured
    return main.main(["run"])


async def _keep_writing(lag: LoopLag, path: Path) -> None:
    while True:
        await asyncio.sleep(1.0)
        _write(lag, path)


def _write(lag: LoopLag, path: Path) -> None:
    late = sorted(lag.lateness)
    figures = {"ticks": len(late), "p99": percentile(late, 0.99), "stalls": lag.stalls}
    path.write_text(json.dumps(figures))


# -- the driver -----------------------------------------------------------------------------


def start_service(env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("LIQMAP_", "TELEGRAM_"))}
    clean["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), clean.get("PYTHONPATH")]))
    log = (cwd / "run.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "benchmarks.load", "--serve"],
        env=clean | env, cwd=cwd, stdout=log, stderr=log,
    )  # fmt: skip


def wait(condition, within: float = 120.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        time.sleep(0.01)


def ask(tg: FakeTelegram, chat: int, text: str, method: str = "sendMessage") -> dict:
    mark = tg.mark()
    tg.user_sends(chat, text)
    return tg.wait_for_sync(
        lambda c: c["method"] == method and c["ok"] and c["params"].get("chat_id") == chat,
        timeout=120,
        since=mark,
    )


def dense_cluster(db: Path) -> dict:
    """The nearest cluster of the latest BTC 7d map dense enough to alert."""
    with sqlite3.connect(db, timeout=10) as conn:
        (clusters,) = conn.execute(
            "SELECT clusters FROM snapshots WHERE instrument = 'okx:BTC-USDT-SWAP' AND "
            "window = '7d' ORDER BY computed_at DESC, id DESC LIMIT 1"
        ).fetchone()
    strong = [c for c in json.loads(clusters) if c["strength"] >= 2.0]
    return min(strong, key=lambda c: abs(c["distance_pct"]))


class AlertRounds:
    """Moves BTC into a dense cluster at the given seconds into the load, one round at a time:
    near, the alert, then away again until the watch job has seen it twice."""

    def __init__(self, okx: FakeOkx, cluster: dict, at: list[float]) -> None:
        self.okx, self.at = okx, list(at)
        self.driver: ChatLoad | None = None
        long = cluster["side"] == "long"
        self.near = cluster["high"] * 1.003 if long else cluster["low"] * 0.997
        self.away = cluster["high"] * 1.03 if long else cluster["low"] * 0.97
        self.tape = okx.tape("BTC-USDT-SWAP")
        self.state = "idle"
        self.latencies: list[float] = []
        self.processing: list[float] = []
        self._moved = 0.0
        self._alerts = 0
        self.checks = 0

    @property
    def done(self) -> bool:
        return not self.at and self.state == "idle"

    def go_away(self) -> None:
        self.tape.set_price(self.away)
        self.state, self.checks = "away", self.okx.count(MARKS)

    def step(self, elapsed: float) -> None:
        if self.state == "idle" and self.at and elapsed >= self.at[0]:
            self.at.pop(0)
            self._alerts = len(self.alerts())
            self._moved = time.time()
            self.tape.set_price(self.near)
            self.state = "near"
        elif self.state == "near":
            alerts = self.alerts()
            if len(alerts) > self._alerts:
                at = alerts[self._alerts]["time"]
                read = [r.at + self.okx.answer_delay for r in self.okx.seen(MARKS)]
                seen = min(t for t in read if t >= self._moved)  # the fake read the new price
                self.latencies.append(at - self._moved)
                self.processing.append(at - seen)
                self.go_away()
        elif self.state == "away" and self.okx.count(MARKS) >= self.checks + 2:
            self.state = "idle"

    def alerts(self) -> list[dict]:
        """Alerts to the watcher: photos without buttons (the driver keeps messages to chats
        outside the load)."""
        assert self.driver is not None
        return [
            c
            for c in self.driver.elsewhere
            if c["method"] == "sendPhoto"
            and c["params"].get("chat_id") == WATCHER
            and "reply_markup" not in c["result"]
        ]


def load(args: argparse.Namespace) -> None:
    with FakeTelegram() as tg, FakeOkx(answer_delay=args.okx_latency) as okx, \
            tempfile.TemporaryDirectory() as tmp:  # fmt: skip
        db = Path(tmp) / "load.db"
        stall_file = Path(tmp) / "stalls.json"
        dead = f"http://127.0.0.1:{free_port()}"  # other exchanges: refused, never the internet
        service = start_service(
            {"TELEGRAM_BOT_TOKEN": tg.token, "TELEGRAM_API_URL": tg.url, "LIQMAP_OKX_URL": okx.url,
             "LIQMAP_BINANCE_URL": dead, "LIQMAP_BYBIT_URL": dead, "LIQMAP_DB": str(db),
             "LIQMAP_ADMIN_CHATS": str(ADMIN), "LIQMAP_PRICE_SECONDS": str(args.price_seconds),
             "PTB_TIMEDELTA": "1", STALL_FILE: str(stall_file)},
            Path(tmp),
        )  # fmt: skip
        try:
            ask(tg, WATCHER, "/settings cooldown 0")
            ask(tg, WATCHER, "/subscribe BTC 0.5")
            ask(tg, WATCHER, "/map BTC", method="sendPhoto")  # the 7d map the alerts watch
            rounds = AlertRounds(okx, dense_cluster(db), [f * args.seconds for f in args.moves])
            rounds.go_away()
            wait(lambda: rounds.state == "away" and okx.count(MARKS) >= rounds.checks + 2)
            rounds.state = "idle"
            chats = range(100_001, 100_001 + args.chats)
            driver = rounds.driver = ChatLoad(tg, chats, args.commands, args.seconds, args.seed)
            deadline = time.monotonic() + args.seconds + args.grace
            driver.begin()
            while (not driver.finished or not rounds.done) and time.monotonic() < deadline:
                driver.step()
                rounds.step(time.time() - driver.started)
                time.sleep(0.005)
            driver.collect()
            window = (driver.started, time.time())
            last_sent = max(c.sent_at for c in driver.sent) - driver.started
        finally:
            service.send_signal(signal.SIGTERM)
            service.wait(timeout=60)
        stalls = json.loads(stall_file.read_text())
        admin_reports = len(tg.sent(ADMIN))
        okx_requests = okx.count("/api/v5/")
        throttled = tg.throttled
        paced = Counter(
            c["method"]
            for c in tg.calls
            if "chat_id" in c["params"] and c["time"] >= driver.started
        )
        service_log = (Path(tmp) / "run.log").read_text()
        if args.log:
            Path(args.log).write_text(service_log)
        log_tail = service_log.splitlines()[-5:]
    report(args, driver, last_sent, stalls, window, rounds, admin_reports, okx_requests, throttled)
    span = window[1] - window[0]
    print(
        f"  Telegram calls counted against its 30 a second, from the load's start: "
        f"{sum(paced.values()):,} in {span:.0f} s ({sum(paced.values()) / span:.1f}/s: "
        f"{', '.join(f'{n:,} {m}' for m, n in paced.most_common())})"
    )
    if driver.outcomes()["dropped"] or driver.outcomes()["error"]:
        print("service log ends:", *log_tail, sep="\n  ")


def report(
    args: argparse.Namespace,
    driver: ChatLoad,
    last_sent: float,
    stalls: dict,
    window: tuple[float, float],
    rounds: AlertRounds,
    admin_reports: int,
    okx_requests: int,
    throttled: int,
) -> None:
    outcomes = driver.outcomes()
    refused = Counter(
        next(r for r in REFUSALS if c.answer.startswith(r))
        for c in driver.sent
        if c.outcome == "refused"
    )
    unavailable = sum(1 for c in driver.sent if UNAVAILABLE in c.answer)
    times = driver.answer_times()

    def spread(kind: str, values: list[float]) -> str:
        if not values:
            return f"{kind}: none"
        return (
            f"{kind} ({len(values)}): p50 {percentile(values, 0.5):.2f} s, "
            f"p95 {percentile(values, 0.95):.2f} s, max {max(values):.2f} s"
        )

    photos = [c.took for c in driver.sent if c.method == "sendPhoto"]
    texts = [c.took for c in driver.sent if c.method == "sendMessage"]
    presses = [c.took for c in driver.sent if c.method == "answerCallbackQuery"]
    ms = [round(x * 1000) for x in rounds.latencies]
    print(
        f"load: {len(driver.sent):,} commands from {args.chats} chats, scheduled over "
        f"{args.seconds:g} s, the last sent {last_sent:.1f} s in (OKX at ccxt's pace, "
        f"{args.okx_latency * 1000:.0f} ms a request; prices checked every "
        f"{args.price_seconds:g} s)"
    )
    print(
        f"  answered {outcomes['answered']:,} ({unavailable} saying the exchange is "
        f"unavailable), refused by fair use {outcomes['refused']} "
        f"({', '.join(f'{n} {r!r}' for r, n in refused.items()) or 'none'}), "
        f"errors {outcomes['error']}, dropped {outcomes['dropped']}, answers too many "
        f"{len(driver.stray)}, failed Telegram calls {len(driver.unexpected_failures())}, "
        f"admin reports {admin_reports}"
    )
    print("  answer time " + spread("all", times).removeprefix("all "))
    kinds = (("maps", photos), ("texts", texts), ("buttons", presses))
    print("    " + "; ".join(spread(kind, values) for kind, values in kinds))
    during = [late for at, late in stalls["stalls"] if window[0] <= at <= window[1]]
    before = [late for at, late in stalls["stalls"] if at < window[0]]
    print(
        f"  event loop (a 10 ms tick): longest stall during the load "
        f"{max(during, default=0) * 1000:.0f} ms, {sum(x > 0.1 for x in during)} over 100 ms; "
        f"p99 lateness {stalls['p99'] * 1000:.1f} ms of {stalls['ticks']:,} ticks; longest "
        f"before the load (start-up, first map) {max(before, default=0) * 1000:.0f} ms"
    )
    if ms:
        processing = [round(x * 1000) for x in rounds.processing]
        print(
            f"  alert latency under load (price move to alert at Telegram), {len(ms)} alerts: "
            f"{', '.join(f'{x} ms' for x in ms)}; median {round(statistics.median(ms))} ms; "
            f"from the price fetch that saw the move: {', '.join(f'{x}' for x in processing)} "
            f"ms, median {round(statistics.median(processing))} ms"
        )
    else:
        print("  alert latency under load: no alert arrived")
    print(
        f"  {len(driver.alerts)} alerts to the load's own subscribers; {driver.edits} maps "
        f"switched in place; {okx_requests:,} OKX requests; Telegram answered 429 to "
        f"{throttled} calls"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--chats", type=int, default=200)
    parser.add_argument("--commands", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--okx-latency", type=float, default=0.05)
    parser.add_argument("--price-seconds", type=float, default=1.0)
    parser.add_argument("--grace", type=float, default=300.0,
                        help="seconds after the schedule to wait for the last answers")  # fmt: skip
    parser.add_argument("--moves", type=float, nargs="*", default=[0.15, 0.3, 0.45, 0.6, 0.75, 0.9],
                        help="when to move the price, as shares of --seconds")  # fmt: skip
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--log", help="keep the service's log in this file")
    args = parser.parse_args()
    if args.serve:
        sys.exit(serve())
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    load(args)


if __name__ == "__main__":
    main()
