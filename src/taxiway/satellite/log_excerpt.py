"""The part of a failing instance's log that a status report carries: where the error is. Pure.

A failed deploy shows each failing instance's log tail. Its last 20 lines are often the
wrong ones: a deep traceback (gunicorn, uvicorn and frameworks nest many frames) pushes
its first line and the frames that matter out, or the app logs on after the error. So the
reconciler reads the last :data:`READ_LINES` lines and :func:`excerpt` picks, in order:

1. from the last crash's first ``Traceback (most recent call last):`` line (an exception
   chained with "During handling of the above exception" or "The above exception was the
   direct cause" belongs to the same crash), to the end;
2. else from the first line of the last block of lines that say error, fatal, exception,
   panic or critical (the block: those lines and indented lines between them), to the end;
3. else the last :data:`FALLBACK_LINES` lines.

An excerpt longer than :data:`MAX_LINES` keeps its first lines and its last ones, with
one line saying how many were left out between them. Timestamps are dropped: the
excerpt is read beside the reason, which already says when.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from taxiway.runtime import logfile

READ_LINES = 200
MAX_LINES = 40
FALLBACK_LINES = 20
_HEAD_LINES = 12
_TRACEBACK = "Traceback (most recent call last):"
_CHAINED = ("During handling of the above exception", "The above exception was the direct cause")
# "ModuleNotFoundError", "ERROR:", "Exception in ASGI application", "FATAL", "panic:"
_ERROR = re.compile(r"(error|exception)\b|\b(fatal|panic|critical)\b", re.IGNORECASE)


def _traceback_start(lines: Sequence[str]) -> int | None:
    starts = [index for index, line in enumerate(lines) if line.lstrip().startswith(_TRACEBACK)]
    if not starts:
        return None
    first = starts[-1]
    for earlier in reversed(starts[:-1]):
        between = lines[earlier:first]
        if not any(marker in line for line in between for marker in _CHAINED):
            break
        first = earlier
    return first


def _error_block_start(lines: Sequence[str]) -> int | None:
    last = next((i for i in range(len(lines) - 1, -1, -1) if _ERROR.search(lines[i])), None)
    if last is None:
        return None
    first = last
    index = last - 1
    while index >= 0 and (_ERROR.search(lines[index]) or lines[index][:1] in (" ", "\t")):
        if _ERROR.search(lines[index]):
            first = index
        index -= 1
    return first


def excerpt(lines: Sequence[str]) -> list[str]:
    """The lines of ``lines`` (oldest first, as a driver reads them) that show the error."""
    texts = [logfile.unstamped(line) for line in lines]
    start = _traceback_start(texts)
    if start is None:
        start = _error_block_start(texts)
    chosen = texts[start:] if start is not None else texts[-FALLBACK_LINES:]
    if len(chosen) <= MAX_LINES:
        return chosen
    tail = MAX_LINES - _HEAD_LINES - 1
    left_out = len(chosen) - _HEAD_LINES - tail
    return [*chosen[:_HEAD_LINES], f"… {left_out} lines left out …", *chosen[-tail:]]
