"""Schema migrations, applied in order; the file's ``PRAGMA user_version`` counts those done."""

from __future__ import annotations

from collections.abc import Callable

from sqlite_utils import Database


def market_cache(db: Database) -> None:
    """Candles, open interest, and the time ranges already fetched for each series."""
    db.execute(
        """
        CREATE TABLE candles (
            exchange TEXT NOT NULL,
            instrument TEXT NOT NULL,
            step TEXT NOT NULL,
            ts INTEGER NOT NULL,
            open REAL NOT NULL,
            high REAL NOT NULL,
            low REAL NOT NULL,
            close REAL NOT NULL,
            volume REAL,
            PRIMARY KEY (exchange, instrument, step, ts)
        ) WITHOUT ROWID
        """
    )
    db.execute(
        """
        CREATE TABLE open_interest (
            exchange TEXT NOT NULL,
            instrument TEXT NOT NULL,
            step TEXT NOT NULL,
            ts INTEGER NOT NULL,
            usd REAL NOT NULL,
            PRIMARY KEY (exchange, instrument, step, ts)
        ) WITHOUT ROWID
        """
    )
    db.execute(
        """
        CREATE TABLE fetched_ranges (
            exchange TEXT NOT NULL,
            instrument TEXT NOT NULL,
            series TEXT NOT NULL,
            step TEXT NOT NULL,
            start_ts INTEGER NOT NULL,
            end_ts INTEGER NOT NULL,
            PRIMARY KEY (exchange, instrument, series, step, start_ts)
        )
        """
    )


def chats_and_maps(db: Database) -> None:
    """Chats with their alert settings, subscriptions, stored maps, and the alert outbox."""
    db.execute(
        """
        CREATE TABLE chats (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            title TEXT,
            active INTEGER NOT NULL DEFAULT 1,
            alert_distance_pct REAL NOT NULL DEFAULT 1.0,
            min_strength REAL NOT NULL DEFAULT 2.0,
            cooldown_minutes INTEGER NOT NULL DEFAULT 30,
            quiet_start INTEGER,
            quiet_end INTEGER,
            refused_at INTEGER,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        )
        """
    )
    db.execute(
        """
        CREATE TABLE subscriptions (
            chat_id INTEGER NOT NULL REFERENCES chats(id) ON UPDATE CASCADE ON DELETE CASCADE,
            instrument TEXT NOT NULL,
            distance_pct REAL,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (chat_id, instrument)
        )
        """
    )
    db.execute("CREATE INDEX subscriptions_by_instrument ON subscriptions(instrument)")
    db.execute(
        """
        CREATE TABLE snapshots (
            id INTEGER PRIMARY KEY,
            instrument TEXT NOT NULL,
            window TEXT NOT NULL,
            computed_at INTEGER NOT NULL,
            as_of INTEGER NOT NULL,
            price REAL NOT NULL,
            label TEXT NOT NULL,
            source TEXT NOT NULL,
            step TEXT NOT NULL,
            map BLOB NOT NULL,
            clusters TEXT NOT NULL,
            chart_file_id TEXT
        )
        """
    )
    db.execute("CREATE INDEX snapshots_latest ON snapshots(instrument, window, computed_at)")
    db.execute(
        """
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            chat_id INTEGER NOT NULL,
            instrument TEXT NOT NULL,
            kind TEXT NOT NULL,
            text TEXT NOT NULL,
            silent INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL,
            next_attempt_at INTEGER NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            sent_at INTEGER,
            error TEXT
        )
        """
    )
    db.execute("CREATE INDEX outbox_pending ON outbox(sent_at, next_attempt_at)")


