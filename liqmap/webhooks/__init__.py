"""Webhooks out: alerts posted to Discord or any HTTPS receiver, through aiohttp, only to
the addresses ``liqmap.policies.webhook_targets`` vetted."""
