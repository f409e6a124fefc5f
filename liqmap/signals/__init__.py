"""What the map tells a trader: proximity and growing-cluster alerts, sweep receipts, price
checks, the screener and the daily digest. Pure: the clock is passed in."""
