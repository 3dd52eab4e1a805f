"""The background tasks: one at a time, a run's preview then its full run, cancel,
failures as one line with the traceback in the log."""

from __future__ import annotations

import pytest

from gui.tasks import TaskRunner, comparison_task
from simulator.model.scenario_io import load_scenario
from simulator.run.memo import RunMemo
from simulator.run.runner import RunSettings


@pytest.fixture
def scenarios():
    return [load_scenario("siloed"), load_scenario("aligned")]


class Runs:
    """A run controller as the main window has it: a TaskRunner whose tasks
    are comparisons (a preview of ``preview_runs``, then the full run)."""

    def __init__(self, *, debounce_ms: int, preview_runs: int) -> None:
        self.runner = TaskRunner(
            debounce_ms=debounce_ms,
            what="The simulation",
            failure_note="The last good result is still shown.",
        )
        self.preview_runs = preview_runs
        self.memo = RunMemo()

    def request(self, scenarios, settings, *, immediate=False) -> bool:
        task = comparison_task(
            scenarios, settings, preview_runs=self.preview_runs, memo=self.memo
        )
        return self.runner.request(task, immediate=immediate)

    def on_result(self, slot) -> None:
        self.runner.partialReady.connect(lambda c: slot(c, False))
        self.runner.resultReady.connect(lambda c: slot(c, True))

    def __getattr__(self, name):
        return getattr(self.runner, name)


@pytest.fixture
def controller(qtbot):
    ctl = Runs(debounce_ms=10, preview_runs=100)
    yield ctl
    ctl.shutdown()


def test_preview_then_full(qtbot, controller, scenarios):
    seen = []
    controller.on_result(lambda c, final: seen.append((c.baseline.runs, final)))
    controller.request(scenarios, RunSettings(200, 30, 8, 1), immediate=True)
    qtbot.waitUntil(lambda: len(seen) == 2 and not controller.busy, timeout=20_000)
    assert seen == [(100, False), (200, True)]


def test_new_request_supersedes_the_run_in_flight(qtbot, controller, scenarios):
    finals = []
    controller.on_result(lambda c, final: final and finals.append(c))
    controller.request(scenarios, RunSettings(20_000, 104, 52, 1), immediate=True)
    qtbot.waitUntil(lambda: controller.busy, timeout=5000)
    controller.request(scenarios, RunSettings(150, 20, 4, 2))
    qtbot.waitUntil(lambda: bool(finals) and not controller.busy, timeout=30_000)
    assert [c.baseline.runs for c in finals] == [150]


def test_cancel_stops_quickly(qtbot, controller, scenarios):
    finals = []
    controller.on_result(lambda c, final: final and finals.append(c))
    controller.request(scenarios, RunSettings(50_000, 104, 52, 1), immediate=True)
    with qtbot.waitSignal(controller.statusChanged, timeout=5000):
        pass
    with qtbot.waitSignal(controller.cancelled, timeout=5000):
        controller.cancel()
    qtbot.waitUntil(lambda: not controller.busy, timeout=5000)
    assert finals == []


def test_failure_is_a_message(qtbot, controller, scenarios, monkeypatch):
    import gui.tasks

    def broken(*args, **kwargs):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(gui.tasks, "compare", broken)
    with qtbot.waitSignal(controller.failed, timeout=5000) as blocker:
        controller.request(scenarios, RunSettings(100, 10, 2, 1), immediate=True)
    assert "boom" in blocker.args[0] and "ZeroDivisionError" in blocker.args[0]
    assert "last good result is still shown" in blocker.args[0]
    qtbot.waitUntil(lambda: not controller.busy, timeout=5000)
    # Nothing frozen: the engine works again, so does the next run.
    monkeypatch.undo()
    finals = []
    controller.on_result(lambda c, final: final and finals.append(c))
    controller.request(scenarios, RunSettings(100, 10, 2, 1), immediate=True)
    qtbot.waitUntil(lambda: bool(finals) and not controller.busy, timeout=20_000)
    assert finals[0].baseline.runs == 100


def test_engine_error_in_a_later_phase(qtbot, controller, scenarios, monkeypatch):
    """The preview arrives, the full run fails: a message, the preview stays the
    last result, and the controller is idle again."""
    import gui.tasks

    real = gui.tasks.compare

    def fails_on_full(*args, settings, **kwargs):
        if settings.runs > 100:
            raise MemoryError
        return real(*args, settings=settings, **kwargs)

    monkeypatch.setattr(gui.tasks, "compare", fails_on_full)
    seen, errors = [], []
    controller.on_result(lambda c, final: seen.append(final))
    controller.failed.connect(errors.append)
    controller.request(scenarios, RunSettings(300, 20, 4, 1), immediate=True)
    qtbot.waitUntil(lambda: bool(errors) and not controller.busy, timeout=20_000)
    assert seen == [False] and "Not enough memory" in errors[0]


def test_full_run_waits_for_the_preview_to_be_shown(
    qtbot, controller, scenarios, monkeypatch
):
    """The preview is drawn before the full run starts: drawing while the engine's
    threads compute is several times slower."""
    import gui.tasks

    real = gui.tasks.compare
    events = []

    def logged(*args, settings, **kwargs):
        events.append(f"compute {settings.runs}")
        return real(*args, settings=settings, **kwargs)

    def slow_draw(comparison, final):
        qtbot.wait(200)  # a preview that takes a while to draw
        events.append(f"shown {comparison.baseline.runs}")

    monkeypatch.setattr(gui.tasks, "compare", logged)
    controller.on_result(slow_draw)
    controller.request(scenarios, RunSettings(200, 20, 4, 1), immediate=True)
    qtbot.waitUntil(lambda: len(events) == 4 and not controller.busy, timeout=20_000)
    assert events == ["compute 100", "shown 100", "compute 200", "shown 200"]


