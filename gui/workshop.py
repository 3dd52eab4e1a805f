"""Workshop mode: full screen, large type, one lever at a time.

The trainer starts from the baseline and reveals the alternative's levers one by
one (Right or Space: next, Left: back, Esc: leave). Each reveal shows the baseline
and "baseline + the levers so far" on an ARR fan chart whose lines glide from the
previous result to the new one. With "predict first", the room enters its guess of
the headline before each reveal, and a closing slide sets the guesses beside the
results.

Every step is simulated once, in the background, when the workshop opens: one
comparison of the baseline with each cumulative scenario, with common random
numbers, so a step's difference comes from its lever alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt, QVariantAnimation, Signal
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from gui.results import ChartCanvas
from gui.story import TaskRunner
from simulator.model.safe_text import for_rich_text
from simulator.report import charts
from simulator.report.caveats import headline_caveat

BIG = {"title": 24, "label": 20, "tick": 18, "legend": 18}
ANIMATION_MS = 500
BANDS = ("p5", "p25", "p50", "p75", "p95")
#: Slightly lighter bands than the app's, for a projector.
WORKSHOP_BAND_ALPHAS = (0.10, 0.25)


@dataclass(frozen=True)
class Step:
    """One state of the story: the baseline plus the first ``index`` levers."""

    index: int
    lever_id: str
    name: str  # the lever just added ("" for the baseline)
    description: str
    arr: dict[str, np.ndarray]  # weekly ARR percentiles
    figure: str  # arr_growth_y1, or arr_end for horizons under a year
    value: float  # median of ``figure``


@dataclass(frozen=True)
class Slide:
    kind: str  # "title", "predict", "reveal" or "closing"
    step: int = 0  # the step revealed (or about to be)


def workshop_steps(
    baseline: Any, alternative: Any
) -> list[tuple[str, str, str, list[tuple[str, Any]]]]:
    """The levers to reveal as ``(id, name, description, cumulative overrides)``,
    from :func:`simulator.analysis.bridge.bridge_players`."""
    from simulator.analysis.bridge import bridge_players, is_null_player

    out = []
    overrides: list[tuple[str, Any]] = []
    for player in bridge_players(baseline, alternative):
        if is_null_player(player, "arr_end"):  # costs only: nothing to reveal
            continue
        overrides = [*overrides, *player.overrides]
        out.append((player.id, player.name, player.description, overrides))
    return out


def compute_steps(
    baseline: Any,
    alternative: Any,
    settings: Any,
    progress: Callable[[float], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> list[Step]:
    """Simulate the baseline and every cumulative scenario in one comparison."""
    from simulator.analysis.bridge import with_overrides
    from simulator.run.runner import compare

    plan = workshop_steps(baseline, alternative)
    scenarios = [
        with_overrides(baseline, overrides, name=f"+ {name}", origin="workshop")
        for _id, name, _d, overrides in plan
    ]
    comparison = compare(
        baseline,
        scenarios,
        settings=settings,
        progress=progress,
        should_stop=should_stop,
    )
    figure = (
        "arr_growth_y1" if "arr_growth_y1" in comparison.baseline.figures else "arr_end"
    )
    steps = []
    labels = [("", "", "")] + [(p[0], p[1], p[2]) for p in plan]
    for index, (result, (lever_id, name, description)) in enumerate(
        zip(comparison.results, labels, strict=True)
    ):
        stats = result.series("arr")
        steps.append(
            Step(
                index=index,
                lever_id=lever_id,
                name=name,
                description=description,
                arr={k: np.asarray(stats[k]) for k in BANDS},
                figure=figure,
                value=float(result.summary[figure]["p50"]),
            )
        )
    return steps


def fmt_headline(figure: str, value: float) -> str:
    if figure == "arr_growth_y1":
        return charts.fmt_share(value, signed=True)
    return charts.fmt_money(value)


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


class _Keys(QObject):
    """Lets the guess box keep digits while the arrows still turn the slides."""

    def __init__(self, window: WorkshopWindow) -> None:
        super().__init__(window)
        self.window = window

    def eventFilter(self, obj: Any, event: Any) -> bool:
        if event.type() == QEvent.Type.KeyPress and event.key() in NAV_KEYS:
            self.window.keyPressEvent(event)
            return True
        return False


NAV_KEYS = {
    Qt.Key.Key_Right,
    Qt.Key.Key_Left,
    Qt.Key.Key_Space,
    Qt.Key.Key_Escape,
    Qt.Key.Key_Return,
    Qt.Key.Key_Enter,
    Qt.Key.Key_PageDown,
    Qt.Key.Key_PageUp,
}


class WorkshopWindow(QWidget):
    """The workshop: a sequence of slides over the precomputed steps."""

    ready = Signal()
    slideChanged = Signal(object)
    failed = Signal(str)

    def __init__(
        self,
        baseline: Any,
        alternative: Any,
        settings: Any,
        *,
        predict: bool = True,
        animation_ms: int = ANIMATION_MS,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(
            f"FunnelSim workshop — {baseline.name} to {alternative.name}"
        )
        self.setStyleSheet("background: white; color: #222222;")
        self.baseline_scenario = baseline
        self.alternative_scenario = alternative
        self.settings = settings
        self.predict = predict
        self.animation_ms = animation_ms
        self.steps: list[Step] = []
        self.guesses: dict[int, float] = {}
        self.slides: list[Slide] = [Slide("title")]
        self.position = 0
        self._shown_step = 0  # the step the chart shows now (for the animation)
        self._build()
        self.runner = TaskRunner(self)
        self.runner.progressChanged.connect(
            lambda f: self.progress.setValue(round(f * 1000))
        )
        self.runner.resultReady.connect(self._on_steps)
        self.runner.failed.connect(self._on_failed)
        self.runner.start(
            lambda progress, stop: compute_steps(
                baseline, alternative, settings, progress, stop
            )
        )
        self._show()

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(48, 28, 48, 20)
        self.kicker = QLabel()
        self.kicker.setStyleSheet("font-size: 20pt; color: #0072B2; font-weight: bold;")
        self.heading = QLabel()
        # Scenario and lever names are their authors' text, shown as written.
        self.heading.setTextFormat(Qt.TextFormat.PlainText)
        self.heading.setWordWrap(True)
        self.heading.setStyleSheet("font-size: 34pt; font-weight: bold;")
        self.body = QLabel()
        self.body.setWordWrap(True)
        self.body.setTextFormat(Qt.TextFormat.RichText)
        self.body.setStyleSheet("font-size: 22pt;")
        outer.addWidget(self.kicker)
        outer.addWidget(self.heading)
        outer.addWidget(self.body)
        guess_row = QHBoxLayout()
        self.guess_label = QLabel("Our guess:")
        self.guess_label.setStyleSheet("font-size: 26pt;")
        self.guess = QDoubleSpinBox()
        self.guess.setObjectName("workshop_guess")
        self.guess.setRange(-100.0, 500.0)
        self.guess.setDecimals(1)
        self.guess.setSingleStep(1.0)
        self.guess.setSuffix(" %")
        self.guess.setMinimumWidth(260)
        self.guess.setStyleSheet("font-size: 34pt; padding: 6px;")
        self.guess.installEventFilter(_Keys(self))
        guess_row.addWidget(self.guess_label)
        guess_row.addWidget(self.guess)
        guess_row.addStretch(1)
        outer.addLayout(guess_row)
        self.canvas = ChartCanvas(height=6)
        outer.addWidget(self.canvas, 1)
        # The headline's caveat stays in view on every slide.
        self.caveat = QLabel(
            headline_caveat(self.baseline_scenario, self.alternative_scenario) or ""
        )
        self.caveat.setObjectName("workshop_caveat")
        self.caveat.setWordWrap(True)
        self.caveat.setStyleSheet("font-size: 14pt; color: #8a3b00;")
        self.caveat.setVisible(bool(self.caveat.text()))
        outer.addWidget(self.caveat)
        foot = QHBoxLayout()
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setMaximumWidth(400)
        foot.addWidget(self.progress)
        self.footer = QLabel()
        self.footer.setStyleSheet("font-size: 14pt; color: #666666;")
        foot.addWidget(self.footer, 1)
        outer.addLayout(foot)
        self.animation = QVariantAnimation(self)
        self.animation.setStartValue(0.0)
        self.animation.setEndValue(1.0)
        self.animation.valueChanged.connect(self._on_frame)
        self._lines: dict[str, Any] = {}

    # ------------------------------------------------------------------ model

    @property
    def slide(self) -> Slide:
        return self.slides[self.position]

    @property
    def is_ready(self) -> bool:
        return bool(self.steps)

    def _on_steps(self, steps: list[Step]) -> None:
        self.steps = steps
        slides = [Slide("title")]
        for k in range(1, len(steps)):
            if self.predict:
                slides.append(Slide("predict", k))
            slides.append(Slide("reveal", k))
        if self.predict:
            slides.append(Slide("closing", len(steps) - 1))
        self.slides = slides
        self.progress.hide()
        self._show()
        self.ready.emit()

    def _on_failed(self, message: str) -> None:
        self.footer.setText(f"The simulation failed: {message}")
        self.failed.emit(message)

    def next(self) -> None:
        if not self.is_ready:
            self.footer.setText("Still simulating the steps… one moment.")
            return
        self._take_guess()
        if self.position < len(self.slides) - 1:
            self.position += 1
            self._show(animate=self.slide.kind == "reveal")

    def back(self) -> None:
        self._take_guess()
        if self.position > 0:
            self.position -= 1
            self._show()

    def _take_guess(self) -> None:
        if self.slide.kind == "predict":
            self.guesses[self.slide.step] = self.guess.value() / (
                100.0 if self._figure() == "arr_growth_y1" else 1.0
            )

    def _figure(self) -> str:
        return self.steps[0].figure if self.steps else "arr_growth_y1"

    def keyPressEvent(self, event: Any) -> None:
        key = event.key()
        if key in (
            Qt.Key.Key_Right,
            Qt.Key.Key_Space,
            Qt.Key.Key_PageDown,
            Qt.Key.Key_Return,
            Qt.Key.Key_Enter,
        ):
            self.next()
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_PageUp):
            self.back()
        elif key == Qt.Key.Key_Escape:
            self.close()
        else:
            super().keyPressEvent(event)

    def closeEvent(self, event: Any) -> None:
        self.animation.stop()
        self.runner.shutdown()
        super().closeEvent(event)

    # ------------------------------------------------------------------ slides

    def _show(self, *, animate: bool = False) -> None:
        slide = self.slide
        n = max(len(self.steps) - 1, 0)
        self.guess_label.setVisible(slide.kind == "predict")
        self.guess.setVisible(slide.kind == "predict")
        self.footer.setText(
            f"Slide {self.position + 1} of {len(self.slides)} · → or Space: next · "
            "←: back · Esc: leave"
            + (f" · {self.settings.runs:,} runs per step" if self.steps else "")
        )
        base = self.baseline_scenario.name
        if slide.kind == "title":
            self.kicker.setText("Workshop")
            self.heading.setText(f"From {base} to {self.alternative_scenario.name}")
            self.body.setText(
                "We add the levers one at a time"
                + (" — guess first, then reveal." if self.predict else ".")
                + (
                    ""
                    if self.steps
                    else "<br><span style='color:#666'>Simulating every step…</span>"
                )
            )
            self._draw_chart(0, 0)
        elif slide.kind == "predict":
            step = self.steps[slide.step]
            prev = self.steps[slide.step - 1]
            self.kicker.setText(f"Lever {slide.step} of {n} — predict first")
            self.heading.setText(step.name)
            self.body.setText(
                f"{for_rich_text(step.description)}<br><br>So far: "
                f"<b>{fmt_headline(prev.figure, prev.value)}</b> "
                f"{self._headline_name()}. What will it be with this lever?"
            )
            guess = self.guesses.get(slide.step, prev.value)
            scale = 100.0 if prev.figure == "arr_growth_y1" else 1.0
            self.guess.setSuffix(" %" if scale == 100.0 else "")
            self.guess.setRange(
                -100.0, 500.0
            ) if scale == 100.0 else self.guess.setRange(0, 1e12)
            self.guess.setValue(guess * scale)
            self.guess.setFocus()
            self.guess.selectAll()
            self._draw_chart(slide.step - 1, slide.step - 1)
        elif slide.kind == "reveal":
            step = self.steps[slide.step]
            prev = self.steps[slide.step - 1]
            first = self.steps[0]
            self.kicker.setText(f"Lever {slide.step} of {n}")
            self.heading.setText(step.name)
            change = step.value - prev.value
            delta = (
                f"{change * 100:+.1f} points"
                if step.figure == "arr_growth_y1"
                else charts.fmt_money(change, signed=True)
            )
            guess = self.guesses.get(slide.step)
            guess_text = (
                f" · your guess: {fmt_headline(step.figure, guess)}"
                if guess is not None
                else ""
            )
            self.body.setText(
                f"{_upper_first(self._headline_name())}: "
                f"{fmt_headline(first.figure, first.value)} → "
                f"<b style='color:#0072B2'>{fmt_headline(step.figure, step.value)}"
                "</b> "
                f"(this lever: <b>{delta}</b>){guess_text}"
            )
            self._draw_chart(
                self._shown_step if animate else slide.step, slide.step, animate=animate
            )
        else:
            self.kicker.setText("Closing")
            self.heading.setText("Our guesses and the model")
            self.body.setText(self._closing_text())
            self._draw_closing()

    def _headline_name(self) -> str:
        return (
            "median ARR growth over year 1"
            if self._figure() == "arr_growth_y1"
            else "median ARR at the end"
        )

    def _closing_text(self) -> str:
        hits = 0
        for k, guess in self.guesses.items():
            step = self.steps[k]
            tolerance = (
                0.02 if step.figure == "arr_growth_y1" else abs(step.value) * 0.02
            )
            hits += abs(guess - step.value) <= tolerance
        return (
            f"{len(self.guesses)} guesses, {hits} within "
            + ("2 points" if self._figure() == "arr_growth_y1" else "2 %")
            + " of the model. Where were we furthest off, and why?"
        )

    # ------------------------------------------------------------------ charts

    def _style(self, ax: Any, title: str) -> None:
        charts.style_axes(ax, xlabel="Week")
        ax.set_title(title, loc="left", fontsize=BIG["title"], pad=12)
        ax.xaxis.label.set_fontsize(BIG["label"])
        ax.tick_params(labelsize=BIG["tick"])

    def _draw_chart(self, start: int, end: int, *, animate: bool = False) -> None:
        fig = self.canvas.figure
        fig.clear()
        ax = fig.add_subplot()
        self._ax = ax
        if not self.steps:
            ax.axis("off")
            self.canvas.draw_idle()
            return
        base = self.steps[0].arr
        x = np.arange(len(base["p50"]))
        color0, color1 = charts.scenario_color(0), charts.scenario_color(1)
        charts.fill_bands(ax, x, base, color0, WORKSHOP_BAND_ALPHAS)
        ax.plot(
            x,
            base["p50"],
            color=color0,
            linewidth=3.5,
            label=self.baseline_scenario.name,
        )
        self._bands: list[Any] = []
        label = f"+ {end} lever{'s' * (end != 1)}" if end else "(no lever yet)"
        (self._line,) = ax.plot(
            x,
            self.steps[start].arr["p50"],
            color=color1,
            linewidth=3.5,
            linestyle="--",
            label=label,
        )
        lo = min(float(np.min(s.arr["p5"])) for s in self.steps)
        hi = max(float(np.max(s.arr["p95"])) for s in self.steps)
        ax.set_ylim(lo - 0.03 * (hi - lo), hi + 0.05 * (hi - lo))
        ax.set_xlim(0, len(x) - 1)
        self._style(ax, "ARR: median of runs, with the middle 50 % and 90 % of runs")
        charts._money_axis(ax.yaxis)
        ax.legend(fontsize=BIG["legend"], frameon=False, loc="upper left")
        self._from, self._to = start, end
        animate = animate and start != end and self.animation_ms > 0
        self._on_frame(0.0 if animate else 1.0)
        if animate:
            self.animation.stop()
            self.animation.setDuration(self.animation_ms)
            self.animation.start()
        self._shown_step = end

    def _on_frame(self, t: Any) -> None:
        if not self.steps or not hasattr(self, "_line"):
            return
        t = float(t)
        a, b = self.steps[self._from].arr, self.steps[self._to].arr
        mix = {k: (1 - t) * a[k] + t * b[k] for k in BANDS}
        x = np.arange(len(mix["p50"]))
        for band in self._bands:
            band.remove()
        color = charts.scenario_color(1)
        if self._to > 0 or self._from > 0:
            self._bands = charts.fill_bands(
                self._ax, x, mix, color, WORKSHOP_BAND_ALPHAS
            )
        else:
            self._bands = []
        self._line.set_ydata(mix["p50"])
        self.canvas.draw_idle()

    def _draw_closing(self) -> None:
        fig = self.canvas.figure
        fig.clear()
        ax = fig.add_subplot()
        self._ax = ax
        steps = self.steps
        figure = self._figure()
        scale = 100.0 if figure == "arr_growth_y1" else 1.0
        ks = np.arange(len(steps))
        ax.plot(
            ks,
            [s.value * scale for s in steps],
            color=charts.scenario_color(1),
            marker="o",
            markersize=12,
            linewidth=3.5,
            label="the model (median)",
        )
        guessed = sorted(self.guesses)
        if guessed:
            ax.plot(
                guessed,
                [self.guesses[k] * scale for k in guessed],
                color="#E69F00",
                marker="D",
                markersize=14,
                linestyle="none",
                label="our guess",
            )
            for k in guessed:
                ax.plot(
                    [k, k],
                    [self.guesses[k] * scale, steps[k].value * scale],
                    color="#E69F00",
                    linewidth=1.5,
                    linestyle=":",
                )
        labels = [self.baseline_scenario.name] + [f"+ {s.name}" for s in steps[1:]]
        ax.set_xticks(ks, [charts._wrap(t, 13) for t in labels])
        self._style(ax, _upper_first(self._headline_name()) + ", lever by lever")
        ax.set_xlabel("")
        ax.tick_params(axis="x", labelsize=14)
        if figure == "arr_growth_y1":
            ax.yaxis.set_major_formatter(
                charts.FuncFormatter(lambda v, _p: f"{v:+.0f}\u00a0%")
            )
        else:
            charts._money_axis(ax.yaxis)
        ax.legend(fontsize=BIG["legend"], frameon=False, loc="upper left")
        self._line = None  # no animation on this slide
        self.canvas.draw_idle()


def open_workshop(
    comparison: Any,
    *,
    runs: int | None = None,
    predict: bool = True,
    full_screen: bool = True,
) -> WorkshopWindow | None:
    """A workshop on a comparison's baseline and first alternative, with the
    comparison's runs unless ``runs`` says otherwise: its first and last
    numbers are then the Overview's."""
    if comparison is None or not comparison.alternatives:
        return None
    settings = replace(
        comparison.baseline.settings, runs=runs or comparison.baseline.settings.runs
    )
    window = WorkshopWindow(
        comparison.baseline.scenario,
        comparison.alternatives[0].scenario,
        settings,
        predict=predict,
    )
    window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    if full_screen:
        window.showFullScreen()
    else:
        window.show()
    return window


__all__ = [
    "Slide",
    "Step",
    "WorkshopWindow",
    "compute_steps",
    "open_workshop",
    "workshop_steps",
]
