"""The control plane's HTTP API (``taxiway server``): FastAPI over the store."""
