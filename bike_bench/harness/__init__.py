"""Reproduction harness: the model registry and the runs built on it."""
