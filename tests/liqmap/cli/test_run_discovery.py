"""``liqmap run`` discovers Hyperliquid accounts for a watched Hyperliquid instrument: the
accounts on its trades (the fake websocket) and on the leaderboard (the fake's) are stored,
and the service stops cleanly with the trades' connection closed."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

from storage.database import open_database
from storage.stores import Stores
from tests.conftest import NOON
from tests.fakes.clock import Clock
from tests.fakes.hyperliquid import FakeHyperliquid
from tests.fakes.hyperliquid_ws import FakeHyperliquidWs
from tests.fakes.telegram import FakeTelegram
from tests.support.cli import FAST, Liqmap

ANN = 1001


def stored(db_path: Path) -> dict[str, str]:
    conn = sqlite3.connect(db_path)
    try:
        return dict(conn.execute("SELECT address, source FROM scan_addresses").fetchall())
    finally:
        conn.close()


def test_run_stores_the_accounts_of_a_watched_hyperliquid_instrument(tmp_path: Path) -> None:
    db_path = tmp_path / "run.db"
    db = open_database(db_path)
    stores = Stores(db, lambda: NOON)
    stores.chats.seen(ANN, "private", None)
    stores.chats.subscribe(ANN, "hyperliquid:BTC", None)
    stores.close()
    db.close()
    clock = Clock(NOON)
    with (
        FakeTelegram() as tg,
        FakeHyperliquid(clock=clock) as fake,
        FakeHyperliquidWs(fake) as ws,
    ):
        fake.leaders = fake.open_accounts(2, seed=1)
        traders = fake.open_accounts(4, seed=2)
        env = {
            "TELEGRAM_BOT_TOKEN": tg.token, "TELEGRAM_API_URL": tg.url,
            "LIQMAP_EXCHANGE": "hyperliquid", "LIQMAP_HYPERLIQUID_URL": fake.url,
            "LIQMAP_HYPERLIQUID_WS_URL": ws.url,
            "LIQMAP_HYPERLIQUID_LEADERBOARD_URL": fake.leaderboard_url,
            "LIQMAP_DB": str(db_path),
        }  # fmt: skip
        with Liqmap(["run"], tmp_path, env, replace(FAST, clock=clock)) as liqmap:
            liqmap.until(lambda: ws.subscriptions() == {"trades:BTC"}, "listening to BTC trades")
            trades = ws.publish("BTC", 4, among=traders)
            users = {u for t in trades for u in t["users"]}
            liqmap.until(
                lambda: (
                    stored(db_path)
                    == dict.fromkeys(fake.leaders, "leaderboard") | dict.fromkeys(users, "trades")
                ),
                "the accounts stored",
            )
            result = liqmap.stop()
        assert ws.connections == 0
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "Hyperliquid leaderboard: 2 accounts (2 new, 0 rows skipped)" in result.stderr
