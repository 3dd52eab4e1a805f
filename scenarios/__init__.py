"""FunnelSim's bundled scenario library: TOML scenario files and, in ``levers/``,
the alignment lever files. Data only; read through :mod:`simulator.library`."""
