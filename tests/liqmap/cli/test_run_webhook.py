"""``liqmap run`` in webhook mode (in this process, ``tests.support.cli``; on SIGTERM as a
process of its own): it sets the webhook with the secret token, handles what Telegram posts to
its server, refuses a post without the secret, stops in order, and loses nothing across
restarts or when switched back to polling.

The fake Bot API plays Telegram (setWebhook, getWebhookInfo, deleteWebhook as
core.telegram.org/bots/api#setwebhook describes them) and, through ``webhook_route``, the
reverse proxy that forwards the public HTTPS URL to the bot's local listener."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.http import free_port
from tests.fakes.okx import FakeOkx
from tests.fakes.telegram import SECRET_HEADER, FakeTelegram, api_error
from tests.support.cli import Liqmap, run

ANN, BOB = 1001, 2002
PUBLIC = "https://bot.example.test/liqmap-hook"
SECRET = "Wh-secret_0123456789abcdefABCDEF"


@pytest.fixture
def tg() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        yield fake


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def polling_env(tg: FakeTelegram, okx: FakeOkx, tmp_path: Path) -> dict[str, str]:
    return {
        "TELEGRAM_BOT_TOKEN": tg.token,
        "TELEGRAM_API_URL": tg.url,
        "LIQMAP_OKX_URL": okx.url,
        "LIQMAP_DB": str(tmp_path / "run.db"),
    }


@pytest.fixture
def env(polling_env: dict[str, str], port: int) -> dict[str, str]:
    return polling_env | {
        "LIQMAP_WEBHOOK_URL": PUBLIC,
        "LIQMAP_WEBHOOK_SECRET": SECRET,
        "LIQMAP_WEBHOOK_LISTEN": f"127.0.0.1:{port}",
    }


def proxy_to(port: int) -> object:
    """The reverse proxy: the public URL's path, forwarded to the local listener."""
    return lambda url: url.replace("https://bot.example.test", f"http://127.0.0.1:{port}")


def post(port: int, update: dict, secret: str | None) -> int:
    """POST ``update`` to the bot's webhook server as Telegram would; the answer's status (0:
    no server)."""
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[SECRET_HEADER] = secret
    url = f"http://127.0.0.1:{port}/liqmap-hook"
    request = urllib.request.Request(url, json.dumps(update).encode(), headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0  # nothing listens


def start_update(update_id: int, chat_id: int) -> dict:
    """A ``/start`` from a user in their private chat, as the Bot API's Update carries it."""
    user = {"id": chat_id, "is_bot": False, "first_name": "Trader"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1,
            "date": 1_700_000_000,
            "chat": {"id": chat_id, "type": "private", "first_name": "Trader"},
            "from": user,
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }


def answered(tg: FakeTelegram, chat_id: int) -> bool:
    return any(m["chat_id"] == chat_id for m in tg.sent())


def test_webhook_mode_sets_the_webhook_with_the_secret_and_answers_what_telegram_posts(
    tg: FakeTelegram, env: dict[str, str], port: int, tmp_path: Path
) -> None:
    tg.webhook_route = proxy_to(port)  # type: ignore[assignment]
    with Liqmap(["run"], tmp_path, env) as liqmap:
        liqmap.until(lambda: "webhook set" in liqmap.output(), "the webhook set")
        hook = tg.webhook()
        assert hook is not None
        assert (hook["url"], hook["secret_token"]) == (PUBLIC, SECRET)
        assert hook["allowed_updates"] == [
            "callback_query",
            "inline_query",
            "message",
            "my_chat_member",
        ]
        update_id = tg.user_sends(ANN, "/start")
        liqmap.until(lambda: answered(tg, ANN), "/start answered through the webhook")
        result = liqmap.stop()
    assert result.returncode == 0, result.stderr
    assert tg.call_count("getUpdates") == 0, "no polling in webhook mode"
    assert tg.call_count("deleteWebhook") == 0
    assert tg.deliveries(update_id) == 1
    assert tg.webhook() is not None, "left set: Telegram keeps the updates while it is down"
    output = result.stdout + result.stderr
    assert SECRET not in output and tg.token not in output
    assert f"Telegram posts to {PUBLIC}" in output


def test_a_post_without_the_right_secret_is_refused_and_not_handled(
    tg: FakeTelegram, env: dict[str, str], port: int, tmp_path: Path
) -> None:
    with Liqmap(["run"], tmp_path, env | {"LIQMAP_LOG_LEVEL": "DEBUG"}) as liqmap:
        liqmap.until(lambda: "webhook set" in liqmap.output(), "the webhook set")
        assert post(port, start_update(1, BOB), None) == 403
        assert post(port, start_update(2, BOB), "Wh-secret_wrong") == 403
        assert post(port, start_update(3, BOB), SECRET[:-1]) == 403
        assert post(port, start_update(4, ANN), SECRET) == 200
        liqmap.until(lambda: answered(tg, ANN), "the genuine /start answered")
        result = liqmap.stop()
    assert result.returncode == 0, result.stderr
    assert not answered(tg, BOB), "a forged update was handled"
    assert SECRET not in result.stdout + result.stderr, "not even at DEBUG"


def test_restarts_lose_nothing_and_polling_takes_over_when_the_url_is_removed(
    tg: FakeTelegram, env: dict[str, str], polling_env: dict[str, str], port: int, tmp_path: Path
) -> None:
    tg.webhook_route = proxy_to(port)  # type: ignore[assignment]
    with Liqmap(["run"], tmp_path, env) as liqmap:
        liqmap.until(lambda: "webhook set" in liqmap.output(), "the webhook set")
        assert liqmap.stop().returncode == 0
    # while the service is down Telegram cannot post, and keeps the update
    while_down = tg.user_sends(ANN, "/start")
    with Liqmap(["run"], tmp_path, env) as liqmap:
        liqmap.until(lambda: answered(tg, ANN), "the update sent while it was down")
        assert liqmap.stop().returncode == 0
    assert tg.deliveries(while_down) == 1
    # polling again: the webhook is deleted, keeping the updates Telegram holds
    mark = tg.mark()
    tg.webhook_route = None
    queued = tg.user_sends(BOB, "/start")
    with Liqmap(["run"], tmp_path, polling_env) as liqmap:
        liqmap.until(lambda: answered(tg, BOB), "the update sent before polling resumed")
        result = liqmap.stop()
    assert result.returncode == 0, result.stderr
    assert tg.webhook() is None
    deletes = [c for c in tg.calls_since(mark) if c["method"] == "deleteWebhook"]
    assert deletes and all(not c["params"].get("drop_pending_updates") for c in deletes)
    assert not [c for c in tg.calls_since(mark) if c["method"] == "setWebhook"]
    assert tg.deliveries(queued) >= 1


def test_a_url_telegram_refuses_or_a_taken_port_stops_it_with_a_clear_error(
    tg: FakeTelegram, env: dict[str, str], port: int, tmp_path: Path
) -> None:
    tg.inject(api_error(400, "Bad Request: bad webhook: Failed to resolve host"),
              tg.path("setWebhook"))  # fmt: skip
    refused = run(["run"], tmp_path, env, within=60)
    assert refused.returncode == 2
    assert f"Telegram refused LIQMAP_WEBHOOK_URL {PUBLIC}" in refused.stderr
    assert "failed to resolve host" in refused.stderr.lower()
    assert "Traceback" not in refused.stderr, "one line says it"

    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        busy = run(["run"], tmp_path, env, within=60)
    assert busy.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port} (LIQMAP_WEBHOOK_LISTEN)" in busy.stderr
    assert "Traceback" not in busy.stderr
    assert SECRET not in refused.stderr + busy.stderr


