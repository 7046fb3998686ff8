"""The errors :mod:`taxiway.haproxy` raises, hung under the one tree of :mod:`taxiway.errors`.

Each says what HAProxy said (its own message, verbatim) and whether trying again can help::

    TaxiwayError
    ├── InvalidInput
    │   └── UnsafeValue           (taxiway.plan.haproxy.tokens) a value unsafe in a config
    ├── ConfigurationError
    │   ├── HaproxyMissing        no ``haproxy`` binary on PATH (names the apt-get command)
    │   └── ConfigRejected        ``haproxy -c`` refused a config; carries its alerts
    ├── RuntimeApiError           HAProxy answered a runtime API command with an error
    │   └── ServerBusy            ``del server``: the server still has connections (retryable)
    ├── ProcessFailed             HAProxy did not start, reload or stop as asked
    │   └── ReloadRejected        the master could not load a new config; old workers serve on
    └── TransientError
        └── RuntimeApiUnavailable the stats socket did not answer (reloading, stopped)
"""

from __future__ import annotations

from taxiway import errors


class HaproxyMissing(errors.ConfigurationError):
    code = "haproxy-missing"

    def __init__(self, binary: str) -> None:
        super().__init__(
            f"HAProxy ({binary!r}) is not installed or not on PATH; "
            "install it with: apt-get install -y haproxy"
        )


class ConfigRejected(errors.ConfigurationError):
    """``haproxy -c`` refused a configuration; ``alerts`` are HAProxy's own lines."""

    code = "haproxy-config-rejected"

    def __init__(self, path: str, alerts: tuple[str, ...]) -> None:
        self.alerts = alerts
        detail = "; ".join(alerts) if alerts else "no message"
        super().__init__(f"HAProxy rejected {path}: {detail}")


class RuntimeApiError(errors.TaxiwayError):
    """HAProxy answered a runtime API command with an error; ``answer`` is its message."""

    code = "haproxy-runtime-api"

    def __init__(self, command: str, answer: str) -> None:
        self.command = command
        self.answer = answer
        super().__init__(f"HAProxy refused {command!r}: {answer}")


class ServerBusy(RuntimeApiError):
    """A server cannot be deleted yet: connections or a queue are still attached to it."""

    retryable = True
    code = "haproxy-server-busy"


class ProcessFailed(errors.TaxiwayError):
    """HAProxy did not start, reload or stop as asked; the message quotes its log."""

    code = "haproxy-process"


class ReloadRejected(ProcessFailed):
    """The master tried the new config and gave up (a bind failed, say); the workers of
    the previous config go on serving."""

    code = "haproxy-reload-rejected"


class RuntimeApiUnavailable(errors.TransientError):
    """Nothing answered on the stats socket (HAProxy stopped, starting or reloading)."""

    code = "haproxy-runtime-api-unavailable"
