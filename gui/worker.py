"""Running comparisons off the GUI thread: one run at a time, preview then full.

:class:`RunWorker` is a ``QRunnable`` whose signals live on a separate
:class:`WorkerSignals` ``QObject`` (created on the GUI thread, so its signals are
delivered there). :class:`RunController` debounces requests, cancels the run in
flight when a new one is asked for and drops anything a superseded run still
reports, so widgets only ever see the newest result.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import replace

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal

from simulator.engine.chunk import is_prepared, prepare
from simulator.engine.params import compile_params
from simulator.model.errors import ScenarioError, SimulationCancelled
from simulator.model.schema import Scenario
from simulator.run.memo import RunMemo
from simulator.run.runner import RunSettings, compare

#: Runs of the quick preview shown before the full run (the first four seed
#: blocks: the preview's runs are the first runs of the full run, so the picture
#: only sharpens).
PREVIEW_RUNS = 1000
#: How long after an edit further edits count as the same burst: the burst's
#: first edit runs at once, its last runs when the burst ends, and those in
#: between (a spin box held down) never start runs nobody would see.
DEBOUNCE_MS = 150
#: Longest time the full run waits for the GUI to draw the preview. Drawing while
#: the full run computes is slower (its threads take both cores, and Python's
#: lock between compiled segments), so the preview is drawn first; the wait ends
#: early on a cancel.
PREVIEW_HOLD_S = 2.0


class WorkerSignals(QObject):
    """Signals of one worker; every signal carries the job id."""

    started = Signal(int, str)  # job, phase description
    progress = Signal(int, float)  # job, fraction of this phase
    returned = Signal(int, object, bool)  # job, Comparison, is the full run
    errored = Signal(int, str)  # job, message for a person
    cancelled = Signal(int)
    finished = Signal(int)


class RunWorker(QRunnable):
    """Run a comparison: a preview of :data:`PREVIEW_RUNS` runs, then all runs."""

    def __init__(
        self,
        job: int,
        scenarios: Sequence[Scenario],
        settings: RunSettings,
        *,
        preview_runs: int = PREVIEW_RUNS,
        memo: RunMemo | None = None,
    ) -> None:
        super().__init__()
        self.setAutoDelete(False)
        self.memo = memo
        self.job = job
        self.scenarios = list(scenarios)
        self.settings = settings
        self.preview_runs = preview_runs
        self.signals = WorkerSignals()
        self._stop = threading.Event()
        self._resume = threading.Event()

    def cancel(self) -> None:
        self._stop.set()
        self._resume.set()

    def resume(self) -> None:
        """The GUI has shown the preview: go on with the full run."""
        self._resume.set()

    @property
    def is_cancelled(self) -> bool:
        return self._stop.is_set()

    def phases(self) -> list[tuple[RunSettings, bool, str]]:
        full = self.settings
        out = []
        if 0 < self.preview_runs < full.runs:
            out.append(
                (
                    replace(full, runs=self.preview_runs),
                    False,
                    f"Preview: {self.preview_runs:,} runs",
                )
            )
        out.append((full, True, f"Full run: {full.runs:,} runs"))
        return out

    def run(self) -> None:
        job, signals = self.job, self.signals
        try:
            baseline, *alternatives = self.scenarios
            if not is_prepared():
                signals.started.emit(
                    job, "Preparing the simulation engine (once after an install)"
                )
                prepare(compile_params(baseline, 1))
            for settings, final, label in self.phases():
                signals.started.emit(job, label)
                result = compare(
                    baseline,
                    alternatives,
                    settings=settings,
                    progress=lambda f: signals.progress.emit(job, float(f)),
                    should_stop=self._stop.is_set,
                    memo=self.memo,
                    remember_alternatives=self.preview_runs,
                )
                if self._stop.is_set():
                    raise SimulationCancelled("cancelled")
                signals.returned.emit(job, result, final)
                if not final:
                    self._resume.wait(PREVIEW_HOLD_S)
                    self._resume.clear()
                    if self._stop.is_set():
                        raise SimulationCancelled("cancelled")
        except SimulationCancelled:
            signals.cancelled.emit(job)
        except ScenarioError as exc:
            signals.errored.emit(job, str(exc))
        except MemoryError:
            signals.errored.emit(
                job,
                "Not enough memory for this many runs and weeks; "
                "lower the runs or the horizon.",
            )
        except Exception as exc:  # a worker must never take the app down
            signals.errored.emit(
                job,
                f"The simulation failed ({type(exc).__name__}: "
                f"{exc}). The last good result is still shown.",
            )
        finally:
            signals.finished.emit(job)


class RunController(QObject):
    """One run at a time: debounced requests, cancel, stale results dropped."""

    resultReady = Signal(object, bool)  # Comparison, is the full run
    phaseStarted = Signal(str)
    progressChanged = Signal(float)
    failed = Signal(str)
    cancelled = Signal()
    busyChanged = Signal(bool)

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        debounce_ms: int = DEBOUNCE_MS,
        preview_runs: int = PREVIEW_RUNS,
    ) -> None:
        super().__init__(parent)
        self.preview_runs = preview_runs
        #: The warm-ups and runs of the app's comparisons, kept across edits:
        #: an edit of the alternative then simulates the alternative alone.
        self.memo = RunMemo()
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(2)  # the new run may start while the old unwinds
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(debounce_ms)
        self._timer.timeout.connect(self._start_pending)
        self._pending: tuple[list[Scenario], RunSettings] | None = None
        self._job = 0
        self._current: RunWorker | None = None
        self._workers: dict[int, RunWorker] = {}
        self.last_started: float = 0.0

    @property
    def busy(self) -> bool:
        return self._current is not None

    @property
    def job(self) -> int:
        return self._job

    def request(
        self,
        scenarios: Sequence[Scenario],
        settings: RunSettings,
        *,
        immediate: bool = False,
    ) -> bool:
        """Ask for a run; the run in flight is cancelled at once. The first
        request of a burst (or an ``immediate`` one) starts at once, so a single
        edit shows its preview without waiting; later requests within the
        debounce delay of the last one wait for the burst to end, and only the
        last of them runs. Returns whether this request started at once."""
        self._pending = (list(scenarios), settings)
        if self._current is not None:
            self._current.cancel()
        started = immediate or not self._timer.isActive()
        if started:
            self._start_pending()
        # Opens (or extends) the burst; at its end the latest pending request,
        # if any came meanwhile, starts.
        self._timer.start()
        return started

    def cancel(self) -> None:
        """Cancel the pending and the running run."""
        self._timer.stop()
        self._pending = None
        if self._current is not None:
            self._current.cancel()

    def shutdown(self, timeout_ms: int = 5000) -> None:
        self.cancel()
        self._pool.waitForDone(timeout_ms)

    def _start_pending(self) -> None:
        if self._pending is None:
            return
        scenarios, settings = self._pending
        self._pending = None
        if self._current is not None:
            self._current.cancel()
        self._job += 1
        worker = RunWorker(
            self._job,
            scenarios,
            settings,
            preview_runs=self.preview_runs,
            memo=self.memo,
        )
        sig = worker.signals
        sig.started.connect(self._on_started)
        sig.progress.connect(self._on_progress)
        sig.returned.connect(self._on_returned)
        sig.errored.connect(self._on_errored)
        sig.cancelled.connect(self._on_cancelled)
        sig.finished.connect(self._on_finished)
        self._workers[self._job] = worker
        was_busy = self.busy
        self._current = worker
        self.last_started = time.monotonic()
        if not was_busy:
            self.busyChanged.emit(True)
        self._pool.start(worker)

    def _is_current(self, job: int) -> bool:
        return (
            self._current is not None
            and self._current.job == job
            and not (self._current.is_cancelled)
        )

    def _on_started(self, job: int, label: str) -> None:
        if self._is_current(job):
            self.phaseStarted.emit(label)
            self.progressChanged.emit(0.0)

    def _on_progress(self, job: int, fraction: float) -> None:
        if self._is_current(job):
            self.progressChanged.emit(fraction)

    def _on_returned(self, job: int, comparison: object, final: bool) -> None:
        if self._is_current(job):
            self.resultReady.emit(comparison, final)
        worker = self._workers.get(job)
        if not final and worker is not None:
            # After the views' own queued redraws (draw_idle) have run.
            QTimer.singleShot(0, worker.resume)

    def _on_errored(self, job: int, message: str) -> None:
        if self._reports(job):
            self.failed.emit(message)

    def _on_cancelled(self, job: int) -> None:
        if self._reports(job):
            self.cancelled.emit()

    def _reports(self, job: int) -> bool:
        """Whether the end of ``job`` is news: it is the current run and no newer
        request waits for the burst to end (a run superseded within a burst of
        edits neither failed nor was cancelled as far as the user is
        concerned)."""
        current = self._current is not None and self._current.job == job
        return current and self._pending is None

    def _on_finished(self, job: int) -> None:
        self._workers.pop(job, None)
        if self._current is not None and self._current.job == job:
            self._current = None
            if self._pending is None or not self._timer.isActive():
                self.busyChanged.emit(False)
