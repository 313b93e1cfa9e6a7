"""Linju Hub (邻聚 Hub): the data hub for residential-compound party building."""

from __future__ import annotations

__version__ = "0.1.0"
