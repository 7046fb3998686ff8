"""The documents that cross a process boundary, one typed shape each. Pure.

Each module is one document of docs/protocol.md as pydantic models, rendered and parsed
by the same class on both ends: the control plane, the satellites, the edges and the
CLI. Nothing here does I/O; a document that does not fit its shape is a
:class:`taxiway.errors.ProtocolError` naming the field.
"""
