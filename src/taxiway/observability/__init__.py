"""Observability units, run: the ingress request log sink, Prometheus and Alertmanager.

Each region's Prometheus scrapes that region only and keeps working alone; the global one
receives the regions' request series by remote write. What they load is decided in
:mod:`taxiway.plan.observability`; this package writes it, starts processes and reads
them back.
"""
