"""Sealing secret values at rest: the control plane's store and each satellite's store."""
