"""Alert latency, fan-out under Telegram's rate limit, and memory of ``liqmap run``.

Run: ``python -m benchmarks.alerts [latency|fanout|memory]`` (all three by default).
Everything runs against the local fakes (``tests/fakes``), nothing reaches the internet.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tests.fakes.okx import FakeOkx, OkxInstrument
from tests.fakes.telegram import FakeTelegram

LIQMAP = str(Path(sys.executable).with_name("liqmap"))
CHAT = 1001


def wait(condition: Callable[[], bool], within: float = 120.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        time.sleep(0.01)


def start_service(env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("LIQMAP_", "TELEGRAM_"))}
    log = (cwd / "run.log").open("ab")
    return subprocess.Popen([LIQMAP, "run"], env=clean | env, cwd=cwd, stdout=log, stderr=log)


def latest_clusters(db: Path, instrument: str) -> list[dict]:
    with sqlite3.connect(db, timeout=10) as conn:
        row = conn.execute(
            "SELECT clusters FROM snapshots WHERE instrument = ? AND window = '7d' "
            "ORDER BY computed_at DESC, id DESC LIMIT 1",
            [instrument],
        ).fetchone()
    return json.loads(row[0]) if row else []


def latency(price_seconds: float = 1.0, rounds: int = 6) -> None:
    """From a price move at the exchange to the alert at Telegram, through ``liqmap run``."""
    with FakeTelegram() as tg, FakeOkx() as okx, tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "latency.db"
        service = start_service(
            {"TELEGRAM_BOT_TOKEN": tg.token, "TELEGRAM_API_URL": tg.url, "LIQMAP_OKX_URL": okx.url,
             "LIQMAP_DB": str(db), "LIQMAP_REFRESH_SECONDS": "60",
             "LIQMAP_PRICE_SECONDS": str(price_seconds)},
            Path(tmp),
        )  # fmt: skip
        try:
            for text in ("/settings cooldown 0", "/subscribe BTC 1"):
                mark = tg.mark()
                tg.user_sends(CHAT, text)
                tg.wait_for_sync("sendMessage", timeout=60, since=mark)
            wait(lambda: bool(latest_clusters(db, "okx:BTC-USDT-SWAP")))
            target = min(
                (c for c in latest_clusters(db, "okx:BTC-USDT-SWAP") if c["strength"] >= 2),
                key=lambda c: abs(c["distance_pct"]),
            )
            long = target["side"] == "long"
            near = target["high"] * 1.006 if long else target["low"] * 0.994
            away = target["high"] * 1.03 if long else target["low"] * 0.97
            tape = okx.tape("BTC-USDT-SWAP")
            chance = random.Random(5)
            delays, processing = [], []
            for _ in range(rounds):
                tape.set_price(away)
                marks = okx.count("/api/v5/public/mark-price")
                wait(lambda m=marks: okx.count("/api/v5/public/mark-price") >= m + 2)
                time.sleep(chance.uniform(0, price_seconds))  # any moment of the cycle
                mark = tg.mark()
                moved = time.time()
                tape.set_price(near)
                sent = tg.wait_for_sync(
                    lambda c: c["method"] == "sendPhoto" and c["ok"], timeout=60, since=mark
                )
                seen = min(r.at for r in okx.seen("/api/v5/public/mark-price") if r.at >= moved)
                delays.append(sent["time"] - moved)
                processing.append(sent["time"] - seen)
        finally:
            service.send_signal(signal.SIGTERM)
            service.wait(timeout=30)
    ms = [round(statistics.median(x) * 1000) for x in (delays, processing)]
    worst = [round(max(x) * 1000) for x in (delays, processing)]
    print(
        f"alert latency, price checked every {price_seconds:g}s ({rounds} alerts): move to alert "
        f"median {ms[0]} ms (max {worst[0]}); price fetch to alert median {ms[1]} ms "
        f"(max {worst[1]})"
    )


def fanout(chats: int = 1000, per_second: int = 30) -> None:
    """``chats`` chats subscribed to one instrument, Telegram answering 429 above a rate."""
    with FakeTelegram(max_per_second=per_second) as tg, FakeOkx() as okx, \
            tempfile.TemporaryDirectory() as tmp:  # fmt: skip
        db = Path(tmp) / "fanout.db"
        from storage.database import open_database

        setup = open_database(db)
        now = int(time.time() * 1000)
        setup["chats"].insert_all(
            {"id": 10_000 + i, "kind": "private", "active": 1, "cooldown_minutes": 0,
             "created_at": now, "updated_at": now}
            for i in range(chats)
        )  # fmt: skip
        setup["subscriptions"].insert_all(
            {"chat_id": 10_000 + i, "instrument": "okx:BTC-USDT-SWAP", "created_at": now}
            for i in range(chats)
        )
        setup.close()
        service = start_service(
            {"TELEGRAM_BOT_TOKEN": tg.token, "TELEGRAM_API_URL": tg.url, "LIQMAP_OKX_URL": okx.url,
             "LIQMAP_DB": str(db), "LIQMAP_REFRESH_SECONDS": "120", "LIQMAP_PRICE_SECONDS": "1"},
            Path(tmp),
        )  # fmt: skip
        try:
            wait(lambda: bool(latest_clusters(db, "okx:BTC-USDT-SWAP")))
            target = min(
                (c for c in latest_clusters(db, "okx:BTC-USDT-SWAP") if c["strength"] >= 2),
                key=lambda c: abs(c["distance_pct"]),
            )
            near = target["high"] * 1.006 if target["side"] == "long" else target["low"] * 0.994
            started = time.time()
            okx.tape("BTC-USDT-SWAP").set_price(near)
            wait(lambda: tg.call_count("sendPhoto", ok=True) >= chats, within=600)
            took = time.time() - started
            time.sleep(2)  # let anything extra show up before counting
            delivered = {c["params"]["chat_id"] for c in tg.calls_of("sendPhoto", ok=True)}
            total = tg.call_count("sendPhoto", ok=True)
            refused = tg.call_count("sendPhoto", ok=False)
        finally:
            service.send_signal(signal.SIGTERM)
            service.wait(timeout=30)
        with sqlite3.connect(db) as conn:
            states = dict(conn.execute("SELECT state, count(*) FROM outbox GROUP BY state"))
    print(f"fan-out to {chats:,} chats, Telegram answering 429 above {per_second}/s: "
          f"{len(delivered):,} chats got their alert ({total:,} sends, {refused} answered 429), "
          f"{chats - len(delivered)} lost, in {took:.1f} s ({chats / took:.1f} alerts/s); "
          f"outbox {states}")  # fmt: skip


def memory(instruments: int = 100, refresh_seconds: int = 30) -> None:
    """Peak RSS of ``liqmap run`` watching ``instruments`` subscribed instruments."""
    extra = [
        OkxInstrument(f"C{i:03d}-USDT-SWAP", "SWAP", 10.0 + i, 1, f"C{i:03d}", "linear", "USDT")
        for i in range(instruments)
    ]
    with FakeTelegram() as tg, FakeOkx(instruments=extra) as okx, \
            tempfile.TemporaryDirectory() as tmp:  # fmt: skip
        db = Path(tmp) / "memory.db"
        from storage.database import open_database

        setup = open_database(db)
        now = int(time.time() * 1000)
        setup["chats"].insert({"id": CHAT, "kind": "private", "created_at": now, "updated_at": now})
        setup["subscriptions"].insert_all(
            {"chat_id": CHAT, "instrument": f"okx:{i.inst_id}", "created_at": now} for i in extra
        )
        setup.close()
        service = start_service(
            {"TELEGRAM_BOT_TOKEN": tg.token, "TELEGRAM_API_URL": tg.url, "LIQMAP_OKX_URL": okx.url,
             "LIQMAP_DB": str(db), "LIQMAP_REFRESH_SECONDS": str(refresh_seconds),
             "LIQMAP_PRICE_SECONDS": "2"},
            Path(tmp),
        )  # fmt: skip
        try:

            def refreshed() -> int:
                with sqlite3.connect(db, timeout=10) as conn:
                    return conn.execute(
                        "SELECT count(DISTINCT instrument) FROM snapshots"
                    ).fetchone()[0]

            started = time.time()
            wait(lambda: refreshed() >= instruments, within=600)
            first_pass = time.time() - started
            time.sleep(refresh_seconds)  # a second pass over warm caches
            status = Path(f"/proc/{service.pid}/status").read_text()
            peak = next(line for line in status.splitlines() if line.startswith("VmHWM"))
            now_rss = next(line for line in status.splitlines() if line.startswith("VmRSS"))
        finally:
            service.send_signal(signal.SIGTERM)
            service.wait(timeout=60)
    print(f"liqmap run with {instruments} subscribed instruments: first pass of maps in "
          f"{first_pass:.0f} s; peak RSS {peak.split(':')[1].strip()}, "
          f"RSS after two passes {now_rss.split(':')[1].strip()}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("which", nargs="*", choices=["latency", "fanout", "memory"],
                        default=["latency", "fanout", "memory"])  # fmt: skip
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    for name in parser.parse_args().which:
        {"latency": latency, "fanout": fanout, "memory": memory}[name]()


if __name__ == "__main__":
    asyncio.set_event_loop_policy(None)
    main()
