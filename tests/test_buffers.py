"""Records reuse the memory of records no longer in use, and only theirs."""

from __future__ import annotations

import gc
import subprocess
import sys

import numpy as np
import pytest

from simulator.engine import buffers
from simulator.engine.buffers import BufferPool
from simulator.model.scenario_io import load_scenario
from simulator.run.runner import RunSettings, compare

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
    # Below the pool's minimum: memory of its own, the kept blocks stay.
    tiny = records.zeros((10,), np.float32)
    assert records.kept_bytes == 32_000
    # Far smaller than any kept block: fresh memory, and the kept blocks go
    # rather than be held beside it.
    small = records.zeros((10, 4, 20), np.float32)
    assert records.kept_bytes == 0
    assert small.size + tiny.size > 0
    del small
    assert records.kept_bytes == 3_200
    records.clear()
    assert records.kept_bytes == 0


def test_a_record_given_back_during_the_pools_own_work_does_not_hang() -> None:
    """A garbage collection inside the pool (any allocation may start one) can
    free a record held in a reference cycle: its memory is given back without
    waiting for the pool's lock, which this very thread holds."""
    script = """
import gc
import numpy as np
from simulator.engine.buffers import BufferPool
pool = BufferPool(min_bytes=1024, keep_bytes=1 << 30)
class Holder: pass
first = pool.zeros((1000,), np.float32); del first
for k in range(1, 40):
    gc.collect()
    holder = Holder(); holder.me = holder
    holder.record = pool.zeros((1000,), np.float32); del holder
    gc.set_threshold(gc.get_count()[0] + k)
    pool.zeros((1000,), np.float32)
print("done")
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and done.stdout.strip() == "done", done.stderr


def test_comparisons_on_reused_memory_give_the_same_series(monkeypatch) -> None:
    monkeypatch.setattr(buffers.RECORDS, "min_bytes", 0)
    buffers.RECORDS.clear()
    settings = RunSettings(runs=300, horizon_weeks=30, warmup_weeks=8, seed=3)
    baseline, alternative = load_scenario("siloed"), load_scenario("aligned")

    def run() -> list[dict[str, np.ndarray]]:
        result = compare(baseline, [alternative], settings=settings)
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
