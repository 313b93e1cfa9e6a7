"""Deterministic demo datasets (the Tianyuan District) and their loader.

- ``tianyuan``: the named places and the figures the district reports (exact in the data);
- ``generator``: ``generate(seed, district_index)`` — pure, no database; with ``work``,
  ``resident_requests``, ``names`` and ``world`` as its parts and ``rows`` as its output;
- ``loader``: ``await load_demo(scale=N)`` — bulk, idempotent, one transaction per district.
"""
