"""A located problem in user input: which file, where, which field, found vs expected.

Every loader and checker in :mod:`taxiway.spec` and :mod:`taxiway.plan` reports through
this one shape, so the CLI prints them all alike and tests can assert on fields.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

Path = tuple[str | int, ...]

TYPE_BASE = "https://taxiway.dev/problems/"
"""Where a problem+json answer's ``type`` points: this plus its stable ``code``. Defined
here, below the control plane and the satellite (which answer problem+json) and their
clients, beside the one shape of a problem."""


def format_path(path: Path) -> str:
    """``("spec", "regions", 1)`` -> ``spec.regions[1]``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out or "(document)"


@dataclass(frozen=True, order=True)
class Location:
    """A position in a file; line and column are 1-based as editors show them."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line <= 0:
            return self.file
        return f"{self.file}:{self.line}:{self.column}"


REQUEST = Location("request")
"""Where a problem in an API request's body is (it has no file, line or column)."""


@functools.total_ordering
@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, with everything a user needs to fix it.

    Problems sort by file position, then field, so a user reads them top to bottom.
    """

    location: Location
    path: Path
    message: str
    found: str | None = None
    expected: str | None = None
    hint: str | None = field(default=None, compare=False)

    @property
    def field_path(self) -> str:
        return format_path(self.path)

    def _sort_key(self) -> tuple[Location, str, str, str, str]:
        # Paths mix names and indexes, and found/expected may be None: compare their text,
        # so sorting any two problems never raises.
        return (self.location, self.field_path, self.message, self.found or "", self.expected or "")

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Problem):
            return NotImplemented
        return self._sort_key() < other._sort_key()

    def render(self) -> str:
        """One line, compiler style: ``file:line:col: field: message (found X; expected Y)``."""
        text = f"{self.location}: {self.field_path}: {self.message}"
        details = []
        if self.found is not None:
            details.append(f"found {self.found}")
        if self.expected is not None:
            details.append(f"expected {self.expected}")
        if details:
            text += f" ({'; '.join(details)})"
        if self.hint:
            text += f"; {self.hint}"
        return text

    def to_json(self) -> dict[str, object]:
        return {
            "file": self.location.file,
            "line": self.location.line,
            "column": self.location.column,
            "field": self.field_path,
            "message": self.message,
            "found": self.found,
            "expected": self.expected,
            "hint": self.hint,
        }
