"""Graph's error answers:
``{"error": {"code", "message", "innerError": {"date", "request-id", "client-request-id"}}}``."""

from __future__ import annotations

import time


class GraphError(Exception):
    """Answer the request with ``status`` and Graph's error JSON (``headers``: extra response headers)."""

    def __init__(self, status: int, code: str, message: str, headers: tuple = ()):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = tuple(headers)

    def body(self, request_id: str, client_request_id: str | None) -> dict:
        return {"error": {"code": self.code, "message": self.message, "innerError": {
            "date": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()), "request-id": request_id,
            "client-request-id": client_request_id or request_id}}}


def bad_request(code: str, message: str) -> GraphError:
    return GraphError(400, code, message)


def not_found(code: str = "ErrorItemNotFound",
              message: str = "The specified object was not found in the store.") -> GraphError:
    return GraphError(404, code, message)


def access_denied(message: str = "Access is denied. Check credentials and try again.") -> GraphError:
    return GraphError(403, "ErrorAccessDenied", message)
