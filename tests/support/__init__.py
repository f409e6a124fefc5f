"""Helpers the tests share: harnesses, exchange rows, data files, fast settings."""
