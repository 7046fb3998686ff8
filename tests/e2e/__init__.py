"""End-to-end tests: real control plane, satellites and instances, as OS processes."""
