"""Planted faults of the CI regression check (``faults``), test-only."""
