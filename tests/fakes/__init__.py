"""Local HTTP servers that speak the real wire formats of OKX, Binance, Bybit and Telegram."""
