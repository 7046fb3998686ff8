"""The region ingress's request log line: the format HAProxy writes, and its reading.

HAProxy sends one line per request (``log-format`` :data:`LOG_FORMAT`, ``format raw``) to
the request log sink, which reads each with :func:`parse`. The format and its parser live
together here so they cannot drift apart. A line is a tag and four fields, separated by
one space::

    tw1 hello hello-production-r7-0 200 12
    tw1 hello <NOSRV> 503 0

The tag tells request lines from HAProxy's own messages to the same target (``Proxy
fe_main stopped ...`` at every reload), which are no request and no parse failure. Then
the backend (the service), the server (the instance id, ``<service>-<environment>-r
<revision><generation>-<index>`` as :func:`taxiway.plan.region.reconcile.instance_id`
names it, or ``<NOSRV>`` when no instance answered), the status HAProxy sent and ``%Ta``,
the total active time in milliseconds (first byte of the request to last byte of the
response, queue and connect included). Pure: the sink does the I/O.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from taxiway.plan.observability import names
from taxiway.plan.region import reconcile

TAG = "tw1"
LOG_FORMAT = f"{TAG} %b %s %ST %Ta"
"""HAProxy's ``log-format`` for the ingress frontend (no spaces inside any field: service
names are DNS labels, instance ids and numbers have none)."""

NO_SERVER = "<NOSRV>"
_SERVER = re.compile(r"(?P<environment>[a-z][a-z0-9-]*?)-r(?P<revision>[0-9]{1,9})(?:s[0-9a-f]{8})?-[0-9]+")
_NUMBER = re.compile(r"-?[0-9]{1,12}")


@dataclass(frozen=True)
class Record:
    """One request the ingress answered for a service."""

    service: str
    environment: str
    revision: str
    """The revision number as text, or :data:`names.NO_REVISION` when no instance answered."""
    code_class: str
    """``1xx`` … ``5xx``."""
    seconds: float


class Skipped(enum.Enum):
    """A line read but not a service's answered request (counted as a line only)."""

    UNROUTED = "unrouted"
    """Answered by the ingress's own ``be_unknown`` (no such service): no service label."""
    UNANSWERED = "unanswered"
    """The client left before any status was sent (``%ST`` is -1 or 0)."""
    MESSAGE = "message"
    """One of HAProxy's own messages (no :data:`TAG`): a proxy stopping at a reload."""


class Unparsed(enum.Enum):
    UNPARSED = "unparsed"
    """Not a line in :data:`LOG_FORMAT`: counted apart, never silently lost."""


UNPARSED = Unparsed.UNPARSED


def parse(line: bytes, environment: str = reconcile.ROUTED_ENVIRONMENT) -> Record | Skipped | Unparsed:
    """One datagram's line; ``environment`` is the one the ingress routes to, given to
    requests no instance answered (their server names none)."""
    try:
        text = line.decode("ascii").rstrip("\n")
    except UnicodeDecodeError:
        return UNPARSED
    tag, _, rest = text.partition(" ")
    if tag != TAG:
        return Skipped.MESSAGE
    fields = rest.split(" ")
    if len(fields) != 4:
        return UNPARSED
    backend, server, status_text, active_text = fields
    if not (_NUMBER.fullmatch(status_text) and _NUMBER.fullmatch(active_text)) or not backend:
        return UNPARSED
    if "_" in backend:  # Taxiway's own proxies; no service name has a '_'
        return Skipped.UNROUTED
    status, active = int(status_text), int(active_text)
    if status in (-1, 0):
        return Skipped.UNANSWERED
    if not 100 <= status <= 599 or active < 0:
        return UNPARSED
    if server == NO_SERVER:
        revision = names.NO_REVISION
    else:
        prefix = backend + "-"
        match = _SERVER.fullmatch(server, len(prefix)) if server.startswith(prefix) else None
        if match is None:
            return UNPARSED
        environment, revision = match["environment"], str(int(match["revision"]))
    return Record(backend, environment, revision, f"{status // 100}xx", active / 1000.0)
