"""``python -m simulator.cli``: the ``funnelsim`` command."""

from simulator.cli import entry

entry()
