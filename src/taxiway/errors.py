"""The one exception tree of Taxiway.

Every error Taxiway raises on purpose descends from :class:`TaxiwayError`; adapters for
third-party libraries translate their errors into this tree with ``raise ... from exc``.
Whether an operation may be retried is part of the type, never of the message::

    TaxiwayError
    ├── InvalidInput            the user handed in something wrong; retrying won't help
    │   ├── ValidationFailed    one or more located problems in manifests/topology/inventory
    │   ├── NotFound            the named object does not exist
    │   │   └── UnknownService  no such service in the inventory
    │   ├── Conflict            a write based on a stale version; nothing changed
    │   └── QuotaExceeded       storing it would put a service over its quota; nothing stored
    ├── ConfigurationError      the platform setup (paths, settings) is missing or wrong
    ├── ProtocolError           another process answered a document this one does not understand
    └── TransientError          a dependency is temporarily unavailable; safe to retry

The CLI turns any ``TaxiwayError`` into a clear message and a non-zero exit code; it
never shows a traceback for one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from taxiway.spec.problem import Problem


class TaxiwayError(Exception):
    """Root of every error Taxiway raises on purpose."""

    retryable: bool = False
    code: str = "taxiway-error"


class InvalidInput(TaxiwayError):
    """Input from a user is wrong; the same input will fail again."""

    code = "invalid-input"


class ValidationFailed(InvalidInput):
    """One or more problems, each located in a file at a line and column."""

    code = "validation-failed"

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        count = len(self.problems)
        super().__init__(f"{count} problem{'s' if count != 1 else ''} found")


class ConfigurationError(TaxiwayError):
    """The platform configuration (topology path, settings) is missing or unusable."""

    code = "configuration-error"


class TransientError(TaxiwayError):
    """A dependency is temporarily unavailable; the operation may be retried."""

    retryable = True
    code = "transient"


class NotFound(InvalidInput):
    """The named object does not exist."""

    code = "not-found"


class UnknownService(NotFound):
    """No service of that name in the inventory (the file's or the API's); the control
    plane adds which file or command registers it."""

    def __init__(self, service: str) -> None:
        self.service = service
        super().__init__(f"no service named {service!r} in the inventory")


class Conflict(InvalidInput):
    """A write was based on a stale version; nothing changed. Re-read, then retry."""

    code = "conflict"


class QuotaExceeded(InvalidInput):
    """Storing it would put a service over its storage quota; nothing was stored."""

    code = "quota-exceeded"


class ProtocolError(TaxiwayError):
    """Another Taxiway process answered a document this one does not understand (a shape
    of :mod:`taxiway.wire` it does not match); the message names the field."""

    code = "protocol-error"
