"""Large arrays whose memory is reused from one comparison to the next.

A comparison of 10,000 runs records about 200 MB of weekly series. Memory that
large comes fresh from the operating system each time (the C allocator maps
blocks above 32 MB and unmaps them when they are freed), and fresh memory costs
as it is first written: the kernel zeroes every page, and on a virtual machine
the host may have to back it too. Measured on this project's 2-core machine:
0.05 to 0.7 s of processor time for one such comparison (about a sixth of it at
worst), against 15 ms to zero memory already in use. The app runs a comparison
after every edit, and the bench runs one after another; so the memory of a
record no longer used is kept, up to a bound, and handed to the next record of
about its size (and let go when a record fits none of it).

Whether a record is still in use is told by its lifetime: every view of a record
(a result's series, a chunk's recorder) refers to the record array itself, and
when the last of them goes, a finalizer gives its memory back.
"""

from __future__ import annotations

import math
import threading
import weakref
from collections import deque
from typing import Any

import numpy as np
from numpy.typing import NDArray

#: Smaller arrays come from the C allocator's own reused memory.
MIN_BYTES = 32 * 2**20
#: At most this much memory no longer in use is kept for reuse.
KEEP_BYTES = 512 * 2**20
#: A kept block is handed to an array of at least this share of its size, so a
#: small record does not hold a large block.
MIN_FILL = 0.8


class BufferPool:
    """Zeroed arrays on memory reused once the arrays before them are gone."""

    def __init__(
        self,
        *,
        min_bytes: int = MIN_BYTES,
        keep_bytes: int = KEEP_BYTES,
        min_fill: float = MIN_FILL,
    ) -> None:
        self.min_bytes = min_bytes
        self.keep_bytes = keep_bytes
        self.min_fill = min_fill
        self._lock = threading.Lock()
        self._free: list[NDArray[np.uint8]] = []  # oldest first
        # Given back by finalizers, which run wherever the last view goes,
        # including within this pool's own code when that starts a garbage
        # collection: they only append here (no lock), and the pool takes them
        # in under its lock.
        self._returned: deque[NDArray[np.uint8]] = deque()

    @property
    def kept_bytes(self) -> int:
        """Memory kept for reuse (not in use)."""
        with self._lock:
            self._take_in()
            return sum(block.nbytes for block in self._free)

    def zeros(self, shape: int | tuple[int, ...], dtype: Any) -> NDArray[Any]:
        """A zeroed array, as ``numpy.zeros(shape, dtype)``."""
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        dtype = np.dtype(dtype)
        size = math.prod(shape) * dtype.itemsize
        if size < self.min_bytes or dtype.hasobject:
            return np.zeros(shape, dtype)
        block = self._take(size)
        if block is None:
            # Zero pages, mapped as they are first written.
            block = np.zeros(size, np.uint8)
        else:
            block[:size].fill(0)
        # An array on the block's memory that owns nothing: views of it refer to
        # it (rather than to the block), so it lives exactly as long as any.
        array = np.frombuffer(block.data[:size], dtype=dtype).reshape(shape)
        base = array.base
        assert isinstance(base, np.ndarray)
        weakref.finalize(base, self._returned.append, block)
        return array

    def clear(self) -> None:
        """Let go of the memory kept for reuse."""
        with self._lock:
            self._take_in()
            self._free.clear()

    def _take(self, size: int) -> NDArray[np.uint8] | None:
        """A kept block for ``size`` bytes; on a miss, the kept blocks go (none
        fits, and fresh memory is about to be taken beside them)."""
        with self._lock:
            self._take_in()
            fitting = [
                (block.nbytes, i)
                for i, block in enumerate(self._free)
                if self.min_fill * block.nbytes <= size <= block.nbytes
            ]
            if not fitting:
                self._free.clear()
                return None
            return self._free.pop(min(fitting)[1])

    def _take_in(self) -> None:
        """Move blocks given back into the free list, oldest first, within the
        bound (under the lock)."""
        while self._returned:
            self._free.append(self._returned.popleft())
        total = sum(block.nbytes for block in self._free)
        while total > self.keep_bytes:
            total -= self._free.pop(0).nbytes


#: The records of this process's comparisons (engine.record_array).
RECORDS = BufferPool()
