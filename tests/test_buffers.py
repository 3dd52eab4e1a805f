"""Records reuse the memory of records no longer in use, and only theirs."""

from __future__ import annotations

import gc

import numpy as np
import pytest

from simulator import buffers
from simulator.buffers import BufferPool
from simulator.runner import RunSettings, compare
from simulator.scenario_io import load_scenario

SHAPE = (10, 4, 100)  # 16,000 bytes of float32


def pool(**kwargs: float) -> BufferPool:
    return BufferPool(**{"min_bytes": 1_000, "keep_bytes": 100_000, **kwargs})


def test_memory_is_reused_once_no_view_is_left() -> None:
    records = pool()
    first = records.zeros(SHAPE, np.float32)
    view = first[:, 1, 10:20].T  # as a result's series
    first[:] = 7.0
    address = first.ctypes.data
    del first
    gc.collect()
    assert records.kept_bytes == 0  # the view still reads it
    del view
    assert records.kept_bytes == SHAPE[0] * SHAPE[1] * SHAPE[2] * 4
    second = records.zeros(SHAPE, np.float32)
    assert second.ctypes.data == address
    assert records.kept_bytes == 0
    assert second.shape == SHAPE and second.dtype == np.float32
    assert not second.any(), "reused memory is zeroed"
    assert second.flags.writeable


def test_memory_in_use_is_never_handed_out_twice() -> None:
    records = pool()
    arrays = [records.zeros(SHAPE, np.float32) for _ in range(3)]
    addresses = {a.ctypes.data for a in arrays}
    assert len(addresses) == 3


def test_kept_memory_is_bounded_and_fits_its_array() -> None:
    records = pool(keep_bytes=40_000)
    arrays = [records.zeros(SHAPE, np.float32) for _ in range(4)]
    del arrays
    assert records.kept_bytes == 32_000  # two of the four blocks
    # An array far smaller than a kept block gets memory of its own...
    small = records.zeros((10, 4, 20), np.float32)
    assert records.kept_bytes == 32_000
    # ...as does one below the pool's minimum, and one too large for any block.
    tiny = records.zeros((10,), np.float32)
    large = records.zeros((10, 4, 200), np.float32)
    assert records.kept_bytes == 32_000
    assert small.size + tiny.size + large.size > 0
    records.clear()
    assert records.kept_bytes == 0


def test_comparisons_on_reused_memory_give_the_same_series(monkeypatch) -> None:
    monkeypatch.setattr(buffers.RECORDS, "min_bytes", 0)
    buffers.RECORDS.clear()
    settings = RunSettings(runs=300, horizon_weeks=30, warmup_weeks=8, seed=3)
    baseline, alternative = load_scenario("siloed"), load_scenario("aligned")

    def run() -> list[dict[str, np.ndarray]]:
        result = compare(baseline, [alternative], settings=settings, remember=False)
        return [
            {name: series.copy() for name, series in r.weekly.items()}
            for r in result.results
        ]

    first = run()
    assert buffers.RECORDS.kept_bytes > 0  # the first comparison's records
    second = run()
    for one, other in zip(first, second, strict=True):
        assert one.keys() == other.keys()
        for name in one:
            np.testing.assert_array_equal(one[name], other[name], err_msg=name)


@pytest.fixture(autouse=True)
def _let_go_of_kept_records():
    yield
    buffers.RECORDS.clear()
