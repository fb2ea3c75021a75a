"""Benchmarks of the Fiducia service."""