def test_cancel_while_the_preview_is_held(qtbot, controller, scenarios, monkeypatch):
    import gui.tasks

    monkeypatch.setattr(gui.tasks, "PREVIEW_HOLD_S", 60.0)
    controller.on_result(lambda c, final: controller.cancel())
    with qtbot.waitSignal(controller.cancelled, timeout=5000):
        controller.request(scenarios, RunSettings(200, 20, 4, 1), immediate=True)
    qtbot.waitUntil(lambda: not controller.busy, timeout=5000)


def test_a_single_edit_runs_at_once_and_a_burst_runs_its_last_request(qtbot, scenarios):
    """The first request of a burst starts without waiting for the debounce
    delay (the preview of one edit shows sooner); requests that follow within
    the delay are held, and only the last of them runs when the burst ends."""
    controller = Runs(debounce_ms=300, preview_runs=0)
    finals, cancels = [], []
    controller.on_result(lambda c, final: final and finals.append(c))
    controller.cancelled.connect(lambda: cancels.append(True))
    try:
        assert controller.request(scenarios, RunSettings(100, 10, 2, 1))
        assert controller.busy and controller.job == 1  # started, not queued
        assert not controller.request(scenarios, RunSettings(110, 10, 2, 1))
        assert not controller.request(scenarios, RunSettings(120, 10, 2, 1))
        assert controller.job == 1  # held until the burst ends
        qtbot.waitUntil(lambda: controller.job == 2, timeout=5000)
        qtbot.waitUntil(lambda: bool(finals) and not controller.busy, timeout=20_000)
        assert [c.baseline.runs for c in finals] == [120]
        assert cancels == []  # superseded within the burst: not news to the user
    finally:
        controller.shutdown()


def test_a_new_task_cancels_the_old_and_only_its_news_arrive(qtbot):
    """Any task (a bridge, drivers, a workshop's steps): the task in flight is
    asked to stop, its result is dropped, the new task's arrives."""
    import threading

    runner = TaskRunner(debounce_ms=0)
    release = threading.Event()
    stopped = []
    results = []

    def slow(state):
        state.set_progress(0.5)
        while not state.should_stop() and not release.is_set():
            release.wait(0.01)
        stopped.append(state.should_stop())
        return "old"

    runner.resultReady.connect(results.append)
    try:
        runner.start(slow)
        qtbot.waitUntil(lambda: runner.busy, timeout=2000)
        runner.start(lambda state: "new")
        qtbot.waitUntil(lambda: not runner.busy, timeout=5000)
        assert results == ["new"]
        assert stopped == [True]
        assert runner.job == 2
    finally:
        release.set()
        runner.shutdown()


def test_a_failure_is_one_line_and_its_traceback_goes_to_the_log(qtbot, tmp_path):
    from gui.logs import start_logging, stop_logging

    path = start_logging(tmp_path / "data")
    runner = TaskRunner(debounce_ms=0, what="The value bridge")

    def broken(state):
        return {}["no such lever"]

    try:
        with qtbot.waitSignal(runner.failed, timeout=5000) as blocker:
            runner.start(broken)
        message = blocker.args[0]
        assert "\n" not in message
        assert message.startswith("The value bridge failed (KeyError:")
        assert str(path) in message
        qtbot.waitUntil(lambda: not runner.busy, timeout=5000)
    finally:
        runner.shutdown()
        stop_logging()
    text = path.read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in text
    assert "in broken" in text and "KeyError: 'no such lever'" in text


def test_the_log_lives_in_the_users_data_folder(qtbot, monkeypatch, tmp_path):
    from PySide6.QtCore import QStandardPaths

    from gui import logs

    monkeypatch.setattr(
        QStandardPaths, "writableLocation", lambda _where: str(tmp_path / "app")
    )
    try:
        assert logs.start_logging() == tmp_path / "app" / "funnelsim.log"
        assert logs.log_file() == tmp_path / "app" / "funnelsim.log"
    finally:
        logs.stop_logging()
    assert logs.log_file() is None


def test_the_bench_times_a_preview_from_the_edit_to_the_screen(qtbot, monkeypatch):
    """What ``funnelsim bench`` reports for the app: from an edit of the
    alternative to its preview painted, of which the computing (no budget is
    asserted here: speed is measured by the bench, not by tests)."""
    from gui import bench

    timings = bench.preview_on_screen_seconds(edits=2)
    assert len(timings) == 2
    for timing in timings:
        assert 0 < timing.computing < timing.on_screen


def test_an_exception_no_code_caught_goes_to_the_log(tmp_path, monkeypatch):
    import sys

    from gui import logs

    monkeypatch.setattr(sys, "__excepthook__", lambda *args: None)
    path = logs.start_logging(tmp_path)
    try:
        try:
            raise RuntimeError("in a slot")
        except RuntimeError as exc:
            logs.log_uncaught(type(exc), exc, exc.__traceback__)
    finally:
        logs.stop_logging()
    text = path.read_text(encoding="utf-8")
    assert "Uncaught exception" in text and "RuntimeError: in a slot" in text
    assert "Traceback (most recent call last)" in text
