"""The alert jobs' world (``tests/support/alert_world.py``) as a fixture for this folder."""

from tests.support.alert_world import world

__all__ = ["world"]
