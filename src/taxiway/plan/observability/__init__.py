"""Observability, decided: metric names, SLO rules, Prometheus and Alertmanager configuration.

Pure code (the pure-core contract): what a regional or the global Prometheus should scrape
and evaluate, as data and text. :mod:`taxiway.observability` does the I/O (the request
log sink, Prometheus and Alertmanager processes, writing rule files).
"""
