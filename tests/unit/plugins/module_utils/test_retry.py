# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""RetryPolicy: what is retried, how long it waits, when it gives up."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.exchange.ews.plugins.module_utils import errors
from ansible_collections.exchange.ews.plugins.module_utils.retry import RetryPolicy


class Clock:
    """A fake monotonic clock that the fake sleep advances."""

    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def time(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def failing(*exceptions):
    pending = list(exceptions)

    def call():
        if pending:
            raise pending.pop(0)
        return "done"
    return call


def policy(clock, **options):
    return RetryPolicy(sleep=clock.sleep, clock=clock.time, **options)


def test_server_hints_are_honoured_in_full_beyond_max_delay():
    clock = Clock()
    call = failing(errors.EwsServerBusy("busy", back_off_ms=1500), errors.EwsUnavailable("503", retry_after=90))
    assert policy(clock, max_delay=30).run(call) == "done"
    assert clock.sleeps == [1.5, 90]


def test_without_hint_waits_double():
    clock = Clock()
    call = failing(*[errors.EwsNotSent("refused")] * 3)
    assert policy(clock, base_delay=0.5).run(call) == "done"
    assert clock.sleeps == [0.5, 1.0, 2.0]


def test_gives_up_after_retries():
    clock = Clock()
    with pytest.raises(errors.EwsServerBusy):
        policy(clock, retries=2).run(failing(*[errors.EwsServerBusy("busy", back_off_ms=10)] * 5))
    assert len(clock.sleeps) == 2


def test_gives_up_when_the_next_wait_would_pass_the_total_timeout():
    clock = Clock()
    with pytest.raises(errors.EwsUnavailable):
        policy(clock, retries=10, timeout=5, max_delay=3).run(
            failing(*[errors.EwsUnavailable("503", retry_after=3)] * 5))
    assert clock.sleeps == [3]


@pytest.mark.parametrize("error", [errors.EwsResponseLost("lost"), errors.EwsFault("x", response_code="ErrorAccessDenied"),
                                   errors.EwsAuthError("401")])
def test_never_retries_what_may_have_been_processed_or_cannot_succeed(error):
    clock = Clock()
    with pytest.raises(type(error)):
        policy(clock).run(failing(error))
    assert clock.sleeps == []


def test_before_attempt_runs_before_every_attempt_retries_included():
    clock = Clock()
    retry = policy(clock)
    seen = []
    retry.before_attempt = lambda: seen.append(clock.now)
    assert retry.run(failing(errors.EwsServerBusy("busy", back_off_ms=1000))) == "done"
    assert seen == [0.0, 1.0]
