"""Exceptions raised by services. Views translate them to HTTP statuses and Chinese messages."""

from __future__ import annotations


class ServiceError(Exception):
    """Base class: ``message`` is shown to the user as is (Chinese); ``status`` is the HTTP status."""

    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotFound(ServiceError):
    """The object does not exist *or is outside the actor's scope*: the two are never told apart (no leaks)."""

    status = 404

    def __init__(self, message: str = "记录不存在或您无权访问"):
        super().__init__(message)


class PermissionDenied(ServiceError):
    """The actor sees the object but may not do this to it."""

    status = 403

    def __init__(self, message: str = "您没有执行此操作的权限"):
        super().__init__(message)


class Conflict(ServiceError):
    """The object changed since the actor read it (stale version), or the action conflicts with its state."""

    status = 409


class ValidationFailed(ServiceError):
    """Input is invalid; ``errors`` maps field names to lists of Chinese messages (marshmallow's shape)."""

    status = 422

    def __init__(self, errors: dict, message: str = "提交的数据有误，请检查标出的字段"):
        super().__init__(message)
        self.errors = errors
