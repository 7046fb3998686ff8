"""The one exception tree of Taxiway.

Every error Taxiway raises on purpose descends from :class:`TaxiwayError`; adapters for
third-party libraries translate their errors into this tree with ``raise ... from exc``.
Whether an operation may be retried is part of the type, never of the message::

    TaxiwayError                      (defined here unless a module is named)
    ├── InvalidInput                  the user handed in something wrong; retrying won't help
    │   ├── ValidationFailed          one or more located problems in manifests/topology/inventory
    │   ├── NotFound                  the named object does not exist
    │   │   └── UnknownService        no such service in the inventory
    │   ├── Conflict                  a write based on a stale version; nothing changed
    │   ├── QuotaExceeded             storing it would put a service over its quota; nothing stored
    │   ├── UnsafeValue               haproxy.errors: a value that is not one inert HAProxy token
    │   └── ArtifactTooLarge          client.artifact: an artifact over the upload limit
    ├── ConfigurationError            the platform setup (paths, settings) is missing or wrong
    │   ├── HaproxyMissing            haproxy.errors: no ``haproxy`` binary on PATH
    │   └── ConfigRejected            haproxy.errors: ``haproxy -c`` refused a config
    ├── TransientError (retryable)    a dependency is temporarily unavailable; safe to retry
    │   ├── Unreachable               client.http: the control plane did not answer, or a 5xx
    │   ├── RuntimeApiUnavailable     haproxy.errors: the stats socket did not answer
    │   ├── SinkFailed                observability.sink_process: the request log sink did not start
    │   └── NotUp                     dev.bringup: the dev world did not come up by the deadline
    ├── AccessDenied                  client.http: the token is missing, unknown, revoked or not allowed
    ├── ProtocolError                 another process answered a document not in the documented shape
    ├── RolloutFailed                 client.waiting: a region reported the revision failed
    ├── RolloutTimedOut               client.waiting: the deadline passed before every region was ready
    ├── Unauthorized                  server.problems: no valid bearer token (answered 401)
    ├── Forbidden                     server.problems: the token may not do this (answered 403)
    ├── RuntimeFailure                runtime.driver: a driver could not do what it was asked
    │   ├── InstanceNotFound          no such instance in the driver's state
    │   ├── InstanceConflict          the id runs already with a different spec
    │   └── StartFailed (retryable)   the process or pod could not be started
    ├── RuntimeApiError               haproxy.errors: HAProxy refused a runtime API command
    │   └── ServerBusy (retryable)    ``del server`` while connections remain
    ├── ProcessFailed                 haproxy.errors: HAProxy did not start, reload or stop
    │   └── ReloadRejected            the master refused a new config; old workers serve on
    ├── ArtifactRejected              satellite.artifacts: not the bytes asked for, or unsafe to extract
    ├── StoreClosed                   satellite.localstore: the satellite stops; nothing was written
    └── AlreadyRunning                dev.pidlock: another process holds the dev world's lock

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
