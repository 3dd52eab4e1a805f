"""Text from a scenario file, made harmless where it is shown or exported.

A scenario's name, its sources' and stages' names and its description are the
author's text, and a shared file's author is a stranger. Each place that shows
such text uses one of these:

- :func:`for_terminal`: control characters (escape sequences that clear the
  screen, set the window title or fake a line; NUL; a carriage return that
  overwrites what was printed) are shown escaped, as ``\\x1b``;
- :func:`csv_cell`: a cell a spreadsheet would run as a formula (starting with
  ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) gets a leading ``'``,
  the OWASP rule; a plain number, negative ones included, stays a number;
- :func:`for_rich_text`: HTML is escaped where Qt would render a label as rich
  text.

(Charts need nothing: :mod:`simulator.report.charts` turns matplotlib's
mathtext off, so a ``$`` in a name or an amount is drawn as it is.)
"""

from __future__ import annotations

import html
import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_CONTROL_BUT_NEWLINE = re.compile(
    r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def for_terminal(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with control characters (and the bidirectional overrides that
    reorder what a terminal shows) escaped; newlines kept when asked, for a
    table of several lines."""
    pattern = _CONTROL_BUT_NEWLINE if keep_newlines else _CONTROL
    return pattern.sub(_escape, text)


def csv_cell(value: object) -> object:
    """A CSV cell a spreadsheet will not run: text starting like a formula gets
    a leading ``'``; numbers (and text that is a plain number) are kept."""
    if not isinstance(value, str) or _NUMBER.fullmatch(value):
        return value
    if value.startswith(_FORMULA_START):
        return "'" + value
    return value


def from_csv_cell(text: str) -> str:
    """Undo :func:`csv_cell` (for reading an export back)."""
    if text.startswith("'") and text[1:].startswith(_FORMULA_START):
        return text[1:]
    return text


def one_line(text: str) -> str:
    """``text`` on one line (for a header or comment line of an export)."""
    return for_terminal(text)


def for_rich_text(text: str) -> str:
    """``text`` shown literally inside a Qt rich-text (HTML) label."""
    return html.escape(text, quote=True)
