"""Render a screenshot of every view of the FunnelSim app into docs/screenshots/.

Usage: python docs/render_screenshots.py [--runs 2000] [--out DIR]
Runs offscreen (no display needed); see gui/screenshots.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gui.screenshots import main

if __name__ == "__main__":
    sys.exit(main())
