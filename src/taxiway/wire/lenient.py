"""Field types for documents read as far as they go: a value of the wrong type is unknown. Pure.

A status report reaches the CLI from satellites of any version through the control
plane, which stores it as sent; one region's odd report must not stop ``taxiway status``
for every region. So the report models (:mod:`taxiway.wire.region_status`,
:mod:`taxiway.wire.pop_status`) read a field of the wrong type as unknown (``None``,
false, empty) rather than refusing the document, as the CLI always did.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator


def _whole(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _flag(value: Any) -> bool:
    return value is True


def _lines(value: Any) -> list[str]:
    return [str(line) for line in value] if isinstance(value, list) else []


def _objects(value: Any) -> list[Any]:
    if not isinstance(value, list | tuple):
        return []
    return [item for item in value if isinstance(item, dict | BaseModel)]


Whole = Annotated[int | None, BeforeValidator(_whole)]
"""A whole number (never a boolean), else ``None``."""
Number = Annotated[float | None, BeforeValidator(_number)]
"""A number (never a boolean), as a float, else ``None``."""
Text = Annotated[str | None, BeforeValidator(_text)]
"""Non-empty text, else ``None``."""
Flag = Annotated[bool, BeforeValidator(_flag)]
"""``true``, else false."""
Lines = Annotated[list[str], BeforeValidator(_lines)]
"""A list of lines, each as text; anything else is no lines."""
Objects = BeforeValidator(_objects)
"""For a list of models: its objects, the rest left out; anything else is an empty list."""
BeforeText = BeforeValidator(lambda value: "?" if value is None else str(value))
"""For an identifier that must read as something: its text, ``?`` when absent."""
BeforeCount = BeforeValidator(lambda value: _whole(value) or 0)
"""For a count: a whole number, else 0."""
BeforeMessage = BeforeValidator(lambda value: str(value or ""))
"""For a sentence: its text, empty when absent."""
