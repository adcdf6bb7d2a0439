"""Domain errors. Services raise these; one handler turns them into responses."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain refused the request. ``status`` is the HTTP status to use."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    status = 404


class Forbidden(DomainError):
    status = 403


class Conflict(DomainError):
    status = 409


class Unauthorized(DomainError):
    status = 401


class InvalidInput(DomainError):
    status = 422
