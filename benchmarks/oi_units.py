"""Open interest in USD or in coins: which reads opening and closing better?

OI in USD moves with price: a constant 80,000 BTC with price up 4.7% reads as $377M opened.
The variant (``ModelParams.flows_in_coins``) takes flows from OI in coins (USD over the
price at each snapshot) and values what opened at the candle's price. Each unit gets its
parameters re-fitted on the fit part (the first 3/4 of the hourly file in ``data/``) over
the same grid, then both are scored on the check part, as ``liqmap backtest`` splits them.

Printed: every grid point's partial Spearman (fit long / short, check long / short; only the
fit part chooses), then each unit's chosen row with its cluster lift.

Measured 2026-12-07 (the README has the table): chosen on the fit part, USD m=0.55% cap 100x
scores check 0.388 / 0.352, coins m=0.25% cap 150x 0.378 / 0.356 (the default, USD m=0.4% cap
125x: 0.398 / 0.349; coins at the default: 0.371 / 0.351). The check part does not rise, so the
model keeps USD. Both units peak along one ridge: the nearest rung's distance 1/cap - m near
0.4%.

Run: ``python -m benchmarks.oi_units`` from the repository root (52 walks forward, about
20 minutes on 2 cores).
"""

from __future__ import annotations

import itertools
from dataclasses import replace

from liqmap.engine.model import MarginRule, ModelParams, leverage_ladder
from liqmap.evaluation.backtest import (
    WalkForward,
    cluster_lift,
    partial_spearman,
    walk_forward,
)
from liqmap.exchanges.csv_source import load_csv
from tests.support.data import HOURLY

MAINTENANCE = (0.0025, 0.0035, 0.004, 0.0045, 0.0055)
"""First-tier maintenance rates tried (the OKX fee of 0.05% comes on top)."""
CAPS = (75, 100, 125, 150, 200)
"""Highest leverage of the ladder."""
FIT_SHARE = 0.75


def variants(flows_in_coins: bool) -> list[ModelParams]:
    base = ModelParams(flows_in_coins=flows_in_coins)
    return [
        replace(base, margin=MarginRule(maintenance=m), tiers=leverage_ladder(3, cap, 48))
        for m, cap in itertools.product(MAINTENANCE, CAPS)
    ]


def partials(run: WalkForward, part: slice) -> tuple[float, float]:
    return (
        partial_spearman(
            run.predicted_long[part], run.realized_long[part], run.excursion_long[part]
        ),
        partial_spearman(
            run.predicted_short[part], run.realized_short[part], run.excursion_short[part]
        ),
    )


def describe(params: ModelParams) -> str:
    cap = max(tier.leverage for tier in params.tiers)
    unit = "coins" if params.flows_in_coins else "USD"
    return f"{unit:5} m={params.margin.maintenance:.4f} cap={cap:>4.0f}x"


def main() -> None:
    history = load_csv(HOURLY)
    chosen = []
    for flows_in_coins in (False, True):
        best: tuple[float, ModelParams] | None = None
        for params in variants(flows_in_coins):
            run = walk_forward(history, params, clusters=False)
            cut = int(len(run) * FIT_SHARE)
            fit, check = partials(run, slice(None, cut)), partials(run, slice(cut, None))
            figures = "".join(f"{value:>8.3f}" for value in (*fit, *check))
            print(f"{describe(params)}{figures}", flush=True)
            if best is None or sum(fit) > best[0]:
                best = (sum(fit), params)
        assert best is not None
        chosen.append(best[1])
    print("\nchosen on the fit part: partial (cluster lift), fit long / short, check long / short")
    for params in chosen:
        run = walk_forward(history, params)
        cut = int(len(run) * FIT_SHARE)
        cells = []
        for part in (slice(None, cut), slice(cut, None)):
            for side, value in zip(("long", "short"), partials(run, part), strict=True):
                lift = _lift(run, part, side)
                cells.append(f"{value:.3f} ({lift:.1f}x)")
        print(f"{describe(params)}  " + "  ".join(f"{cell:>14}" for cell in cells))


def _lift(run: WalkForward, part: slice, side: str) -> float:
    return cluster_lift(
        getattr(run, f"entered_{side}")[part],
        getattr(run, f"excursion_{side}")[part],
        getattr(run, f"realized_{side}")[part],
    )


if __name__ == "__main__":
    main()
