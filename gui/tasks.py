"""Work off the GUI thread: one background-task helper for the whole app.

A task is a plain function ``task(state) -> result`` run on a pool thread. It
reads ``state.should_stop()`` often, reports with ``state.set_status``,
``state.set_progress`` and ``state.set_partial_result`` (a preview), and
returns its result. :class:`TaskState` is the ``QObject`` that carries those
reports as signals (it is created on the GUI thread, so they are delivered
there); :class:`TaskRunner` runs one task at a time: a new task cancels the one
in flight, and the reports of a superseded task are dropped, so widgets only
ever see the newest task's news. The shape is Orange's ``TaskState`` and
``ConcurrentMixin``.

Runs (a preview, then the full run), value bridges, drivers, workshop steps and
exports are all such tasks. A task's exception becomes one line for the user;
its traceback goes to the log (see :mod:`gui.logs`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal

from gui.logs import log_file
from simulator.engine.chunk import is_prepared, prepare
from simulator.engine.params import compile_params
from simulator.model.errors import ScenarioError, SimulationCancelled
from simulator.model.schema import Scenario
from simulator.run.memo import RunMemo
from simulator.run.runner import RunSettings, compare

log = logging.getLogger(__name__)

#: Runs of the quick preview shown before the full run (the first four seed
#: blocks: the preview's runs are the first runs of the full run, so the picture
#: only sharpens).
PREVIEW_RUNS = 1000
#: How long after an edit further edits count as the same burst: the burst's
#: first edit runs at once, its last runs when the burst ends, and those in
#: between (a spin box held down) never start runs nobody would see.
DEBOUNCE_MS = 150
#: Longest time a task waits for the GUI to show its partial result. Drawing
#: while the full run computes is slower (its threads take both cores, and
#: Python's lock between compiled segments), so the preview is drawn first; the
#: wait ends early on a cancel.
PREVIEW_HOLD_S = 2.0


class TaskState(QObject):
    """What one running task shares with the GUI; every signal carries the job
    number, so that its runner can drop a superseded task's reports."""

    status = Signal(int, str)  # job, what is being computed, for people
    progress = Signal(int, float)  # job, fraction done (of the current status)
    partial = Signal(int, object)  # job, a result on the way (a preview)
    done = Signal(int, object)  # job, the result
    failed = Signal(int, str)  # job, one line for the user
    cancelled = Signal(int)
    finished = Signal(int)

    def __init__(self, job: int) -> None:
        super().__init__()
        self.job = job
        self._stop = threading.Event()
        self._shown = threading.Event()

    # From the task's thread.

    def should_stop(self) -> bool:
        return self._stop.is_set()

    def set_status(self, text: str) -> None:
        self.status.emit(self.job, text)
        self.progress.emit(self.job, 0.0)

    def set_progress(self, fraction: float) -> None:
        self.progress.emit(self.job, float(fraction))

    def set_partial_result(self, result: object, *, wait_s: float = 0.0) -> None:
        """Report ``result`` and wait up to ``wait_s`` seconds until the GUI has
        shown it (or the task is cancelled)."""
        self._shown.clear()
        self.partial.emit(self.job, result)
        if wait_s > 0:
            self._shown.wait(wait_s)
        if self.should_stop():
            raise SimulationCancelled("cancelled")

    # From the GUI thread.

    def cancel(self) -> None:
        self._stop.set()
        self._shown.set()

    def partial_shown(self) -> None:
        self._shown.set()


Task = Callable[[TaskState], Any]


class _Runnable(QRunnable):
    def __init__(self, task: Task, state: TaskState, what: str, note: str) -> None:
        super().__init__()
        self.task = task
        self.state = state
        self.what, self.note = what, note

    def run(self) -> None:
        state, job = self.state, self.state.job
        try:
            result = self.task(state)
            if state.should_stop():
                raise SimulationCancelled("cancelled")
            state.done.emit(job, result)
        except SimulationCancelled:
            state.cancelled.emit(job)
        except ScenarioError as exc:  # the user's input: the message says it all
            state.failed.emit(job, str(exc))
        except MemoryError:
            log.exception("A background task ran out of memory")
            state.failed.emit(
                job,
                "Not enough memory for this many runs and weeks; "
                "lower the runs or the horizon.",
            )
        except Exception as exc:  # a task must never take the app down
            log.exception("A background task failed")
            state.failed.emit(job, failure_line(exc, self.what, self.note))
        finally:
            state.finished.emit(job)


def failure_line(exc: BaseException, what: str, note: str = "") -> str:
    """One line for the user about an unexpected failure of ``what``, pointing
    to the log (which has the traceback) when there is one."""
    cause = f"{type(exc).__name__}: {exc}".strip().splitlines()[0]
    where = log_file()
    return " ".join(
        part
        for part in (
            f"{what} failed ({cause}).",
            note,
            f"Details in {where}." if where is not None else "",
        )
        if part
    )


