"""The write side of the API: one module of mutations per domain area."""
