"""The run controller: preview then full, one run at a time, cancel, failures."""

from __future__ import annotations

import pytest

from gui.worker import RunController
from simulator.model.scenario_io import load_scenario
from simulator.run.runner import RunSettings


@pytest.fixture
def scenarios():
    return [load_scenario("siloed"), load_scenario("aligned")]


@pytest.fixture
def controller(qtbot):
    ctl = RunController(debounce_ms=10, preview_runs=100)
    yield ctl
    ctl.shutdown()


def test_preview_then_full(qtbot, controller, scenarios):
    seen = []
    controller.resultReady.connect(
        lambda c, final: seen.append((c.baseline.runs, final))
    )
    controller.request(scenarios, RunSettings(200, 30, 8, 1), immediate=True)
    qtbot.waitUntil(lambda: len(seen) == 2 and not controller.busy, timeout=20_000)
    assert seen == [(100, False), (200, True)]


def test_new_request_supersedes_the_run_in_flight(qtbot, controller, scenarios):
    finals = []
    controller.resultReady.connect(lambda c, final: final and finals.append(c))
    controller.request(scenarios, RunSettings(20_000, 104, 52, 1), immediate=True)
    qtbot.waitUntil(lambda: controller.busy, timeout=5000)
    controller.request(scenarios, RunSettings(150, 20, 4, 2))
    qtbot.waitUntil(lambda: bool(finals) and not controller.busy, timeout=30_000)
    assert [c.baseline.runs for c in finals] == [150]


def test_cancel_stops_quickly(qtbot, controller, scenarios):
    finals = []
    controller.resultReady.connect(lambda c, final: final and finals.append(c))
    controller.request(scenarios, RunSettings(50_000, 104, 52, 1), immediate=True)
    with qtbot.waitSignal(controller.phaseStarted, timeout=5000):
        pass
    with qtbot.waitSignal(controller.cancelled, timeout=5000):
        controller.cancel()
    qtbot.waitUntil(lambda: not controller.busy, timeout=5000)
    assert finals == []


def test_failure_is_a_message(qtbot, controller, scenarios, monkeypatch):
    import gui.worker

    def broken(*args, **kwargs):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(gui.worker, "compare", broken)
    with qtbot.waitSignal(controller.failed, timeout=5000) as blocker:
        controller.request(scenarios, RunSettings(100, 10, 2, 1), immediate=True)
    assert "boom" in blocker.args[0] and "ZeroDivisionError" in blocker.args[0]
    assert "last good result is still shown" in blocker.args[0]
    qtbot.waitUntil(lambda: not controller.busy, timeout=5000)
    # Nothing frozen: the engine works again, so does the next run.
    monkeypatch.undo()
    finals = []
    controller.resultReady.connect(lambda c, final: final and finals.append(c))
    controller.request(scenarios, RunSettings(100, 10, 2, 1), immediate=True)
    qtbot.waitUntil(lambda: bool(finals) and not controller.busy, timeout=20_000)
    assert finals[0].baseline.runs == 100


def test_engine_error_in_a_later_phase(qtbot, controller, scenarios, monkeypatch):
    """The preview arrives, the full run fails: a message, the preview stays the
    last result, and the controller is idle again."""
    import gui.worker

    real = gui.worker.compare

    def fails_on_full(*args, settings, **kwargs):
        if settings.runs > 100:
            raise MemoryError
        return real(*args, settings=settings, **kwargs)

    monkeypatch.setattr(gui.worker, "compare", fails_on_full)
    seen, errors = [], []
    controller.resultReady.connect(lambda c, final: seen.append(final))
    controller.failed.connect(errors.append)
    controller.request(scenarios, RunSettings(300, 20, 4, 1), immediate=True)
    qtbot.waitUntil(lambda: bool(errors) and not controller.busy, timeout=20_000)
    assert seen == [False] and "Not enough memory" in errors[0]


def test_full_run_waits_for_the_preview_to_be_shown(
    qtbot, controller, scenarios, monkeypatch
):
    """The preview is drawn before the full run starts: drawing while the engine's
    threads compute is several times slower."""
    import gui.worker

    real = gui.worker.compare
    events = []

    def logged(*args, settings, **kwargs):
        events.append(f"compute {settings.runs}")
        return real(*args, settings=settings, **kwargs)

    def slow_draw(comparison, final):
        qtbot.wait(200)  # a preview that takes a while to draw
        events.append(f"shown {comparison.baseline.runs}")

    monkeypatch.setattr(gui.worker, "compare", logged)
    controller.resultReady.connect(slow_draw)
    controller.request(scenarios, RunSettings(200, 20, 4, 1), immediate=True)
    qtbot.waitUntil(lambda: len(events) == 4 and not controller.busy, timeout=20_000)
    assert events == ["compute 100", "shown 100", "compute 200", "shown 200"]


def test_cancel_while_the_preview_is_held(qtbot, controller, scenarios, monkeypatch):
    import gui.worker

    monkeypatch.setattr(gui.worker, "PREVIEW_HOLD_S", 60.0)
    controller.resultReady.connect(lambda c, final: controller.cancel())
    with qtbot.waitSignal(controller.cancelled, timeout=5000):
        controller.request(scenarios, RunSettings(200, 20, 4, 1), immediate=True)
    qtbot.waitUntil(lambda: not controller.busy, timeout=5000)


def test_a_single_edit_runs_at_once_and_a_burst_runs_its_last_request(qtbot, scenarios):
    """The first request of a burst starts without waiting for the debounce
    delay (the preview of one edit shows sooner); requests that follow within
    the delay are held, and only the last of them runs when the burst ends."""
    controller = RunController(debounce_ms=300, preview_runs=0)
    finals, cancels = [], []
    controller.resultReady.connect(lambda c, final: final and finals.append(c))
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
