"""Heatmaps on demand: built from the market cache, synced first; for the bot, each
(instrument, window) computed once however many ask, and kept in memory while fresh."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from dataclasses import dataclass, replace

from jobs.on_demand.maps import sync_venues
from jobs.on_demand.memo import Memo
from jobs.on_demand.realized_view import realized_view
from liqmap.charts.heatmap_chart import render_heatmap_png
from liqmap.charts.map_chart import ChartLabels
from liqmap.engine.heatmap import Heatmap, build_aggregate_heatmap
from liqmap.errors import ExchangeError
from liqmap.exchanges.market_data import MarketData, Progress
from liqmap.market.instruments import Instrument
from liqmap.market.timeframes import DEFAULT_STEP, window_ms
from storage.stores import Stores

KEEP = 24
"""Rendered heatmaps kept in memory (about 250 KB each)."""


@dataclass(frozen=True)
class HeatmapView:
    """A heatmap, what its chart's title says, and what a reader should know about it."""

    heatmap: Heatmap
    labels: ChartLabels
    notes: tuple[str, ...]


async def compute_heatmap(
    market: MarketData,
    stores: Stores,
    inst: Instrument,
    window: str,
    step: str | None = None,
    progress: Progress | None = None,
) -> HeatmapView:
    """Sync the window and a warm-up of the same length before it (each exchange of an
    aggregate at once), then build the heatmap in a worker thread: its first column holds
    what was open at the window's start. An aggregate left without some exchange says which
    in its notes."""
    step = step or DEFAULT_STEP[window]
    length = window_ms(window)
    parts, notes = await sync_venues(market, stores, inst, window, step, progress, length)
    build = functools.partial(build_aggregate_heatmap, parts, window_ms=length)
    heatmap, shares = await asyncio.to_thread(build)
    if inst.is_aggregate:
        source = "+".join(part.exchange for part in parts)
        labels = ChartLabels(
            inst.native_id, source, window, tuple((s.exchange, s.share) for s in shares)
        )
    else:
        labels = ChartLabels(inst.native_id, inst.exchange, window)
    return HeatmapView(heatmap, labels, notes)


@dataclass(frozen=True)
class RenderedHeatmap:
    """A heatmap with its chart, and when it was made."""

    view: HeatmapView
    png: bytes
    made_at: int
    file_id: str | None = None
    """Telegram's id of the chart once sent, to send it again without uploading."""


@dataclass(frozen=True)
class HeatmapAnswer:
    """A heatmap to show, and the error that kept it from being fresh, if one did."""

    rendered: RenderedHeatmap
    error: ExchangeError | None = None


class HeatmapService:
    """Serves rendered heatmaps: the one made in the last ``fresh_ms``, else a new one,
    shared by everyone who asks while it is made. The last ``keep`` stay in memory."""

    def __init__(
        self,
        market: MarketData,
        stores: Stores,
        fresh_ms: int,
        clock: Callable[[], int] | None = None,
        keep: int = KEEP,
    ) -> None:
        self.market = market
        self.stores = stores
        self.clock = clock or market.now
        self._memo: Memo[tuple[str, str], RenderedHeatmap] = Memo(fresh_ms, self.clock, keep)

    def would_compute(self, inst: Instrument, window: str) -> bool:
        """Whether ``get`` would make a new heatmap rather than answer from memory."""
        return self._memo.would_make((inst.key, window))

    async def get(self, inst: Instrument, window: str) -> HeatmapAnswer:
        """The heatmap to show; when the exchange fails, the last one made comes back with
        the error, and with none made the error is raised."""
        key = (inst.key, window)
        made = self._memo.last(key)
        try:
            return HeatmapAnswer(await self._memo.get(key, lambda: self._make(inst, window)))
        except ExchangeError as exc:
            if made is None:
                raise
            return HeatmapAnswer(made, exc)

    def remember_file_id(
        self, inst: Instrument, window: str, rendered: RenderedHeatmap, file_id: str
    ) -> None:
        """Keep Telegram's id of ``rendered``'s chart, unless a newer heatmap replaced it."""
        self._memo.replace((inst.key, window), rendered, replace(rendered, file_id=file_id))

    async def _make(self, inst: Instrument, window: str) -> RenderedHeatmap:
        view = await compute_heatmap(self.market, self.stores, inst, window)
        end = view.heatmap.as_of_ms
        realized = await realized_view(self.stores, self.market, inst, end - window_ms(window), end)
        draw = functools.partial(render_heatmap_png, view.heatmap, view.labels, realized=realized)
        png = await asyncio.to_thread(draw)
        return RenderedHeatmap(view, png, self.clock())
