"""Deterministic demo datasets (the Tianyuan District) and their loader."""
