"""The map engine: pure numpy from candles and open interest to liquidation levels, bins,
clusters and heatmaps. No clock, network or database."""
