"""What each per-run figure and weekly series is, for people: its label, its unit
and which direction is better.

One place for this, so that the terminal tables, the app's charts and cards, the
exports and ``p_better`` all name and judge a figure the same way.
"""

from __future__ import annotations

from simulator.engine.series import FLOWS

#: Per-run figures in the order tables, charts and exports list them, most telling
#: first.
FIGURE_ORDER = (
    "arr_growth_y1",
    "arr_end",
    "total_revenue",
    "total_bookings",
    "total_won",
    "cac",
    "total_leads",
    "total_mqls",
    "total_ignored",
    "total_contacted",
    "total_qualified",
    "total_stale",
    "total_churned",
    "total_spend",
    "total_cost",
)

#: Each per-run figure's unit, for tables and charts.
FIGURE_UNITS: dict[str, str] = {
    **{f"total_{flow}": "leads" for flow in FLOWS},
    "total_won": "deals",
    "total_bookings": "$",
    "total_revenue": "$",
    "total_churned": "customers",
    "total_spend": "$",
    "total_cost": "$",
    "arr_end": "$/year",
    "arr_growth_y1": "share",
    "cac": "$/deal",
}

#: Units of the weekly series; each ``share_<source>`` series is a share.
SERIES_UNITS: dict[str, str] = {
    "leads": "leads/week",
    "mqls": "leads/week",
    "ignored": "leads/week",
    "contacted": "leads/week",
    "qualified": "leads/week",
    "stale": "leads/week",
    "opportunities": "open",
    "won": "deals/week",
    "bookings": "$/week",
    "revenue": "$/week",
    "arr": "$/year",
    "customers": "customers",
    "churned": "customers/week",
    "nurture": "leads",
    "ignore_rate": "share",
    "queue": "leads",
    "spend": "$/week",
    "cost": "$/week",
    "matured": "leads/week",
}

#: Axis labels of the weekly series, for people.
SERIES_LABELS = {
    "arr": "ARR",
    "revenue": "Revenue per week",
    "leads": "New leads per week",
    "mqls": "MQLs per week",
    "ignored": "MQLs ignored per week",
    "contacted": "Leads contacted per week",
    "qualified": "Leads qualified per week",
    "stale": "Leads gone stale per week",
    "opportunities": "Open opportunities",
    "won": "Deals won per week",
    "bookings": "New bookings per week",
    "customers": "Customers",
    "churned": "Customers lost per week",
    "nurture": "Leads in nurture",
    "ignore_rate": "Share of MQLs ignored by sales",
    "queue": "Leads waiting for a first contact",
    "spend": "Marketing spend per week",
    "cost": "Total cost per week",
}

#: Labels of the per-run figures, for people.
FIGURE_LABELS = {
    "arr_growth_y1": "ARR growth over year 1",
    "arr_end": "ARR at the end of the horizon",
    "cac": "Customer acquisition cost (marketing spend per deal)",
    "total_revenue": "Revenue over the horizon",
    "total_bookings": "New bookings over the horizon",
    "total_won": "Deals won over the horizon",
    "total_leads": "Leads generated over the horizon",
    "total_mqls": "MQLs over the horizon",
    "total_ignored": "MQLs ignored over the horizon",
    "total_contacted": "Leads contacted over the horizon",
    "total_qualified": "Leads qualified over the horizon",
    "total_stale": "Leads gone stale over the horizon",
    "total_churned": "Customers lost over the horizon",
    "total_spend": "Marketing spend over the horizon",
    "total_cost": "Total cost over the horizon",
}

#: Short labels of the per-run figures, for a table's first column (a terminal
#: table fits 100 columns); totals are over the horizon, which the table's title
#: gives.
FIGURE_SHORT_LABELS = {
    "arr_growth_y1": "ARR growth in year 1",
    "arr_end": "ARR at the end",
    "total_revenue": "Revenue",
    "total_bookings": "New bookings",
    "total_won": "Deals won",
    "cac": "Spend per deal won (CAC)",
    "total_leads": "Leads generated",
    "total_mqls": "MQLs",
    "total_ignored": "MQLs ignored by sales",
    "total_contacted": "Leads contacted",
    "total_qualified": "Leads qualified",
    "total_stale": "Leads gone stale",
    "total_churned": "Customers lost",
    "total_spend": "Marketing spend",
    "total_cost": "Total cost",
}

#: Figures for which less is better (a lower CAC, fewer customers lost, less
#: spent); every other figure is better higher.
LOWER_IS_BETTER = frozenset(
    {
        "cac",
        "total_cost",
        "total_spend",
        "total_churned",
        "total_ignored",
        "total_stale",
    }
)


def lower_is_better(figure: str) -> bool:
    """Whether a smaller value of ``figure`` is the better one."""
    return figure in LOWER_IS_BETTER
