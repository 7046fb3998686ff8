"""Benchmarks: scripts that print figures, never tests (see ``plan_scale.py``)."""
