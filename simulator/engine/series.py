"""Names of the weekly series a run records: a contract of the JSON and exports."""

from __future__ import annotations

#: Weekly series recorded per run, in the order the JSON writes them.
SERIES = (
    "leads",
    "mqls",
    "ignored",
    "contacted",
    "qualified",
    "stale",
    "opportunities",
    "won",
    "bookings",
    "revenue",
    "arr",
    "customers",
    "churned",
    "nurture",
    "ignore_rate",
    "queue",
    "spend",
    "cost",
)
#: Series that are levels at the end of a week (stocks and rates), not flows.
LEVELS = ("opportunities", "arr", "customers", "nurture", "ignore_rate", "queue")
#: Series that are flows (summed over the horizon into ``total_<flow>``).
FLOWS = tuple(name for name in SERIES if name not in LEVELS)
#: Weekly series recorded beyond the JSON's: ready leads back from nurture that
#: joined this week's MQLs (so a funnel can tell new MQLs from returning ones).
EXTRA_SERIES = ("matured",)
#: Every series recorded whatever the scenario; one budget share per source
#: follows them (:func:`share_series`).
RECORDED = SERIES + EXTRA_SERIES


def share_series(sources: tuple[str, ...]) -> tuple[str, ...]:
    """Names of the weekly budget-share series, one per source (after the JSON's
    series: the closed loop at work)."""
    return tuple(f"share_{source}" for source in sources)
