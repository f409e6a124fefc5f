"""Adapters to market data: ccxt for the exchanges' REST and websockets, and history files."""
