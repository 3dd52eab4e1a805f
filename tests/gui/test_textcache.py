"""Texts laid back as drawn give the pixels of drawing them, and only then."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.transforms import IdentityTransform

from gui.textcache import TextCache


@pytest.fixture
def drawn(drawn_texts) -> list[str]:
    return drawn_texts


def chart(*, cached: bool) -> Figure:
    figure = Figure(figsize=(4, 3), dpi=100)
    FigureCanvasAgg(figure)
    if cached:
        TextCache().install(figure.canvas.get_renderer())
    ax = figure.add_subplot()
    ax.set_title("A title")
    ax.set_xlabel("Week")
    ax.plot([0, 1], [0, 1])
    ax.text(0.5, 0.5, "over the data", transform=ax.transAxes)
    return figure


def pixels(figure: Figure) -> np.ndarray:
    figure.canvas.draw()
    return np.asarray(figure.canvas.buffer_rgba()).copy()


def test_an_unchanged_text_is_laid_back_with_the_same_pixels(drawn) -> None:
    figure = chart(cached=True)
    first = pixels(figure)
    assert {"A title", "Week", "over the data"} <= set(drawn)
    drawn.clear()
    np.testing.assert_array_equal(pixels(figure), first)
    assert drawn == []


def test_a_text_over_new_pixels_or_moved_is_drawn_again(drawn) -> None:
    figure, fresh = chart(cached=True), chart(cached=False)
    pixels(figure)
    for fig in (figure, fresh):
        ax = fig.axes[0]
        ax.add_patch(
            Rectangle((0.4, 0.4), 0.5, 0.3, transform=ax.transAxes, color="gold")
        )
    drawn.clear()
    np.testing.assert_array_equal(pixels(figure), pixels(fresh))
    assert drawn.count("over the data") == 2  # (once in each figure)
    assert drawn.count("A title") == 1  # (in the fresh figure only)
    for fig in (figure, fresh):
        fig.axes[0].texts[0].set_position((0.1, 0.2))
    drawn.clear()
    np.testing.assert_array_equal(pixels(figure), pixels(fresh))
    assert drawn.count("over the data") == 2


def test_texts_of_several_lines_are_drawn_each_time(drawn) -> None:
    figure = chart(cached=True)
    figure.axes[0].set_title("two\nlines")
    first = pixels(figure)
    drawn.clear()
    np.testing.assert_array_equal(pixels(figure), first)
    assert drawn == ["two", "lines"]


def test_a_turned_text_moved_by_a_fraction_of_a_pixel_is_drawn_anew(drawn) -> None:
    """A turned text's glyphs are placed along the turn: moved by less than the
    64th of a pixel glyphs are placed to, it may still look different."""
    figure, fresh = chart(cached=True), chart(cached=False)
    for fig in (figure, fresh):
        fig.text(
            100.0,
            100.0,
            "Shared lead definition",
            rotation=30,
            transform=IdentityTransform(),
        )
    pixels(figure)
    for shift in (0.1, 0.2, 0.3, 0.4):
        for fig in (figure, fresh):
            fig.texts[0].set_x(100.0 + shift / 64)  # (in display pixels)
        np.testing.assert_array_equal(pixels(figure), pixels(fresh))


def test_slanted_texts_are_drawn_each_time(drawn) -> None:
    """An italic glyph may reach beyond its text's extent, and with it beyond
    the pixels a cache would keep."""
    figure = chart(cached=True)
    figure.axes[0].texts[0].set_fontstyle("italic")
    first = pixels(figure)
    drawn.clear()
    np.testing.assert_array_equal(pixels(figure), first)
    assert drawn == ["over the data"]
