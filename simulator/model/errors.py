"""Errors the simulator raises on purpose, each with a message meant for a person."""

from __future__ import annotations

from pathlib import Path
from typing import Any


class ScenarioError(ValueError):
    """A scenario or lever file (or an override) that cannot be used.

    The message names the file, the dotted parameter, the value given and what is
    allowed, so that it can be shown to a user as is.
    """

    def __init__(
        self,
        problem: str,
        *,
        file: str | Path | None = None,
        parameter: str | None = None,
        value: Any = None,
        has_value: bool = False,
    ) -> None:
        self.file = str(file) if file is not None else None
        self.parameter = parameter
        self.value = value
        self.problem = problem
        #: The line of the file that sets the parameter, when known.
        self.line: int | None = None
        parts = []
        if self.file:
            parts.append(self.file)
        if parameter:
            shown = _clip(parameter, 120)
            parts.append(f"{shown} = {_show(value)}" if has_value else shown)
        # A problem quoting a stranger's text stays one readable line.
        parts.append(_clip(problem, 400))
        super().__init__(": ".join(parts))

    def name_line(self, line: int) -> None:
        """Say which line of the file sets the parameter."""
        self.line = line
        message = str(self.args[0]) if self.args else ""
        if self.file and message.startswith(self.file + ": "):
            rest = message[len(self.file) + 2 :]
            self.args = (f"{self.file}, line {line}: {rest}",)


class SimulationCancelled(RuntimeError):
    """The caller's ``should_stop()`` asked the engine to stop between chunks."""


def _show(value: Any) -> str:
    try:
        text = repr(value)
    except ValueError:  # an int too long to print
        text = "(a number too long to show)"
    return _clip(text, 60)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
