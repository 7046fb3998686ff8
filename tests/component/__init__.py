"""Component tests: real processes, real sockets, started and stopped by fixtures."""
