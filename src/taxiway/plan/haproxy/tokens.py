"""Values that may appear as bare words in an HAProxy config or runtime API command.

HAProxy's configuration language splits on whitespace, honours quotes, backslashes and
``#`` comments, expands ``${VAR}`` inside double quotes and treats ``%`` as a log-format
escape in header values; its runtime API also splits commands on ``;`` and newlines.
Rather than escape user strings for every one of those contexts, each value is checked
against a strict shape before it is rendered, and anything outside it raises
:class:`~taxiway.haproxy.errors.UnsafeValue`. Called by :mod:`taxiway.plan.haproxy.config` and
:mod:`taxiway.haproxy.runtime_api`; pure.
"""

from __future__ import annotations

import ipaddress
import math
import re

from taxiway import errors

_DNS_LABEL = re.compile(r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?")
_REGION = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
_HOST_LABEL = r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?"
_DOMAIN = re.compile(rf"{_HOST_LABEL}(\.{_HOST_LABEL})*")
# HAProxy accepts letters, digits, '-', '_', '.' and ':' in proxy and server names; ':' is
# left out because the runtime API and stats CSV use it as an address separator.
_OBJECT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
# RFC 3986 path and query characters minus those HAProxy's parser gives a meaning to:
# quotes, backslash, '#', '$' and whitespace.
_HTTP_PATH = re.compile(r"/[A-Za-z0-9._~!&()*+,;=:@%/?-]{0,1023}")
_EXPECTED_CODES = re.compile(r"([1-5]([0-9]{2}|xx))(,[1-5]([0-9]{2}|xx))*")
_FILE_PATH = re.compile(r"/[A-Za-z0-9._+@/-]*")

UNIX_SOCKET_PATH_MAX = 97
"""The longest unix socket path HAProxy binds: ``sun_path`` holds 107 bytes and a NUL on
Linux, and HAProxy keeps room for the ``.<pid>.tmp`` name it binds first (10 more)."""

MAX_TIMER_MS = 2**31 - 1
"""HAProxy keeps timers as signed 32-bit milliseconds."""


class UnsafeValue(errors.InvalidInput):
    """A value would not be a single, inert token in HAProxy's configuration language.

    Service, region and server names, paths and addresses end up as bare words in the
    config and on the runtime API, where a space, quote, ``#``, ``;`` or newline would
    start a new argument, comment, command or line. They are validated, never escaped.
    """

    code = "haproxy-unsafe-value"


def _match(pattern: re.Pattern[str], value: object, what: str, shape: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise UnsafeValue(f"{what}: {value!r} is not {shape}")
    return value


def dns_label(value: object, what: str = "service name") -> str:
    return _match(_DNS_LABEL, value, what, "a DNS label (lowercase letters, digits, '-'; at most 63)")


def region(value: object, what: str = "region") -> str:
    if isinstance(value, str) and len(value) > 63:
        raise UnsafeValue(f"{what}: {value!r} is longer than 63 characters")
    return _match(_REGION, value, what, "a region name such as us-east1")


def domain(value: object, what: str = "domain") -> str:
    if isinstance(value, str) and len(value) > 253:
        raise UnsafeValue(f"{what}: {value!r} is longer than 253 characters")
    return _match(_DOMAIN, value, what, "a lowercase DNS name such as example.test")


def object_name(value: object, what: str = "server name") -> str:
    """A backend or server name: letters, digits, '.', '_', '-'; at most 100 characters."""
    return _match(_OBJECT_NAME, value, what, "a name of letters, digits, '.', '_' or '-'")


def map_key(value: object, what: str = "map key") -> str:
    """A map file key: a server name, or ``backend/server``."""
    if not isinstance(value, str):
        raise UnsafeValue(f"{what} {value!r}: expected a server name or backend/server")
    for part in value.split("/", 1):
        object_name(part, what)
    return value


def http_path(value: object, what: str = "path") -> str:
    """An absolute request path, optionally with a query string."""
    return _match(_HTTP_PATH, value, what, "an absolute URL path without quotes, spaces, '#' or '$'")


def expected_codes(value: object, what: str = "expected_codes") -> str:
    """Manifest status codes (``2xx,301``) as HAProxy's ``http-check expect status`` list."""
    text = _match(_EXPECTED_CODES, value, what, "status codes such as 2xx or 200,301")
    ranges = []
    for code in text.split(","):
        ranges.append(f"{code[0]}00-{code[0]}99" if code.endswith("xx") else code)
    return ",".join(ranges)


def ip_address(value: object, what: str = "address") -> str:
    """A literal IPv4 or IPv6 address; host names are refused (no DNS at (re)load time)."""
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise UnsafeValue(f"{what}: {value!r} is not an IP address") from None


def port(value: object, what: str = "port") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise UnsafeValue(f"{what}: {value!r} is not a port number (1-65535)")
    return value


def endpoint(host: object, port_number: object, what: str = "address") -> str:
    """``host:port`` as HAProxy parses it: IPv6 literals in brackets."""
    address = ip_address(host, what)
    number = port(port_number, f"{what} port")
    return f"[{address}]:{number}" if ":" in address else f"{address}:{number}"


def bounded_int(value: object, low: int, high: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise UnsafeValue(f"{what}: {value!r} is not a whole number from {low} to {high}")
    return value


def duration(seconds: object, what: str = "duration") -> str:
    """Seconds as an HAProxy time: whole seconds as ``10s``, anything finer as ``250ms``."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds):
        raise UnsafeValue(f"{what}: {seconds!r} is not a number of seconds")
    millis = round(seconds * 1000)
    if not 1 <= millis <= MAX_TIMER_MS:
        raise UnsafeValue(f"{what}: {seconds!r}s is outside 1ms..{MAX_TIMER_MS}ms")
    return f"{millis // 1000}s" if millis % 1000 == 0 else f"{millis}ms"


def file_path(value: object, what: str = "path") -> str:
    """An absolute file path made of ordinary characters (no spaces, quotes or '$')."""
    text = str(value) if value is not None else ""
    return _match(_FILE_PATH, text, what, "an absolute path of letters, digits and ._+@/-")


def unix_socket_path(value: object, what: str = "socket path") -> str:
    text = file_path(value, what)
    if len(text.encode()) > UNIX_SOCKET_PATH_MAX:
        raise UnsafeValue(
            f"{what}: {text!r} is {len(text.encode())} bytes; a unix socket path may have at most "
            f"{UNIX_SOCKET_PATH_MAX} (use a shorter state directory)"
        )
    return text
