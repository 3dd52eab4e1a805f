"""Lead sources as marks, resolved only when a budget review needs them.

A lead's source changes none of its chances once it is generated: scoring, the
ignore rate, follow-up and qualification depend on its type and age only. Leads
of source ``s`` and type ``k`` arrive as independent Poisson counts with rates
``lambda_s * quality_sk``, so (Poisson marking) the leads of type ``k`` generated
in a week are one Poisson count whose members each carry source ``s`` with chance
``pi_sk = lambda_s quality_sk / sum_s' lambda_s' quality_s'k``, independently of
each other and of everything that happens to them later.

The engine therefore follows leads by type only. When a review must know how many
MQLs, or how many qualified leads, came from each source, the counts are split
over the sources with one multinomial draw per group (compiled:
:func:`simulator.engine.kernel.split_by_source`), using the chances of the
weeks in which those leads were generated. That is exact (the same joint
distribution as following every source through the queue) and spares most of
the weekly draws.

The chances change only when the budget shares change (at a review) or the
scenario does (at a branch); the engine keeps them per *epoch* between changes.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from simulator.engine import kernel
from simulator.engine.streams import ChunkStreams

I = NDArray[np.int64]
F = NDArray[np.float64]

#: The MQL counts of a review window that are split over sources when the budget
#: is scored on MQLs: each group's members share one set of source chances.
#: Ignored MQLs are grouped by where they go, not by type: only that matters
#: later, and a group's source weights follow from its types' weights.
MQL_GROUPS = (
    "accepted_ready",
    "accepted_future",
    "accepted_junk",
    "ignored_to_nurture",
    "ignored_lost",
)
#: Qualified leads of marketing's sources, by type (nurture's are not scored).
QUALIFIED_GROUPS = ("ready", "future")


def source_weights(share: F, leads_per_share: F, mql_quality: F) -> F:
    """``(types, sources, runs)``: each source's weekly MQLs of each type, up to a
    common factor (the pass and ignore chances are the same for every source)."""
    weights: F = (share * leads_per_share)[None, :, :] * mql_quality
    return weights


def mql_group_weights(weights: F, recycle_capture: F) -> F:
    """``(groups, sources, runs)`` source weights of :data:`MQL_GROUPS`; an
    ignored real lead goes to nurture with chance ``recycle_capture``."""
    ready, future, junk = weights[0], weights[1], weights[2]
    real = ready + future
    return np.stack(
        [
            ready,
            future,
            junk,
            real * recycle_capture,
            real * (1 - recycle_capture) + junk,
        ]
    )


def qualified_group_weights(weights: F) -> F:
    """``(groups, sources, runs)`` source weights of :data:`QUALIFIED_GROUPS`."""
    return weights[:2].copy()


def split_by_source(streams: ChunkStreams, counts: I, weights: F) -> I:
    """Split ``counts`` ``(groups, runs)`` over sources, each group's members
    independently with chances proportional to ``weights`` ``(groups, sources,
    runs)``; return the ``(sources, runs)`` totals over the groups. Each seed
    block draws for its own runs from its own marks stream."""
    totals = np.zeros((weights.shape[1], counts.shape[1]), dtype=np.int64)
    counts = np.ascontiguousarray(counts, dtype=np.int64)
    weights = np.ascontiguousarray(weights, dtype=np.float64)
    for block, r0, r1 in streams.blocks:
        kernel.split_by_source(block.states, r0, r1, counts, weights, totals)
    return totals


def map_sources(weights: F, old: tuple[str, ...], new: tuple[str, ...]) -> F:
    """Weights ``(..., old sources, runs)`` carried to ``new`` sources by name; a
    source the new scenario lacks hands its weight to the new first source."""
    shape = (*weights.shape[:-2], len(new), weights.shape[-1])
    mapped = np.zeros(shape)
    for s_old, name in enumerate(old):
        s_new = new.index(name) if name in new else 0
        mapped[..., s_new, :] += weights[..., s_old, :]
    return mapped
