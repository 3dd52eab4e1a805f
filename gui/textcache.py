"""Texts laid back as drawn, when drawn again at the same place over the same
pixels.

Drawing text is most of the cost of drawing a chart here: matplotlib shapes and
renders every glyph of every text in every draw, about 0.25 ms a character on
the development machine, and a chart has some twenty texts (tick labels, axis
labels, legend entries, titles). From one draw of a chart to the next most of
them read as before, at the same place: a preview and its full run differ in
the run count of a title and in some tick labels.

:class:`TextCache` stands in for a renderer's ``draw_text`` (the backend method
every text is drawn through). For a single-line text it copies the pixels
under the text's extent first; if the same text (same string, place, font,
colour, angle and clip) was drawn before over the same pixels, the pixels it
left then are laid back instead of drawing it again. Otherwise it draws it and
keeps the pixels before and after. The result is the same pixels either way:
glyphs are rendered at the same sub-pixel places onto the same background
(tested). Texts whose glyphs may reach beyond their extent (italic, oblique)
and mathtext are always drawn.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, NamedTuple

import matplotlib as mpl
import numpy as np
from matplotlib.transforms import Bbox

#: Pixels around a text's extent kept with it (glyphs' antialiased edges).
PADDING = 3


class TextCache:
    """Texts of one canvas as drawn (at most ``size``, the least recent go)."""

    def __init__(self, size: int = 128) -> None:
        self.size = size
        # key: (where, the pixels under it, the pixels as drawn)
        self._kept: dict[object, tuple[tuple[int, ...], Any, Any]] = {}

    def clear(self) -> None:
        self._kept.clear()

    def install(self, renderer: Any) -> None:
        """Have ``renderer`` draw its texts through this cache."""
        renderer.draw_text = partial(self._draw, renderer, renderer.draw_text)

    def _draw(
        self, renderer: Any, draw_text: Callable[..., None], *args: Any, **kw: Any
    ) -> None:
        """``renderer.draw_text(*args, **kw)`` (its own is ``draw_text``),
        through the cache."""
        text = TextCall(*args, **kw)
        key = _key(renderer, text)
        region = None if key is None else _region(renderer, text.mtext)
        if key is None or region is None:
            draw_text(*text)
            return
        copied = renderer.copy_from_bbox(region)
        under = np.asarray(copied)  # (of a copy)
        place = copied.get_extents()  # (the pixels copied, and laid back)
        kept = self._kept.pop(key, None)
        if kept is not None and kept[0] == place and np.array_equal(kept[1], under):
            renderer.restore_region(kept[2])
        else:
            draw_text(*text)
            kept = (place, under, renderer.copy_from_bbox(region))
        self._kept[key] = kept  # now the most recent
        while len(self._kept) > self.size:
            del self._kept[next(iter(self._kept))]


class TextCall(NamedTuple):
    """The arguments of a renderer's ``draw_text``."""

    gc: Any
    x: float
    y: float
    s: str
    prop: Any
    angle: float
    ismath: Any = False
    mtext: Any = None


def _key(renderer: Any, text: TextCall) -> object:
    """What decides a text's pixels, or None for one not kept: mathtext, a text
    of several lines (drawn line by line, without its artist), one clipped to a
    path or drawn with path effects, and slanted (italic, oblique) text, whose
    glyphs may reach beyond its extent."""
    gc, x, y, s, prop, angle, ismath, mtext = text
    if ismath or mtext is None or mtext.get_path_effects():
        return None
    if prop.get_style() != "normal":
        return None
    clip_path, _transform = gc.get_clip_path()
    if clip_path is not None:
        return None
    clip = gc.get_clip_rectangle()
    features = mtext.get_fontfeatures()
    # Glyphs are placed to a 64th of a pixel, at the text's place plus whole
    # 64ths when it is upright: a place computed anew, which may differ from the
    # last in its last bits, is the same place then. A turned text's glyphs are
    # placed along the turn, so its exact place is kept.
    place = (round(x * 64), round(y * 64)) if angle == 0 else (x, y)
    return (
        s,
        place,
        angle,
        prop,
        tuple(gc.get_rgb()),
        gc.get_alpha(),
        gc.get_forced_alpha(),
        gc.get_antialiased(),
        None if clip is None else tuple(clip.bounds),
        None if features is None else tuple(features),
        mtext.get_language(),
        renderer.dpi,
        mpl.rcParams["text.hinting"],
        mpl.rcParams["text.hinting_factor"],
    )


def _region(renderer: Any, mtext: Any) -> Bbox | None:
    """The text's extent with its antialiased edge, within the canvas."""
    extent = mtext.get_window_extent(renderer).padded(PADDING)
    canvas = Bbox.from_bounds(0, 0, renderer.width, renderer.height)
    inside = Bbox.intersection(extent, canvas)
    if inside is None or inside.width < 1 or inside.height < 1:
        return None
    return inside
