"""Building-cluster alerts: which subscriptions opted in, and the detector's memory for each
(``storage.opt_in_watches``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlite_utils import Database

from liqmap.signals.growing_clusters import BuildingWatch, as_state, from_state
from liqmap.signals.proximity import Alert
from storage.opt_in_watches import OptInWatches


@dataclass(frozen=True)
class Built:
    """One chat's check of a new map: its next memory and the alerts to deliver."""

    chat_id: int
    watch: BuildingWatch
    alerts: list[Alert]


class BuildingStore(OptInWatches[BuildingWatch]):
    """Building-cluster alerts (``building_watch``)."""

    def __init__(self, db: Database, clock: Callable[[], int]) -> None:
        super().__init__(db, clock, "building_watch", as_state, from_state)
