"""Scheduled work: keep market data fresh, recompute maps, watch prices, deliver alerts."""
