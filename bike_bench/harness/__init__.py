"""Reproduction harness: reference figures, official logs, result tables."""
