"""Inline buttons and the callback data they carry (at most 64 bytes)."""