def alert_delivery(db: Database) -> None:
    """What the proximity detector remembers per chat, and what the outbox needs to deliver."""
    db.execute(
        """
        CREATE TABLE alert_state (
            chat_id INTEGER NOT NULL,
            instrument TEXT NOT NULL,
            state TEXT NOT NULL,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (chat_id, instrument)
        )
        """
    )
    db.execute("ALTER TABLE outbox ADD COLUMN payload TEXT NOT NULL DEFAULT '{}'")
    db.execute("ALTER TABLE outbox ADD COLUMN snapshot_id INTEGER")
    db.execute("ALTER TABLE outbox ADD COLUMN expires_at INTEGER")
    db.execute("ALTER TABLE outbox ADD COLUMN state TEXT NOT NULL DEFAULT 'pending'")
    db.execute("DROP INDEX outbox_pending")
    db.execute("CREATE INDEX outbox_due ON outbox(state, next_attempt_at)")
    db.execute("ALTER TABLE snapshots ADD COLUMN alert_chart_file_id TEXT")


def one_sided_bybit_open_interest(db: Database) -> None:
    """Drop cached Bybit open interest: it was stored two-sided (twice the real figure)."""
    db.execute("DELETE FROM open_interest WHERE exchange = 'bybit'")
    db.execute("DELETE FROM fetched_ranges WHERE exchange = 'bybit' AND series = 'open_interest'")


def snapshot_notes(db: Database) -> None:
    """What a map's reader should know about its data (a coarser OI step, a late start)."""
    db.execute("ALTER TABLE snapshots ADD COLUMN notes TEXT NOT NULL DEFAULT '[]'")


def snapshot_venues(db: Database) -> None:
    """For a map summed over exchanges: each exchange's share of it."""
    db.execute("ALTER TABLE snapshots ADD COLUMN venues TEXT NOT NULL DEFAULT '[]'")


def realized_liquidations(db: Database) -> None:
    """Forced closes the recorder saw, each once, and the time each stream was watched."""
    db.execute(
        """
        CREATE TABLE realized (
            exchange TEXT NOT NULL,
            instrument TEXT NOT NULL,
            ts INTEGER NOT NULL,
            side TEXT NOT NULL,
            price REAL NOT NULL,
            amount REAL NOT NULL,
            usd REAL NOT NULL,
            PRIMARY KEY (exchange, instrument, ts, side, price, amount)
        ) WITHOUT ROWID
        """
    )
    db.execute(
        """
        CREATE TABLE recorded_spans (
            exchange TEXT NOT NULL,
            instrument TEXT NOT NULL,
            start_ts INTEGER NOT NULL,
            end_ts INTEGER NOT NULL,
            PRIMARY KEY (exchange, instrument, start_ts)
        )
        """
    )


def sweep_receipts(db: Database) -> None:
    """Alerted clusters price ran through, each waiting for (then holding) its receipt."""
    db.execute(
        """
        CREATE TABLE sweeps (
            id INTEGER PRIMARY KEY,
            chat_id INTEGER NOT NULL,
            instrument TEXT NOT NULL,
            payload TEXT NOT NULL,
            due_at INTEGER NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending',
            receipt TEXT,
            queued INTEGER NOT NULL DEFAULT 0,
            settled_at INTEGER
        )
        """
    )
    db.execute("CREATE INDEX sweeps_due ON sweeps(state, due_at)")


def subscription_mutes(db: Database) -> None:
    """A subscription muted from Telegram: no alerts for it until this time."""
    db.execute("ALTER TABLE subscriptions ADD COLUMN muted_until INTEGER")


def chat_zones_and_digests(db: Database) -> None:
    """Each chat's time zone and daily digest time, and one row per digest queued."""
    db.execute("ALTER TABLE chats ADD COLUMN tz TEXT NOT NULL DEFAULT 'UTC'")
    db.execute("ALTER TABLE chats ADD COLUMN digest_at INTEGER")
    db.execute(
        """
        CREATE TABLE digests (
            chat_id INTEGER NOT NULL,
            day TEXT NOT NULL,
            outbox_id INTEGER NOT NULL,
            PRIMARY KEY (chat_id, day)
        )
        """
    )


