"""``/webhook add URL [discord|json]``, ``/webhook list``, ``/webhook remove N``: a chat's
webhooks, changed by its administrators only (any member of a private chat: its user)."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode

from bot.access import authorized, may_change
from bot.context import BotContext
from bot.deps import BotDeps
from bot.known_chats import known_chat
from bot.texts.common import usage
from bot.texts.webhooks import (
    NO_SUCH,
    TOO_MANY,
    UNKNOWN_KIND,
    added,
    listed,
    refused_target,
    removed,
)
from bot.updates import message_of
from liqmap.policies.webhook_targets import (
    DISCORD,
    JSON,
    KINDS,
    OFF,
    Target,
    TargetRefused,
    is_discord,
    target,
)
from liqmap.webhooks.posting import WebhookPoster
from liqmap.webhooks.signing import new_secret
from storage.webhooks import MAX_WEBHOOKS, TooManyWebhooks

ADMINS_ONLY_WEBHOOKS = "Only group administrators can change this chat's webhooks."


@authorized
async def webhook_command(update: Update, context: BotContext) -> None:
    message, args = message_of(update), list(context.args or [])
    deps = context.deps
    verb = args[0].lower() if args else "list"
    if verb not in ("add", "list", "remove"):
        await message.reply_text(usage("webhook"))
        return
    if not deps.settings.webhooks_allowed:
        await message.reply_text(refused_target(OFF), parse_mode=ParseMode.HTML)
        return
    chat = await known_chat(deps, message.chat.id)
    stores = deps.stores
    if verb == "list":
        if len(args) > 1:
            await message.reply_text(usage("webhook"))
            return
        hooks = await stores.run(stores.webhooks.of_chat, chat.id)
        await message.reply_text(listed(hooks), parse_mode=ParseMode.HTML)
        return
    if not await may_change(update, context):
        await message.reply_text(ADMINS_ONLY_WEBHOOKS)
        return
    if verb == "remove":
        number = args[1] if len(args) == 2 else ""
        if not (number.isdigit() and len(number) <= 3):
            await message.reply_text(usage("webhook"))
            return
        gone = await stores.run(stores.webhooks.remove, chat.id, int(number))
        answer = NO_SUCH if gone is None else removed(gone, int(number))
        await message.reply_text(answer, parse_mode=ParseMode.HTML)
        return
    await _add(deps, update, args[1:], chat.id)


async def _add(deps: BotDeps, update: Update, args: list[str], chat_id: int) -> None:
    message = message_of(update)
    if not 1 <= len(args) <= 2:
        await message.reply_text(usage("webhook"))
        return
    kind = args[1].lower() if len(args) == 2 else None
    if kind is not None and kind not in KINDS:
        await message.reply_text(UNKNOWN_KIND)
        return
    settings, stores = deps.settings, deps.stores
    if len(await stores.run(stores.webhooks.of_chat, chat_id)) >= MAX_WEBHOOKS:
        await message.reply_text(TOO_MANY)
        return
    try:
        checked = target(args[0], settings.webhooks_allowed, settings.webhooks_private)
        await _resolves(deps, checked)
    except TargetRefused as exc:
        await message.reply_text(refused_target(str(exc)), parse_mode=ParseMode.HTML)
        return
    kind = kind or (DISCORD if is_discord(checked.url) else JSON)
    secret = new_secret() if kind == JSON else None
    try:
        hook = await stores.run(
            stores.webhooks.add, chat_id, checked.url, kind, secret, deps.clock()
        )
    except TooManyWebhooks:
        await message.reply_text(TOO_MANY)
        return
    number = len(await stores.run(stores.webhooks.of_chat, chat_id))
    await message.reply_text(added(hook, number), parse_mode=ParseMode.HTML)


async def _resolves(deps: BotDeps, checked: Target) -> None:
    """The host's addresses now pass the rules (checked again at every send)."""
    poster = deps.webhook_poster or WebhookPoster(deps.settings.webhooks_private)
    await poster.addresses(checked.host, checked.port)
