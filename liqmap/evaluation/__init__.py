"""How good the map is: the walk-forward backtest and live accuracy. Pure."""
