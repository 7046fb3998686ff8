"""Taxiway: a self-hosted multi-region deployment platform.

One manifest per service; Taxiway validates it, derives what each region must run, shows
the plan, and (in later layers) rolls it out region by region behind HAProxy edges.
"""

__version__ = "0.1.0"
