"""Fitting a scenario to a company's own data: an opportunity export from a CRM
(Salesforce, HubSpot, Pipedrive or a generic one) and a funnel report.

- :mod:`~simulator.analysis.fitting.table` reads CSV/XLSX files and recognises their
  columns, dates and numbers;
- :mod:`~simulator.analysis.fitting.opportunities` estimates win rate, stages, cycle,
  deal size and volume from an opportunity export, with 90 % intervals;
- :mod:`~simulator.analysis.fitting.expectation` is the model's week in expectation (a
  deterministic recursion) and :mod:`~simulator.analysis.fitting.funnel` fits the funnel
  report's ratios on it;
- :mod:`~simulator.analysis.fitting.fit` puts them together into a scenario (the company
  scaled to the data's volume), :mod:`~simulator.analysis.fitting.provenance`
  records each
  fitted value with its interval and source and writes the file with a citation
  per value, :mod:`~simulator.analysis.fitting.check` checks the fit by simulation, and
  :mod:`~simulator.cli.fit` is ``funnelsim fit``.
"""
