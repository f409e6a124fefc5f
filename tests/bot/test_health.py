"""The Telegram check asks getMe and never shows the token."""

from __future__ import annotations

from bot.health import check_telegram
from tests.fakes.http import free_port
from tests.fakes.telegram import FakeTelegram


async def test_an_accepted_token_names_the_bot(tg: FakeTelegram) -> None:
    result = await check_telegram(tg.token, tg.url)
    assert result.ok
    assert (
        result.line()
        == f"ok    telegram  @{tg.bot_username} (bot id {tg.token.split(':')[0]}) at {tg.url}"
    )


async def test_a_rejected_token_is_told_apart_from_no_answer(tg: FakeTelegram) -> None:
    wrong = "999999:WRONG-token-abcdefghijklmnopqrst"
    rejected = await check_telegram(wrong, tg.url)
    assert not rejected.ok
    assert rejected.detail.startswith("the token was rejected by Telegram")
    assert wrong not in rejected.detail
    api = f"http://127.0.0.1:{free_port()}"
    unreachable = await check_telegram(tg.token, api)
    assert not unreachable.ok
    assert unreachable.detail.startswith(f"Telegram not reachable at {api}")


async def test_no_token_is_not_asked_about(tg: FakeTelegram) -> None:
    result = await check_telegram(None, tg.url)
    assert result.detail == "TELEGRAM_BOT_TOKEN is not set (liqmap run needs it)"
    assert tg.count() == 0
