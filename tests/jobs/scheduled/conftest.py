"""The alert jobs' worlds (``tests/support/alert_world.py``) as fixtures for this folder."""

from tests.support.alert_world import hyperliquid_world, world

__all__ = ["hyperliquid_world", "world"]
