"""The problem+json body (RFC 9457) every API error answers with. Pure.

The control plane renders every error answer through :class:`ProblemDocument` (see
:mod:`taxiway.server.problems`), and the API document carries these models as its
components; ``type`` and ``code`` are stable per kind of error, never a class name.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from taxiway.spec.problem import TYPE_BASE


class ProblemItem(BaseModel):
    """One thing wrong with a request (``field`` and ``message``) or with an uploaded
    document (also where: ``file``, ``line``, ``column``, and ``found``/``expected``)."""

    field: str = Field(description="The field: `body.cursor`, `query.after`, `spec.regions[1]`.")
    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    found: str | None = None
    expected: str | None = None
    hint: str | None = None


class ProblemDocument(BaseModel):
    """An error answer (RFC 9457), ``application/problem+json``."""

    type: str = Field(description="A URI naming the kind of problem; stable.")
    title: str
    status: int = Field(ge=400, le=599)
    detail: str
    code: str = Field(description="The kind of problem, as a short stable name: `not-found`, `conflict`.")
    retryable: bool = Field(
        default=False, description="Present (true) when the same request may succeed later."
    )
    problems: list[ProblemItem] = Field(default_factory=list, description="What is wrong, where.")


class InvalidRequest(ProblemDocument):
    """A 422: the request, or a document it carries, is invalid; ``problems`` says where."""

    problems: list[ProblemItem] = Field(description="What is wrong, where.")


def render(status: int, code: str, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    """A problem document as JSON: only the fields given (``retryable``, ``problems``)."""
    document = ProblemDocument(
        type=TYPE_BASE + code, title=title, status=status, detail=detail, code=code, **extra
    )
    return document.model_dump(exclude_unset=True)