def building_alerts(db: Database) -> None:
    """Subscriptions that opted in to building-cluster alerts, with the detector's memory."""
    db.execute(
        """
        CREATE TABLE building_watch (
            chat_id INTEGER NOT NULL,
            instrument TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT '{}',
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (chat_id, instrument),
            FOREIGN KEY (chat_id, instrument) REFERENCES subscriptions(chat_id, instrument)
                ON UPDATE CASCADE ON DELETE CASCADE
        )
        """
    )


def open_interest_floors(db: Database) -> None:
    """Where an exchange's OI history was found to start, so a restart does not ask again."""
    db.execute(
        """
        CREATE TABLE oi_floors (
            exchange TEXT NOT NULL,
            instrument TEXT NOT NULL,
            step TEXT NOT NULL,
            floor_ts INTEGER NOT NULL,
            learned_at INTEGER NOT NULL,
            PRIMARY KEY (exchange, instrument, step)
        )
        """
    )


def outbox_attempts(db: Database) -> None:
    """When a row's send began: a row left ``sending`` by a crash may have reached the chat."""
    db.execute("ALTER TABLE outbox ADD COLUMN attempted_at INTEGER")


def map_budgets(db: Database) -> None:
    """The map budgets (per chat, per user, service-wide), so a restart forgets none."""
    db.execute(
        """
        CREATE TABLE map_budgets (
            key TEXT PRIMARY KEY,
            tokens REAL NOT NULL,
            at_ms INTEGER NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX map_budgets_by_time ON map_budgets(at_ms)")


def scanned_positions(db: Database) -> None:
    """Hyperliquid accounts by address (last seen, notional), the scan passes, and the open
    positions of each account by coin with the pass that read them."""
    db.execute(
        """
        CREATE TABLE scan_addresses (
            address TEXT PRIMARY KEY,
            last_seen_ms INTEGER NOT NULL,
            notional REAL NOT NULL
        )
        """
    )
    db.execute(
        """
        CREATE TABLE scan_passes (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            started_ms INTEGER NOT NULL
        )
        """
    )
    db.execute(
        """
        CREATE TABLE scan_positions (
            address TEXT NOT NULL,
            coin TEXT NOT NULL,
            side TEXT NOT NULL,
            size REAL NOT NULL,
            entry REAL NOT NULL,
            leverage REAL NOT NULL,
            mode TEXT NOT NULL,
            margin REAL NOT NULL,
            value REAL NOT NULL,
            liquidation REAL,
            read_ms INTEGER NOT NULL,
            pass_id INTEGER NOT NULL,
            PRIMARY KEY (address, coin)
        )
        """
    )
    db.execute("CREATE INDEX scan_positions_by_coin ON scan_positions(coin)")


def snapshot_real_layer(db: Database) -> None:
    """For a map of a venue that publishes positions: the real layer on its bins (NULL for
    maps without one, and for every map stored before)."""
    db.execute("ALTER TABLE snapshots ADD COLUMN real BLOB")


def scan_pass_stats(db: Database) -> None:
    """What each scan pass did: when it finished (NULL while it runs or if it never did), the
    accounts read, positions skipped, accounts that failed, the request weight spent."""
    db.execute("ALTER TABLE scan_passes ADD COLUMN finished_ms INTEGER")
    for column, kind in (("accounts", "INTEGER"), ("skipped", "INTEGER"), ("failed", "INTEGER"),
                         ("weight", "REAL")):  # fmt: skip
        db.execute(f"ALTER TABLE scan_passes ADD COLUMN {column} {kind} NOT NULL DEFAULT 0")


def real_cluster_alerts(db: Database) -> None:
    """Subscriptions that opted in to alerts on real clusters (a venue whose positions are
    public), with the proximity detector's memory for that layer, apart from the estimate's."""
    db.execute(
        """
        CREATE TABLE real_watch (
            chat_id INTEGER NOT NULL,
            instrument TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT '{}',
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (chat_id, instrument),
            FOREIGN KEY (chat_id, instrument) REFERENCES subscriptions(chat_id, instrument)
                ON UPDATE CASCADE ON DELETE CASCADE
        )
        """
    )


def discovered_addresses(db: Database) -> None:
    """Where each Hyperliquid address was found first (``given`` on the command line, on
    ``trades`` or on the ``leaderboard``) and when a scan last read it (null: never, so its
    notional is only what its source said of its size)."""
    db.execute("ALTER TABLE scan_addresses ADD COLUMN source TEXT NOT NULL DEFAULT 'given'")
    db.execute("ALTER TABLE scan_addresses ADD COLUMN scanned_ms INTEGER")
    db.execute("UPDATE scan_addresses SET scanned_ms = last_seen_ms")
    db.execute("CREATE INDEX scan_addresses_by_notional ON scan_addresses(notional)")


def forum_topics(db: Database) -> None:
    """Forum topics: the topic (message thread) each subscription and each chat's digest was
    set up in (NULL: the General topic, or a chat without topics), the topic each outbox row
    goes to with the note it carries when it falls back to General, and the topics known by
    name or known to be closed or deleted."""
    db.execute("ALTER TABLE subscriptions ADD COLUMN thread_id INTEGER")
    db.execute("ALTER TABLE chats ADD COLUMN digest_thread_id INTEGER")
    db.execute("ALTER TABLE outbox ADD COLUMN thread_id INTEGER")
    db.execute("ALTER TABLE outbox ADD COLUMN topic_note TEXT")
    db.execute(
        """
        CREATE TABLE forum_topics (
            chat_id INTEGER NOT NULL,
            thread_id INTEGER NOT NULL,
            name TEXT,
            gone TEXT,
            gone_at INTEGER,
            PRIMARY KEY (chat_id, thread_id)
        )
        """
    )


def webhooks(db: Database) -> None:
    """A chat's webhooks (Discord or signed JSON) and one delivery row per webhook and outbox
    row, moving through the outbox's states; ``outbox.webhooks_at`` says when a row was
    handed to the chat's webhooks (rows already there count as handed)."""
    db.execute(
        """
        CREATE TABLE webhooks (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            chat_id INTEGER NOT NULL REFERENCES chats(id) ON UPDATE CASCADE ON DELETE CASCADE,
            url TEXT NOT NULL,
            kind TEXT NOT NULL,
            secret TEXT,
            created_at INTEGER NOT NULL,
            paused_at INTEGER,
            paused_why TEXT,
            told_at INTEGER,
            failures INTEGER NOT NULL DEFAULT 0
        )
        """
    )
    db.execute("CREATE INDEX webhooks_by_chat ON webhooks(chat_id)")
    db.execute(
        """
        CREATE TABLE webhook_deliveries (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            webhook_id INTEGER NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
            outbox_id INTEGER NOT NULL,
            kind TEXT NOT NULL,
            payload TEXT NOT NULL,
            snapshot_id INTEGER,
            state TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL,
            next_attempt_at INTEGER NOT NULL,
            expires_at INTEGER,
            attempted_at INTEGER,
            sent_at INTEGER,
            error TEXT,
            UNIQUE (webhook_id, outbox_id)
        )
        """
    )
    db.execute("CREATE INDEX webhook_deliveries_due ON webhook_deliveries(state, next_attempt_at)")
    db.execute("ALTER TABLE outbox ADD COLUMN webhooks_at INTEGER")
    db.execute("UPDATE outbox SET webhooks_at = created_at")
    db.execute("CREATE INDEX outbox_for_webhooks ON outbox(id) WHERE webhooks_at IS NULL")


MIGRATIONS: list[Callable[[Database], None]] = [
    market_cache,
    chats_and_maps,
    alert_delivery,
    one_sided_bybit_open_interest,
    snapshot_notes,
    snapshot_venues,
    realized_liquidations,
    sweep_receipts,
    subscription_mutes,
    building_alerts,
    chat_zones_and_digests,
    open_interest_floors,
    outbox_attempts,
    map_budgets,
    scanned_positions,
    snapshot_real_layer,
    scan_pass_stats,
    real_cluster_alerts,
    discovered_addresses,
    forum_topics,
    webhooks,
]