def test_bad_webhook_settings_are_refused_before_anything_starts(
    polling_env: dict[str, str], tmp_path: Path
) -> None:
    plain = run(
        ["run"], tmp_path, polling_env | {"LIQMAP_WEBHOOK_URL": "http://bot.example.test/h"}
    )
    assert plain.returncode == 2
    assert "LIQMAP_WEBHOOK_URL must be the public https:// URL" in plain.stderr
    unsecured = run(["run"], tmp_path, polling_env | {"LIQMAP_WEBHOOK_URL": PUBLIC})
    assert unsecured.returncode == 2
    assert "LIQMAP_WEBHOOK_SECRET is required with LIQMAP_WEBHOOK_URL" in unsecured.stderr


def test_sigterm_stops_webhook_mode_quietly_and_in_order(
    tg: FakeTelegram, env: dict[str, str], port: int, tmp_path: Path
) -> None:
    import signal

    from tests.support.service import Service, wait

    tg.webhook_route = proxy_to(port)  # type: ignore[assignment]
    service = Service(env, tmp_path)
    service.start()
    try:
        wait(lambda: "webhook set" in service.output(), "the webhook set")
        tg.user_sends(ANN, "/start")
        wait(lambda: answered(tg, ANN), "/start answered through the webhook")
    finally:
        status = service.kill(signal.SIGTERM)
    output = service.output()
    assert status == 0, output
    assert "Traceback" not in output, output
    ours = [line.split(" liqmap: ")[-1] for line in output.splitlines() if " liqmap: " in line]
    assert ours[-4:] == [
        "stopping: no new updates",
        "stopping: jobs stopped",
        "stopping: exchanges closed",
        "liqmap stopped",
    ], output
    assert SECRET not in output and tg.token not in output
    assert post(port, start_update(9, BOB), SECRET) == 0, "the server closed with the service"


def test_a_telegram_error_while_setting_the_webhook_is_retried(
    tg: FakeTelegram, env: dict[str, str], port: int, tmp_path: Path
) -> None:
    tg.inject(api_error(502, "Bad Gateway"), tg.path("setWebhook"), times=2)
    tg.webhook_route = proxy_to(port)  # type: ignore[assignment]
    with Liqmap(["run"], tmp_path, env) as liqmap:
        liqmap.until(lambda: "webhook set" in liqmap.output(), "the webhook set after retries")
        tg.user_sends(ANN, "/start")
        liqmap.until(lambda: answered(tg, ANN), "/start answered")
        result = liqmap.stop()
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("Telegram unreachable") == 2
    assert "Traceback" not in result.stderr
