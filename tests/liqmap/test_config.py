"""Settings: defaults, .env file, environment precedence, and messages naming the bad value."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from liqmap.config import (
    HYPERLIQUID_LEADERBOARD_URL,
    TELEGRAM_API_URL,
    Settings,
    load_settings,
)
from liqmap.errors import ConfigError

TOKEN = "123456:ABCdefGHIjklMNOpqrSTUvwxYZ012345"


def test_defaults_match_design(tmp_path: Path) -> None:
    settings = load_settings({}, env_file=tmp_path / "absent.env")
    assert settings.telegram_bot_token is None
    assert settings.telegram_api_url == TELEGRAM_API_URL
    assert settings.db_path == Path("liqmap.db")
    assert settings.default_exchange == "okx"
    assert settings.exchange_urls == {}
    assert settings.refresh_seconds == 300
    assert settings.price_seconds == 15
    assert settings.allowed_chats == frozenset()
    assert settings.admin_chats == frozenset()
    assert settings.log_level == "INFO"
    assert settings.metrics_address is None, "no metrics endpoint unless asked for"
    assert settings.scan_seconds == 600
    assert settings.scan_weight_per_minute == 600, "half of Hyperliquid's 1200 a minute"


def test_log_level_and_the_metrics_address_are_read() -> None:
    settings = load_settings(
        {"LIQMAP_LOG_LEVEL": "warning", "LIQMAP_METRICS_PORT": "9464"}, env_file=None
    )
    assert (settings.log_level, settings.metrics_address) == ("WARNING", ("", 9464))
    local = load_settings({"LIQMAP_METRICS_PORT": "127.0.0.1:9464"}, env_file=None)
    assert local.metrics_address == ("127.0.0.1", 9464)


def test_env_file_is_read_and_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        f"TELEGRAM_BOT_TOKEN={TOKEN}\n"
        "LIQMAP_REFRESH_SECONDS=120\n"
        "LIQMAP_EXCHANGE=binance\n"
        "LIQMAP_OKX_URL=http://127.0.0.1:9/\n"
        "LIQMAP_ALLOWED_CHATS=1, -100200\n"
    )
    settings = load_settings({"LIQMAP_REFRESH_SECONDS": "60"}, env_file=env_file)
    assert settings.telegram_bot_token == TOKEN
    assert settings.refresh_seconds == 60
    assert settings.default_exchange == "binance"
    assert settings.exchange_urls == {"okx": "http://127.0.0.1:9"}
    assert settings.allowed_chats == frozenset({1, -100200})


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "LIQMAP_REFRESH_SECONDS",
            "abc",
            "LIQMAP_REFRESH_SECONDS must be a positive number of seconds, got 'abc'",
        ),
        (
            "LIQMAP_PRICE_SECONDS",
            "-5",
            "LIQMAP_PRICE_SECONDS must be a positive number of seconds, got '-5'",
        ),
        ("LIQMAP_PRICE_SECONDS", "nan", "LIQMAP_PRICE_SECONDS must be a positive number"),
        ("LIQMAP_REFRESH_SECONDS", "1e12", "LIQMAP_REFRESH_SECONDS must be at most 604800"),
        ("LIQMAP_EXCHANGE", "kraken", "LIQMAP_EXCHANGE must be one of okx, binance, bybit"),
        ("LIQMAP_BYBIT_URL", "ftp://x", "LIQMAP_BYBIT_URL must be an http(s) URL"),
        ("TELEGRAM_API_URL", "localhost:8081", "TELEGRAM_API_URL must be an http(s) URL"),
        ("LIQMAP_ADMIN_CHATS", "12,abc", "LIQMAP_ADMIN_CHATS must be comma-separated chat ids"),
        ("LIQMAP_MAX_WATCHED", "0", "LIQMAP_MAX_WATCHED must be a whole number from 1 to 100,000"),
        ("LIQMAP_MAPS_PER_MINUTE", "2.5", "LIQMAP_MAPS_PER_MINUTE must be a whole number"),
        (
            "LIQMAP_MAPS_PER_MINUTE_TOTAL",
            "0",
            "LIQMAP_MAPS_PER_MINUTE_TOTAL must be a whole number",
        ),
        ("LIQMAP_MAX_SUBSCRIPTIONS", "1e9", "LIQMAP_MAX_SUBSCRIPTIONS must be a whole number"),
        (
            "LIQMAP_LOG_LEVEL",
            "verbose",
            "LIQMAP_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got 'verbose'",
        ),
        (
            "LIQMAP_SCAN_WEIGHT_PER_MINUTE",
            "601",
            "LIQMAP_SCAN_WEIGHT_PER_MINUTE must be a whole number from 2 (one account read) to "
            "600, half of Hyperliquid's 1200 a minute, got '601'",
        ),
        ("LIQMAP_SCAN_WEIGHT_PER_MINUTE", "1", "LIQMAP_SCAN_WEIGHT_PER_MINUTE must be a whole"),
        ("LIQMAP_SCAN_SECONDS", "0", "LIQMAP_SCAN_SECONDS must be a positive number of seconds"),
        (
            "LIQMAP_WHALE_ADDRESSES",
            "masked",
            "LIQMAP_WHALE_ADDRESSES must be shown or hidden, got 'masked'",
        ),
        ("LIQMAP_METRICS_PORT", "0", "LIQMAP_METRICS_PORT must be a port from 1 to 65535"),
        (
            "LIQMAP_INLINE_CACHE_CHAT",
            "@channel",
            "LIQMAP_INLINE_CACHE_CHAT must be a chat id such as -1001234567890, got '@channel'",
        ),
        ("LIQMAP_METRICS_PORT", "host:", "LIQMAP_METRICS_PORT must be a port from 1 to 65535"),
        (
            "LIQMAP_WEBHOOK_URL",
            "http://bot.example.com/hook",
            "LIQMAP_WEBHOOK_URL must be the public https:// URL Telegram posts the updates to, "
            "got 'http://bot.example.com/hook'",
        ),
        ("LIQMAP_WEBHOOK_URL", "bot.example.com/hook", "LIQMAP_WEBHOOK_URL must be the public"),
        (
            "LIQMAP_WEBHOOK_URL",
            "https://bot.example.com:8080/hook",
            "LIQMAP_WEBHOOK_URL must use a port Telegram posts to: 443, 80, 88, 8443",
        ),
        ("LIQMAP_WEBHOOK_URL", "https://bot.example.com:99999/", "has a port that is not"),
        ("LIQMAP_WEBHOOK_URL", "https://u:p@bot.example.com/", "must name no user, password"),
        ("LIQMAP_WEBHOOK_URL", "https://bot.example.com/h(o)ok", "must have a plain path"),
        ("LIQMAP_WEBHOOK_LISTEN", "0", "LIQMAP_WEBHOOK_LISTEN must be a port from 1 to 65535"),
        ("LIQMAP_WEBHOOK_LISTEN", "localhost:http", "LIQMAP_WEBHOOK_LISTEN must be a port"),
    ],
)
def test_bad_values_name_variable_and_value(
    tmp_path: Path, name: str, value: str, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({name: value}, env_file=None)
    assert message in str(caught.value)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"LIQMAP_REFRESH_SECONDS": "0", "LIQMAP_EXCHANGE": "ftx"}, env_file=None)
    lines = str(caught.value).splitlines()
    assert sorted(line.split()[0] for line in lines) == [
        "LIQMAP_EXCHANGE",
        "LIQMAP_REFRESH_SECONDS",
    ]


def test_bad_token_is_reported_without_echoing_it() -> None:
    secret = "not-a-token-but-secret"
    with pytest.raises(ConfigError) as caught:
        load_settings({"TELEGRAM_BOT_TOKEN": secret}, env_file=None)
    assert "TELEGRAM_BOT_TOKEN" in str(caught.value)
    assert secret not in str(caught.value)


def test_token_is_required_only_when_asked_and_never_in_repr() -> None:
    assert load_settings({"TELEGRAM_BOT_TOKEN": TOKEN}, env_file=None).require_token() == TOKEN
    settings = load_settings({"TELEGRAM_BOT_TOKEN": TOKEN}, env_file=None)
    assert TOKEN not in repr(settings)
    with pytest.raises(ConfigError, match="TELEGRAM_BOT_TOKEN is required"):
        load_settings({}, env_file=None).require_token()


def test_the_leaderboard_is_asked_by_default_elsewhere_if_set_and_not_at_all_if_empty() -> None:
    default = load_settings({}, env_file=None).hyperliquid_leaderboard_url
    assert default == "https://stats-data.hyperliquid.xyz/Mainnet/leaderboard"
    local = {"LIQMAP_HYPERLIQUID_LEADERBOARD_URL": "http://127.0.0.1:8080/Mainnet/leaderboard"}
    assert load_settings(local, env_file=None).hyperliquid_leaderboard_url == (
        "http://127.0.0.1:8080/Mainnet/leaderboard"
    )
    off = {"LIQMAP_HYPERLIQUID_LEADERBOARD_URL": " "}
    assert load_settings(off, env_file=None).hyperliquid_leaderboard_url is None
    with pytest.raises(ConfigError) as caught:
        load_settings({"LIQMAP_HYPERLIQUID_LEADERBOARD_URL": "stats-data"}, env_file=None)
    assert str(caught.value) == (
        "LIQMAP_HYPERLIQUID_LEADERBOARD_URL must be an http(s) URL such as "
        "https://example.com, got 'stats-data'"
    )


def test_blank_values_mean_default() -> None:
    settings = load_settings(
        {"LIQMAP_REFRESH_SECONDS": "", "LIQMAP_ALLOWED_CHATS": " "}, env_file=None
    )
    assert settings.refresh_seconds == 300
    assert settings.allowed_chats == frozenset()


def test_env_example_lists_every_variable_with_its_default() -> None:
    example = (Path(__file__).resolve().parents[2] / ".env.example").read_text()
    assignments = dict(
        line.split("=", 1) for line in example.splitlines() if line and not line.startswith("#")
    )
    expected = {
        "TELEGRAM_BOT_TOKEN": "",
        "TELEGRAM_API_URL": TELEGRAM_API_URL,
        "LIQMAP_DB": "liqmap.db",
        "LIQMAP_EXCHANGE": "okx",
        "LIQMAP_OKX_URL": "https://www.okx.com",
        "LIQMAP_BINANCE_URL": "https://fapi.binance.com",
        "LIQMAP_BYBIT_URL": "https://api.bybit.com",
        "LIQMAP_HYPERLIQUID_URL": "https://api.hyperliquid.xyz",
        "LIQMAP_OKX_WS_URL": "wss://ws.okx.com:443",
        "LIQMAP_BINANCE_WS_URL": "wss://fstream.binance.com",
        "LIQMAP_BYBIT_WS_URL": "wss://stream.bybit.com",
        "LIQMAP_REFRESH_SECONDS": "300",
        "LIQMAP_PRICE_SECONDS": "15",
        "LIQMAP_ALLOWED_CHATS": "",
        "LIQMAP_ADMIN_CHATS": "",
        "LIQMAP_MAX_WATCHED": "150",
        "LIQMAP_MAX_SUBSCRIPTIONS": "30",
        "LIQMAP_MAPS_PER_MINUTE": "6",
        "LIQMAP_LOG_LEVEL": "INFO",
        "LIQMAP_METRICS_PORT": "",
        "LIQMAP_MAPS_PER_MINUTE_TOTAL": "10",
        "LIQMAP_SCAN_SECONDS": "600",
        "LIQMAP_SCAN_WEIGHT_PER_MINUTE": "600",
        "LIQMAP_WHALE_ADDRESSES": "shown",
        "LIQMAP_HYPERLIQUID_LEADERBOARD_URL": HYPERLIQUID_LEADERBOARD_URL,
        "LIQMAP_WEBHOOK_URL": "",
        "LIQMAP_WEBHOOK_SECRET": "",
        "LIQMAP_WEBHOOK_LISTEN": "127.0.0.1:8443",
        "LIQMAP_INLINE_CACHE_CHAT": "",
        "LIQMAP_WEBHOOKS_ALLOWED": "",
        "LIQMAP_WEBHOOKS_PRIVATE": "deny",
    }
    assert assignments == expected
    settings = load_settings(assignments, env_file=None)
    assert settings.refresh_seconds == 300
    assert (settings.max_watched, settings.max_subscriptions, settings.maps_per_minute) == (
        150, 30, 6
    )  # fmt: skip
    assert settings.maps_per_minute_total == Settings().maps_per_minute_total == 10
    assert settings.whale_addresses == Settings().whale_addresses == "shown"
    hidden = load_settings({"LIQMAP_WHALE_ADDRESSES": " Hidden "}, env_file=None)
    assert hidden.whale_addresses == "hidden"
    assert (settings.webhooks_allowed, settings.webhooks_private) == ((), False)
    assert settings.exchange_urls["okx"] == "https://www.okx.com"
    assert settings.inline_cache_chat is None
    channel = load_settings({"LIQMAP_INLINE_CACHE_CHAT": "-1001234567890"}, env_file=None)
    assert channel.inline_cache_chat == -1001234567890


def test_liqmap_hyperliquid_url_points_hyperliquid_requests_elsewhere() -> None:
    from liqmap.exchanges.ccxt_client import new_client
    from liqmap.market.venues import HYPERLIQUID

    settings = load_settings({"LIQMAP_HYPERLIQUID_URL": "http://127.0.0.1:9"}, env_file=None)
    assert settings.exchange_urls == {"hyperliquid": "http://127.0.0.1:9"}
    client = new_client(HYPERLIQUID, settings.exchange_urls["hyperliquid"], {})
    assert client.urls["api"]["public"] == "http://127.0.0.1:9"
    assert client.options["fetchMarkets"]["types"] == ["swap"], "no spot, no HIP-3 markets"
    assert client.rateLimit == 50, "the gate paces 50 ms a unit of weight: 1200 a minute"


WEBHOOK = {"LIQMAP_WEBHOOK_URL": "https://bot.example.com/tg", "LIQMAP_WEBHOOK_SECRET": "s_3-C"}


def test_webhook_mode_is_read_with_its_listen_address_and_polling_is_the_default() -> None:
    assert load_settings({}, env_file=None).webhook is None, "long polling by default"
    hook = load_settings(WEBHOOK, env_file=None).webhook
    assert hook is not None
    assert (hook.url, hook.secret, hook.listen, hook.path) == (
        "https://bot.example.com/tg", "s_3-C", ("127.0.0.1", 8443), "/tg"
    )  # fmt: skip
    anywhere = load_settings(WEBHOOK | {"LIQMAP_WEBHOOK_LISTEN": "9000"}, env_file=None)
    assert anywhere.webhook is not None and anywhere.webhook.listen == ("", 9000)
    root = load_settings(WEBHOOK | {"LIQMAP_WEBHOOK_URL": "https://h:8443"}, env_file=None)
    assert root.webhook is not None and root.webhook.path == "/"
    assert "s_3-C" not in repr(load_settings(WEBHOOK, env_file=None))
    # without the URL the other two say nothing: removing it switches back to polling
    assert load_settings({"LIQMAP_WEBHOOK_SECRET": "s"}, env_file=None).webhook is None


def test_webhook_mode_needs_a_secret_and_never_the_token_in_its_url() -> None:
    with pytest.raises(ConfigError, match="LIQMAP_WEBHOOK_SECRET is required"):
        load_settings({"LIQMAP_WEBHOOK_URL": "https://bot.example.com/tg"}, env_file=None)
    with pytest.raises(ConfigError) as caught:
        tokened = {"TELEGRAM_BOT_TOKEN": TOKEN, "LIQMAP_WEBHOOK_URL": f"http://h/{TOKEN}"}
        load_settings(WEBHOOK | tokened, env_file=None)
    assert "LIQMAP_WEBHOOK_URL must not contain the bot token" in str(caught.value)
    assert TOKEN not in str(caught.value)


@given(st.text(max_size=300))
def test_a_secret_is_taken_exactly_when_the_bot_api_allows_it_and_never_echoed(
    secret: str,
) -> None:
    allowed = re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret.strip()) is not None
    environ = WEBHOOK | {"LIQMAP_WEBHOOK_SECRET": secret}
    if not secret.strip():
        with pytest.raises(ConfigError, match="LIQMAP_WEBHOOK_SECRET is required"):
            load_settings(environ, env_file=None)
    elif allowed:
        hook = load_settings(environ, env_file=None).webhook
        assert hook is not None and hook.secret == secret.strip()
    else:
        with pytest.raises(ConfigError) as caught:
            load_settings(environ, env_file=None)
        assert "LIQMAP_WEBHOOK_SECRET must be 1 to 256 of the characters" in str(caught.value)
        assert "(the value is not shown)" in str(caught.value)
        assert "is required" not in str(caught.value), "one message for one problem"
        if len(secret.strip()) > 3:
            assert secret.strip() not in str(caught.value)


def test_webhook_settings_are_read_and_bad_ones_named() -> None:
    settings = load_settings(
        {
            "LIQMAP_WEBHOOKS_ALLOWED": "Discord.com, *.example.org",
            "LIQMAP_WEBHOOKS_PRIVATE": "allow",
        },
        env_file=None,
    )
    assert settings.webhooks_allowed == ("discord.com", "*.example.org")
    assert settings.webhooks_private
    with pytest.raises(ConfigError) as bad:
        load_settings(
            {"LIQMAP_WEBHOOKS_ALLOWED": "discord.com, http://x", "LIQMAP_WEBHOOKS_PRIVATE": "yes"},
            env_file=None,
        )
    assert str(bad.value).splitlines() == [
        "LIQMAP_WEBHOOKS_ALLOWED has 'http://x', which is not a host name or *.domain, got "
        "'discord.com, http://x'",
        "LIQMAP_WEBHOOKS_PRIVATE must be allow or deny, got 'yes'",
    ]
