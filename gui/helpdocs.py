"""The Help menu's windows: the model guide, rendered in the app, and About.

The guide is docs/model.md. A checkout reads it from there; an installed copy
reads the one the package installs under ``<prefix>/share/funnelsim/`` (see
``[tool.setuptools.data-files]`` in pyproject.toml).
"""

from __future__ import annotations

import sys
import sysconfig
from importlib import metadata
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLineEdit,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

GUIDE_NAME = "model.md"


def heading_slug(text: str) -> str:
    """A heading's anchor as GitHub makes it (the guide's contents link to
    them): ``"7. Caveats: what..." -> "7-caveats-what..."``."""
    kept = "".join(c for c in text.strip().lower() if c.isalnum() or c in " -_")
    return kept.replace(" ", "-")


def guide_candidates() -> list[Path]:
    """Where the model guide may be, the checkout's first."""
    share = Path("share") / "funnelsim" / GUIDE_NAME
    return [
        Path(__file__).resolve().parent.parent / "docs" / GUIDE_NAME,
        Path(sysconfig.get_path("data")) / share,
        Path(sys.prefix) / share,
    ]


def find_guide() -> Path | None:
    return next((path for path in guide_candidates() if path.is_file()), None)


def guide_markdown() -> str:
    path = find_guide()
    if path is None:
        places = ", ".join(str(p) for p in guide_candidates())
        return (
            "# Model guide not found\n\nThe guide (model.md) is installed with "
            f"FunnelSim; it was looked for in: {places}."
        )
    return path.read_text(encoding="utf-8")


def version() -> str:
    try:
        return metadata.version("funnelsim")
    except metadata.PackageNotFoundError:
        return "(not installed)"


def about_text() -> str:
    return (
        f"<h3>FunnelSim {version()}</h3>"
        "<p>A Monte Carlo model of a B2B sales funnel: what aligning sales and "
        "marketing is worth, with its uncertainty.</p>"
        "<p>Every scenario runs on the same random numbers after one warm-up, so "
        "differences are paired run by run. Values come from published surveys "
        "where one exists and are marked as assumptions where none does: hover a "
        "value in the editor for its source.</p>"
        "<p>Help &gt; Model guide explains the model, its parameters and what the "
        "numbers do not show. The same comparisons run from the command line "
        "(<code>funnelsim compare</code>).</p>"
        "<p>MIT licence. Built with Python, NumPy, Numba, Matplotlib, PySide6 "
        "(Qt), pydantic and python-pptx.</p>"
    )


class ModelGuideDialog(QDialog):
    """docs/model.md rendered as rich text, with a search field."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("FunnelSim — model guide")
        layout = QVBoxLayout(self)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Find in the guide (Enter: next)")
        self.search.returnPressed.connect(self.find_next)
        layout.addWidget(self.search)
        self.browser = QTextBrowser()
        self.browser.setObjectName("model_guide")
        self.browser.setOpenLinks(False)  # sections here, the web outside
        self.browser.anchorClicked.connect(self.follow)
        self.browser.setMarkdown(guide_markdown())
        layout.addWidget(self.browser, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout.addWidget(buttons)
        screen = (parent.screen() if parent is not None else None) or self.screen()
        free = screen.availableGeometry()
        self.resize(min(900, free.width() - 40), min(1000, free.height() - 60))

    def follow(self, url: QUrl) -> None:
        """A link of the contents goes to its section; any other opens outside."""
        if url.scheme() in ("", "file") and url.fragment():
            self.go_to_section(url.fragment())
        else:
            QDesktopServices.openUrl(url)

    def go_to_section(self, slug: str) -> bool:
        """Scroll to the heading whose GitHub-style anchor is ``slug``."""
        document = self.browser.document()
        block = document.begin()
        while block.isValid():
            if (
                block.blockFormat().headingLevel()
                and heading_slug(block.text()) == slug
            ):
                top = document.documentLayout().blockBoundingRect(block).top()
                self.browser.verticalScrollBar().setValue(int(top))
                return True
            block = block.next()
        return False

    def find_next(self) -> bool:
        text = self.search.text()
        if not text:
            return False
        if self.browser.find(text):
            return True
        cursor = self.browser.textCursor()  # from the top again
        cursor.movePosition(cursor.MoveOperation.Start)
        self.browser.setTextCursor(cursor)
        return self.browser.find(text)


__all__ = ["ModelGuideDialog", "about_text", "find_guide", "guide_markdown"]
