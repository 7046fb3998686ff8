"""Talking to the control plane over HTTP: the client the CLI and satellites share."""
