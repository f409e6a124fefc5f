"""Reading the charts the tests draw: their size and how many pixels have a colour."""

from __future__ import annotations

import struct

import numpy as np


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert png[12:16] == b"IHDR"
    return struct.unpack(">II", png[16:24])


def colour_pixels(png: bytes, colour: str, tolerance: float = 0.02) -> int:
    """How many pixels of ``png`` have ``colour`` (``#rrggbb``)."""
    import io

    from matplotlib.colors import to_rgb
    from matplotlib.image import imread

    rgb = imread(io.BytesIO(png))[..., :3]
    return int((np.abs(rgb - np.array(to_rgb(colour))).max(axis=-1) < tolerance).sum())
