"""Benchmarks for smskit: `python -m benchmarks [--quick] [--only NAME]`."""
