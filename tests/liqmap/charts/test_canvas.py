"""Text reaches the PNG as written: matplotlib never reads it as TeX."""

from __future__ import annotations

from liqmap.charts.canvas import new_figure, to_png
from tests.support.png import png_size


def test_text_with_unbalanced_tex_is_drawn_as_written() -> None:
    figure = new_figure(640)
    title = figure.suptitle("$BTC^$ longs $878K  shorts $4.0M \\q _x")
    axes = figure.add_axes((0.1, 0.1, 0.8, 0.7))
    label = axes.set_xlabel("$}$")
    assert png_size(to_png(figure)) == (640, 360)
    assert not title.get_parse_math() and not label.get_parse_math()
    assert title.get_text() == "$BTC^$ longs $878K  shorts $4.0M \\q _x"
