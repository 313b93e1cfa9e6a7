"""Benchmarks of the hub: they measure and print, never assert timings (see README.md)."""
