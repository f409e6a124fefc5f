"""The walk-forward figures under each exchange's liquidation formula, and blends of them.

The hourly file in ``data/`` aggregates Binance, Bybit and OKX, USDT- and coin-margined, so no
single formula is the truth; this prints how much the choice matters. Partial Spearman of
predicted against realized liquidations, controlling for the price excursion, on the fit
(first 3/4) and check (last 1/4) parts, as ``liqmap backtest`` splits them.

Run: ``python -m benchmarks.backtest_formulas`` from the repository root.
"""

from __future__ import annotations

import numpy as np

from liqmap.engine.model import Formula, MarginRule, ModelParams
from liqmap.evaluation.backtest import WalkForward, partial_spearman, walk_forward
from liqmap.exchanges.csv_source import load_csv
from tests.support.data import HOURLY

RULES = {
    "OKX linear (default)": MarginRule(0.004, 0.0005, Formula.LINEAR),
    "Binance linear": MarginRule(0.004, 0.0, Formula.LINEAR),
    "Bybit linear": MarginRule(0.005, 0.0, Formula.LINEAR_BYBIT),
    "inverse (OKX)": MarginRule(0.004, 0.0005, Formula.INVERSE),
}
BLENDS = {
    "equal blend": (0.25, 0.25, 0.25, 0.25),
    "by venue size": (0.2, 0.45, 0.25, 0.1),
}


def scores(base: WalkForward, long: np.ndarray, short: np.ndarray, rows: slice) -> str:
    figures = (
        partial_spearman(long[rows], base.realized_long[rows], base.excursion_long[rows]),
        partial_spearman(short[rows], base.realized_short[rows], base.excursion_short[rows]),
    )
    return "".join(f"{value:>8.3f}" for value in figures)


def main() -> None:
    history = load_csv(HOURLY)
    runs = {
        name: walk_forward(history, ModelParams(margin=rule), clusters=False)
        for name, rule in RULES.items()
    }
    base = next(iter(runs.values()))
    cut = int(len(base) * 0.75)
    fit, check = slice(None, cut), slice(cut, None)
    print(f"{'formula':<22}{'fit long':>8}{'short':>8}{'check long':>12}{'short':>8}")
    for name, run in runs.items():
        line = scores(base, run.predicted_long, run.predicted_short, fit)
        print(f"{name:<22}{line}    {scores(base, run.predicted_long, run.predicted_short, check)}")
    for name, weights in BLENDS.items():
        long = sum(w * run.predicted_long for w, run in zip(weights, runs.values(), strict=True))
        short = sum(w * run.predicted_short for w, run in zip(weights, runs.values(), strict=True))
        print(f"{name:<22}{scores(base, long, short, fit)}    {scores(base, long, short, check)}")


if __name__ == "__main__":
    main()
