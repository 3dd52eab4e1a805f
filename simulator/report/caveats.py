"""What a headline does not show, in one line, for every view that shows it.

The bundled levers are sized so that ``siloed`` + all of them (``aligned``)
reproduces Aberdeen's best-in-class against its laggards: a spread between the
best and the worst companies of a survey, not the effect of aligning
(docs/model.md, "Caveats"). Any comparison whose gap comes from those levers
inherits that reading, so the cards, the workshop, the PDF's first page, the
deck and the terminal all say so, with the text defined here once.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol


class _HasLevers(Protocol):
    @property
    def levers(self) -> list[str]: ...


#: Levers sized by a like-for-like survey (MarketingProfs 2005: the best-aligned
#: firms against peers in the same industry), not by the best-versus-worst spread.
LIKE_FOR_LIKE_LEVERS = frozenset({"enablement", "retention"})

#: The caveat of a gap made by the levers calibrated to Aberdeen's spread.
SPREAD_CAVEAT = (
    "Read with care: the levers are sized to Aberdeen's best-versus-worst spread "
    "(+20\u00a0% vs \u22124\u00a0% growth), not the causal effect of aligning; "
    "like-for-like evidence is nearer 5 points (model guide, Caveats)."
)
#: The caveat of a gap made only by the like-for-like levers.
LIKE_FOR_LIKE_CAVEAT = (
    "Read with care: sized to a like-for-like survey (MarketingProfs 2005, "
    "self-reported), which is not the causal effect of aligning either "
    "(model guide, Caveats)."
)


def lever_difference(baseline: _HasLevers, alternative: _HasLevers) -> set[str]:
    """Levers one scenario applies and the other does not (either way round)."""
    return set(baseline.levers) ^ set(alternative.levers)


def headline_caveat(baseline: _HasLevers, alternative: _HasLevers) -> str | None:
    """The one-line caveat for a comparison of ``alternative`` with ``baseline``,
    or ``None`` when their difference does not come from the bundled levers
    (a user's own what-if, say a bigger budget, needs no survey caveat)."""
    levers = lever_difference(baseline, alternative)
    if not levers:
        return None
    if levers <= LIKE_FOR_LIKE_LEVERS:
        return LIKE_FOR_LIKE_CAVEAT
    return SPREAD_CAVEAT


def comparison_caveats(
    baseline: _HasLevers, alternatives: Iterable[_HasLevers]
) -> list[str]:
    """The distinct caveats of a comparison's alternatives, most serious first."""
    found = {headline_caveat(baseline, alt) for alt in alternatives}
    return [c for c in (SPREAD_CAVEAT, LIKE_FOR_LIKE_CAVEAT) if c in found]
