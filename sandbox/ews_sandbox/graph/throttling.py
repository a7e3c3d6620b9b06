"""The Outlook service's limit of four concurrent requests per app and mailbox: a fifth gets 429
ApplicationThrottled (MailboxConcurrency) with Retry-After, whatever the other requests are."""

from __future__ import annotations

import threading
from collections import Counter
from contextlib import contextmanager

from .errors import GraphError

MAILBOX_CONCURRENCY = 4
RETRY_AFTER_SECONDS = 1


def mailbox_concurrency_exceeded() -> GraphError:
    return GraphError(429, "ApplicationThrottled", "Application is over its MailboxConcurrency limit.",
                      (("Retry-After", str(RETRY_AFTER_SECONDS)),))


class MailboxConcurrency:
    """Requests in flight per (client id, mailbox)."""

    def __init__(self, limit: int = MAILBOX_CONCURRENCY):
        self.limit = limit
        self._in_flight: Counter = Counter()
        self._lock = threading.Lock()

    def acquire(self, client_id: str, mailbox: str) -> tuple[str, str]:
        """Take a slot; GraphError 429 when the app already has ``limit`` requests on the mailbox."""
        key = (client_id, mailbox)
        with self._lock:
            if self._in_flight[key] >= self.limit:
                raise mailbox_concurrency_exceeded()
            self._in_flight[key] += 1
        return key

    def release(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._in_flight[key] -= 1
            if self._in_flight[key] <= 0:
                del self._in_flight[key]

    @contextmanager
    def slot(self, client_id: str, mailbox: str):
        key = self.acquire(client_id, mailbox)
        try:
            yield
        finally:
            self.release(key)
