"""Random streams: one seed, reproducible whatever the chunking or thread count.

Runs are grouped in fixed *seed blocks* of :data:`BLOCK_RUNS` runs. Block ``b``
draws from ``SeedSequence(seed).spawn(n_blocks)[b]``, so a block's numbers depend
only on the seed and its index, never on which thread runs it or how blocks are
grouped into chunks.

Each block has two families of streams, the warm-up and the reported weeks, and in
each family one stream per *site* (leads, hand-off, follow-up, ...). Separate
sites keep common random numbers aligned: when an alternative draws a different
number of variates at one site (say, more qualified leads), the other sites'
streams are not shifted. Every scenario of a comparison gets fresh streams built
from the same reported-weeks seed, so run ``i`` sees the same stream in each.

The streams are numpy's SFC64 generator (Doty-Humphrey's Small Fast Chaotic
generator, 256 bits of state). The compiled step steps it inline, at a third of
the cost of calling a numpy generator from compiled code, which cannot inline
the call; numpy seeds it, and draws the deal values' normals from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from simulator.model.uncertainty import parameter_stream_key

#: Spawn-key word that sets parameter streams apart from the block's children.
PARAMETER_KEY = 0x9A7A
#: Runs per seed block: a reproducibility constant (changing it changes the numbers
#: for a seed). Small enough that the app's 1,000-run preview makes four blocks to
#: share between cores; the compiled step costs little per block, and larger runs
#: group blocks into chunks (:func:`simulator.run.runner.compare`).
BLOCK_RUNS = 250
#: The sites the compiled step draws from, in the order of the rows of a block's
#: stream states (kernel.py numbers them: tests/test_architecture.py checks).
KERNEL_SITES = (
    "leads",
    "handoff",
    "contact",
    "qualify",
    "pipeline",
    "customers",
    "nurture",
    "marks",
    "deal_sums",
)
#: Every site: the compiled step's, then the deal values' standard normals,
#: drawn by numpy many at a time.
SITES = (*KERNEL_SITES, "deals")


def block_bounds(runs: int) -> list[tuple[int, int]]:
    """``[(start, stop), ...]`` of the seed blocks covering ``runs`` runs."""
    return [
        (start, min(start + BLOCK_RUNS, runs)) for start in range(0, runs, BLOCK_RUNS)
    ]


class BlockSeeds:
    """The seed sequences of one seed block."""

    def __init__(self, seed_sequence: np.random.SeedSequence) -> None:
        self._root = seed_sequence
        warmup, reported = seed_sequence.spawn(2)
        self._warmup = warmup.spawn(len(SITES))
        self._reported = reported.spawn(len(SITES))

    def parameter_uniforms(self, dotted: str, size: int) -> NDArray[np.float64]:
        """Uniform numbers for a parameter drawn once per run: keyed by the
        parameter's name, so every scenario of a comparison draws run ``i``'s value
        of it from the same number."""
        key = np.random.SeedSequence(
            self._root.entropy,
            spawn_key=(
                *self._root.spawn_key,
                PARAMETER_KEY,
                parameter_stream_key(dotted),
            ),
        )
        return np.random.Generator(np.random.PCG64(key)).random(size)

    def streams(self, *, warmup: bool) -> BlockStreams:
        seeds = self._warmup if warmup else self._reported
        family = dict(zip(SITES, seeds, strict=True))
        return BlockStreams(
            np.stack([sfc64_state(family[site]) for site in KERNEL_SITES]),
            np.random.Generator(np.random.SFC64(family["deals"])),
        )


def sfc64_state(seed_sequence: np.random.SeedSequence) -> NDArray[np.uint64]:
    """The four words of numpy's SFC64 generator seeded with ``seed_sequence``
    (after its seeding rounds): the compiled step continues numpy's SFC64 stream
    from them exactly (tests/test_sampling.py compares the two)."""
    state = np.random.SFC64(seed_sequence).state["state"]["state"]
    return np.array(state, dtype=np.uint64)


@dataclass
class BlockStreams:
    """The random streams of one seed block in one phase: a row of SFC64 state
    per compiled site, advanced in place by the compiled step, and numpy's
    generator for the deal values."""

    states: NDArray[np.uint64]
    deals: np.random.Generator


def all_block_seeds(seed: int, runs: int) -> list[BlockSeeds]:
    return [block_seeds(seed, index) for index in range(len(block_bounds(runs)))]


def block_seeds(seed: int, index: int) -> BlockSeeds:
    """Block ``index``'s seeds: ``SeedSequence(seed).spawn(n)[index]``, built
    directly so that a worker needs only its own blocks."""
    return BlockSeeds(np.random.SeedSequence(seed, spawn_key=(index,)))


class ChunkStreams:
    """The streams of a chunk of one or more seed blocks: each block draws for
    its own runs from its own streams."""

    def __init__(self, blocks: Sequence[BlockStreams], sizes: Sequence[int]) -> None:
        stops = np.cumsum(sizes).tolist()
        #: ``[(streams, start, stop), ...]``: each seed block's streams and its
        #: runs within the chunk.
        self.blocks: list[tuple[BlockStreams, int, int]] = list(
            zip(blocks, [0, *stops[:-1]], stops, strict=True)
        )


def chunk_streams(
    blocks: Sequence[BlockSeeds], sizes: Sequence[int], *, warmup: bool
) -> ChunkStreams:
    """Fresh streams for a chunk made of ``blocks``."""
    return ChunkStreams([b.streams(warmup=warmup) for b in blocks], sizes)
