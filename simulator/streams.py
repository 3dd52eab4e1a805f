"""Random streams: one seed, reproducible whatever the chunking or thread count.

Runs are grouped in fixed *seed blocks* of :data:`BLOCK_RUNS` runs. Block ``b``
draws from ``SeedSequence(seed).spawn(n_blocks)[b]``, so a block's numbers depend
only on the seed and its index, never on which thread runs it or how blocks are
grouped into chunks.

Each block has two families of streams, the warm-up and the reported weeks, and in
each family one generator per *site* (leads, hand-off, follow-up, ...). Separate
sites keep common random numbers aligned: when an alternative draws a different
number of variates at one site (say, more qualified leads), the other sites'
streams are not shifted. Every scenario of a comparison gets fresh generators built
from the same reported-weeks seed, so run ``i`` sees the same stream in each.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from simulator.uncertainty import parameter_stream_key

#: Spawn-key word that sets parameter streams apart from the block's children.
PARAMETER_KEY = 0x9A7A
#: Runs per seed block: a reproducibility constant (changing it changes the numbers
#: for a seed). Small enough that the app's 1,000-run preview makes four blocks to
#: share between cores; the compiled step costs little per block, and larger runs
#: group blocks into chunks (:func:`simulator.runner.compare`).
BLOCK_RUNS = 250
SITES = (
    "leads",
    "handoff",
    "contact",
    "qualify",
    "pipeline",
    "customers",
    "deals",
    "nurture",
    "marks",
)
#: The sites the compiled weekly step draws from, in its argument order: all but
#: the budget review's marks, drawn around it.
KERNEL_SITES = tuple(site for site in SITES if site != "marks")


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

    def generators(self, *, warmup: bool) -> dict[str, np.random.Generator]:
        family = self._warmup if warmup else self._reported
        return {
            site: np.random.Generator(np.random.PCG64(ss))
            for site, ss in zip(SITES, family, strict=True)
        }


def all_block_seeds(seed: int, runs: int) -> list[BlockSeeds]:
    return [block_seeds(seed, index) for index in range(len(block_bounds(runs)))]


def block_seeds(seed: int, index: int) -> BlockSeeds:
    """Block ``index``'s seeds: ``SeedSequence(seed).spawn(n)[index]``, built
    directly so that a worker needs only its own blocks."""
    return BlockSeeds(np.random.SeedSequence(seed, spawn_key=(index,)))


class Site:
    """The generators of one site for a chunk of one or more seed blocks: each
    block draws for its own runs from its own stream."""

    def __init__(
        self, generators: Sequence[np.random.Generator], sizes: Sequence[int]
    ) -> None:
        self._generators = list(generators)
        self._sizes = list(sizes)

    @property
    def generators(self) -> list[np.random.Generator]:
        """One generator per seed block, in run order."""
        return self._generators

    @property
    def blocks(self) -> list[tuple[int, int]]:
        """``[(start, stop), ...]``: the runs of each seed block within the chunk."""
        stops = np.cumsum(self._sizes).tolist()
        return list(zip([0, *stops[:-1]], stops, strict=True))


def chunk_sites(
    blocks: Sequence[BlockSeeds], sizes: Sequence[int], *, warmup: bool
) -> dict[str, Site]:
    """Fresh site streams for a chunk made of ``blocks``."""
    per_block = [b.generators(warmup=warmup) for b in blocks]
    return {site: Site([g[site] for g in per_block], sizes) for site in SITES}
