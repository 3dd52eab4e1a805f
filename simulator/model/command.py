"""How a person types the ``funnelsim`` command here, for messages that suggest
one: a suggestion must work as typed, and ``funnelsim`` alone is found only in
an activated environment or when it is on the PATH."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path


def funnelsim_command(*, relative: bool = True) -> str:
    """``funnelsim`` when the PATH finds this installation's script, else the
    script's path (with ``relative``, relative to the working folder when
    inside it, such as ``.venv/bin/funnelsim``: for a message read in the
    terminal that ran the command), else the module run by this Python.
    ``FUNNELSIM_COMMAND`` in the environment overrides it (pictures for the
    documentation show ``funnelsim``, not the folder they were taken in)."""
    if os.environ.get("FUNNELSIM_COMMAND"):
        return os.environ["FUNNELSIM_COMMAND"]
    script = Path(sys.executable).parent / "funnelsim"
    if not script.is_file():
        return f"{shlex.quote(sys.executable)} -m simulator.cli"
    found = shutil.which("funnelsim")
    if found is not None and os.path.samefile(found, script):
        return "funnelsim"
    shown = script
    if relative and script.is_relative_to(Path.cwd()):
        shown = script.relative_to(Path.cwd())
    return shlex.quote(str(shown))