class TaskRunner(QObject):
    """One background task at a time; widgets only see the newest task's news.

    :meth:`start` cancels the task in flight and starts the new one at once.
    :meth:`request` does the same for the first request of a burst; requests
    that follow within ``debounce_ms`` of the last one wait for the burst to
    end, and only the last of them runs.
    """

    statusChanged = Signal(str)
    progressChanged = Signal(float)
    partialReady = Signal(object)
    resultReady = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    busyChanged = Signal(bool)

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        debounce_ms: int = DEBOUNCE_MS,
        what: str = "The computation",
        failure_note: str = "",
    ) -> None:
        """``what`` names the tasks in a failure's line, ``failure_note`` is
        added to it."""
        super().__init__(parent)
        self.what, self.failure_note = what, failure_note
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(2)  # the new task may start while the old unwinds
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(debounce_ms)
        self._timer.timeout.connect(self._start_pending)
        self._pending: Task | None = None
        self._job = 0
        self._current: TaskState | None = None
        # The states of tasks still running (kept alive until they finish).
        self._running: dict[int, TaskState] = {}

    @property
    def busy(self) -> bool:
        return self._current is not None

    @property
    def job(self) -> int:
        """The number of the last task started."""
        return self._job

    def start(self, task: Task) -> None:
        """Cancel the task in flight (and any pending one); start ``task`` now."""
        self._timer.stop()
        self._pending = task
        self._start_pending()

    def request(self, task: Task, *, immediate: bool = False) -> bool:
        """Ask for ``task``, debounced (see the class); the task in flight is
        cancelled at once. Returns whether ``task`` started at once."""
        self._pending = task
        if self._current is not None:
            self._current.cancel()
        started = immediate or not self._timer.isActive()
        if started:
            self._start_pending()
        self._timer.start()  # opens or extends the burst
        return started

    def cancel(self) -> None:
        """Cancel the pending and the running task."""
        self._timer.stop()
        self._pending = None
        if self._current is not None:
            self._current.cancel()

    def shutdown(self, timeout_ms: int = 5000) -> None:
        self.cancel()
        self._pool.waitForDone(timeout_ms)

    def _start_pending(self) -> None:
        task, self._pending = self._pending, None
        if task is None:
            return
        if self._current is not None:
            self._current.cancel()
        self._job += 1
        state = TaskState(self._job)
        state.status.connect(self._on_status)
        state.progress.connect(self._on_progress)
        state.partial.connect(self._on_partial)
        state.done.connect(self._on_done)
        state.failed.connect(self._on_failed)
        state.cancelled.connect(self._on_cancelled)
        state.finished.connect(self._on_finished)
        self._running[self._job] = state
        was_busy = self.busy
        self._current = state
        if not was_busy:
            self.busyChanged.emit(True)
        runnable = _Runnable(task, state, self.what, self.failure_note)
        self._pool.start(runnable)

    def _is_current(self, job: int) -> bool:
        state = self._current
        return state is not None and state.job == job and not state.should_stop()

    def _is_news(self, job: int) -> bool:
        """Whether the end of ``job`` is news: it is the current task and no
        newer request waits for its burst to end (a task superseded within a
        burst of edits neither failed nor was cancelled as far as the user is
        concerned)."""
        state = self._current
        return state is not None and state.job == job and self._pending is None

    def _on_status(self, job: int, text: str) -> None:
        if self._is_current(job):
            self.statusChanged.emit(text)

    def _on_progress(self, job: int, fraction: float) -> None:
        if self._is_current(job):
            self.progressChanged.emit(fraction)

    def _on_partial(self, job: int, result: object) -> None:
        if self._is_current(job):
            self.partialReady.emit(result)
        state = self._running.get(job)
        if state is not None:
            # After the views' own queued redraws (draw_idle) have run.
            QTimer.singleShot(0, state.partial_shown)

    def _on_done(self, job: int, result: object) -> None:
        if self._is_current(job):
            self.resultReady.emit(result)

    def _on_failed(self, job: int, message: str) -> None:
        if self._is_news(job):
            self.failed.emit(message)

    def _on_cancelled(self, job: int) -> None:
        if self._is_news(job):
            self.cancelled.emit()

    def _on_finished(self, job: int) -> None:
        self._running.pop(job, None)
        if self._current is not None and self._current.job == job:
            self._current = None
            if self._pending is None or not self._timer.isActive():
                self.busyChanged.emit(False)


# --------------------------------------------------------------------- the runs


def comparison_task(
    scenarios: Sequence[Scenario],
    settings: RunSettings,
    *,
    preview_runs: int = PREVIEW_RUNS,
    memo: RunMemo | None = None,
) -> Task:
    """The app's run: a preview of ``preview_runs`` runs (a partial result,
    shown before the full run starts), then all runs; warm-ups and runs are
    kept in (and taken from) ``memo``."""
    baseline, *alternatives = list(scenarios)

    def phases() -> list[tuple[RunSettings, bool, str]]:
        out = []
        if 0 < preview_runs < settings.runs:
            preview = replace(settings, runs=preview_runs)
            out.append((preview, False, f"Preview: {preview_runs:,} runs"))
        out.append((settings, True, f"Full run: {settings.runs:,} runs"))
        return out

    def run(state: TaskState) -> Any:
        if not is_prepared():
            state.set_status("Preparing the simulation engine (once after an install)")
            prepare(compile_params(baseline, 1))
        result: Any = None
        for phase, final, label in phases():
            state.set_status(label)
            result = compare(
                baseline,
                alternatives,
                settings=phase,
                progress=state.set_progress,
                should_stop=state.should_stop,
                memo=memo,
                remember_alternatives=preview_runs,
            )
            if state.should_stop():
                raise SimulationCancelled("cancelled")
            if not final:
                state.set_partial_result(result, wait_s=PREVIEW_HOLD_S)
        return result

    return run


#: What a failed run adds to its one line.
RUN_FAILURE_NOTE = "The last good result is still shown."

__all__ = [
    "DEBOUNCE_MS",
    "PREVIEW_RUNS",
    "RUN_FAILURE_NOTE",
    "Task",
    "TaskRunner",
    "TaskState",
    "comparison_task",
    "failure_line",
]
