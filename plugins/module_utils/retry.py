# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""When and how long to wait before repeating an EWS request.

Only failures that prove Exchange did not process the request are retried:

* ``EwsServerBusy`` (ErrorServerBusy fault): wait ``BackOffMilliseconds``;
* ``EwsUnavailable`` (HTTP 503): wait ``Retry-After``;
* ``EwsNotSent`` (connection failed before the request was written).

``EwsResponseLost`` (the request may have been committed) is never retried
here: read-only callers may repeat the read themselves, writers resolve it
by looking at the items again (``exactly_once.py``).

Waits grow exponentially from ``base_delay`` when the server gives no hint and
never exceed ``max_delay``; a hint from the server is honoured in full (retrying
earlier than the server allowed only earns another refusal). The whole sequence
stops at ``retries`` attempts, or when the next wait would end after ``timeout``
seconds or after the caller's ``deadline``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.exchange.ews.plugins.module_utils.errors import (
    EwsNotSent,
    EwsServerBusy,
    EwsUnavailable,
)

RETRYABLE = (EwsServerBusy, EwsUnavailable, EwsNotSent)


class RetryPolicy:
    """Bounded retries for ``RETRYABLE`` errors.

    ``retries``: repeats after the first attempt; ``timeout``: total seconds
    allowed for waiting; ``max_delay``: cap on one wait. ``sleep`` and
    ``clock`` are injectable for tests. ``attempts_log`` collects one
    ``(operation, reason, delay)`` tuple per retry for reporting.
    """

    def __init__(self, retries=5, timeout=120.0, max_delay=30.0, base_delay=0.5,
                 sleep=time.sleep, clock=time.monotonic):
        self.retries = retries
        self.timeout = timeout
        self.max_delay = max_delay
        self.base_delay = base_delay
        self._sleep = sleep
        self._clock = clock
        self.deadline = None  # an absolute time on ``clock`` no wait may end after (the run's deadline)
        self.attempts_log = []

    @classmethod
    def from_settings(cls, settings, **kwargs):
        return cls(retries=settings.retries, timeout=settings.retry_timeout,
                   max_delay=settings.retry_max_delay, **kwargs)

    def delay_for(self, error, attempt):
        """Seconds to wait before retry number ``attempt`` (1-based) after ``error``."""
        if isinstance(error, EwsServerBusy) and error.back_off_ms is not None:
            return max(error.back_off_ms / 1000.0, 0.0)
        if isinstance(error, EwsUnavailable) and error.retry_after is not None:
            return max(error.retry_after, 0.0)
        return min(self.base_delay * (2 ** (attempt - 1)), self.max_delay)

    def now(self):
        """The policy's clock: where a budget for ``wait`` starts."""
        return self._clock()

    def run(self, call, operation=None):
        """Call ``call()`` until it returns or fails with a non-retryable error or the budget is spent."""
        started = self._clock()
        attempt = 0
        while True:
            try:
                return call()
            except RETRYABLE as error:
                attempt += 1
                if not self.wait(error, attempt, started, operation):
                    raise

    def wait(self, error, attempt, started, operation=None):
        """Wait before retry number ``attempt`` (1-based) after ``error``, within the budget counted from
        ``started`` (a ``clock`` time); False, without waiting, once the budget is spent."""
        delay = self.delay_for(error, attempt)
        deadline = started + self.timeout
        if self.deadline is not None:
            deadline = min(deadline, self.deadline)
        if attempt > self.retries or self._clock() + delay > deadline:
            return False
        self.attempts_log.append((operation or error.operation, error.response_code
                                  or error.http_status or type(error).__name__, delay))
        self._sleep(delay)
        return True
