"""How a person types the ``funnelsim`` command here, for messages that suggest
one: a suggestion must work as typed, and ``funnelsim`` alone is found only in
an activated environment or when it is on the PATH."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path


def funnelsim_command() -> str:
    """``funnelsim`` when the PATH finds this installation's script, else the
    script's path (relative to the working folder when inside it, such as
    ``.venv/bin/funnelsim``), else the module run by this Python."""
    script = Path(sys.executable).parent / "funnelsim"
    if not script.is_file():
        return f"{shlex.quote(sys.executable)} -m simulator.cli"
    found = shutil.which("funnelsim")
    if found is not None and os.path.samefile(found, script):
        return "funnelsim"
    try:
        shown = script.relative_to(Path.cwd())
    except ValueError:
        shown = script
    return shlex.quote(str(shown))
