# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The decisions of keyed messages (docs/exactly-once.md, "Keyed messages"): tables, and the election
checked over many random schedules of concurrent runs against a model of the server."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import math
import random

import pytest

from ansible_collections.exchange.ews.plugins.module_utils import message_decisions as d

UTC = datetime.timezone.utc
T0 = datetime.datetime(2024, 5, 10, 12, 0, 0, tzinfo=UTC)


def at(seconds):
    return T0 + datetime.timedelta(seconds=seconds)


def item(folder, is_draft=True, created=0.0, item_id="A"):
    return d.Found(folder, is_draft, at(created), item_id)


# -- which items prove what -------------------------------------------------------------------------

@pytest.mark.parametrize("folder, is_draft, submitted, candidate", [
    (d.DRAFTS, True, False, True),         # a draft: may be sent
    (d.DRAFTS, False, True, False),        # no longer a draft: it went out (left behind by Exchange)
    (d.OUTBOX, False, True, False),        # submitted, in flight (or held for deferred delivery)
    (d.OUTBOX, True, True, False),         # in the Outbox at all: submitted
    (d.SENT_ITEMS, False, True, False),    # the sent copy
    (d.SENT_ITEMS, True, False, False),    # a draft a user moved into Sent Items: proves nothing, never sent
])
def test_what_an_item_found_by_key_proves(folder, is_draft, submitted, candidate):
    found = item(folder, is_draft)
    assert (found.submitted, found.candidate) == (submitted, candidate)


# -- the election -------------------------------------------------------------------------------

@pytest.mark.parametrize("found, clock, kind, chosen", [
    ([], None, d.CREATE, None),
    ([item(d.SENT_ITEMS, True, 0, "moved")], at(5), d.CREATE, None),            # a moved draft is no proof
    ([item(d.OUTBOX, False, 0, "out")], None, d.ALREADY_SENT, "out"),
    ([item(d.DRAFTS, True, 0, "d"), item(d.SENT_ITEMS, False, 1, "copy")], at(9), d.ALREADY_SENT, "copy"),
    ([item(d.OUTBOX, False, 0, "out"), item(d.SENT_ITEMS, False, 1, "copy")], at(9), d.ALREADY_SENT, "copy"),
    ([item(d.DRAFTS, False, 0, "left")], None, d.ALREADY_SENT, "left"),
    ([item(d.DRAFTS, True, 10.2, "d")], None, d.WAIT, "d"),                     # no clock read before the search
    ([item(d.DRAFTS, True, 10.2, "d")], at(10), d.WAIT, "d"),                   # the same second: not settled
    ([item(d.DRAFTS, True, 10.9, "d")], at(10), d.WAIT, "d"),
    ([item(d.DRAFTS, True, 10.2, "d")], at(11), d.SEND, "d"),                   # the clock passed its second
    ([item(d.DRAFTS, True, 11, "late"), item(d.DRAFTS, True, 10.7, "early")], at(12), d.SEND, "early"),
    ([item(d.DRAFTS, True, 10.1, "B"), item(d.DRAFTS, True, 10.8, "A")], at(12), d.SEND, "A"),  # same second: id
    ([item(d.DRAFTS, True, 10, "B"), item(d.DRAFTS, True, 12, "A")], at(11), d.SEND, "B"),
    ([item(d.DRAFTS, True, 12, "B"), item(d.DRAFTS, True, 10, "A")], at(12), d.SEND, "A"),
])
def test_election(found, clock, kind, chosen):
    step = d.elect(found, clock)
    assert step.kind == kind
    assert (step.item.id if step.item is not None else None) == chosen


class Server:
    """A model of the mailbox: drafts with their creation time, submitted messages, one clock."""

    def __init__(self):
        self.now = 0.0
        self.drafts = {}          # id -> created (seconds)
        self.submitted = []       # ids of drafts that were sent
        self.next_id = 0

    def date(self):
        """The HTTP Date of an answer given now: whole seconds."""
        return float(math.floor(self.now))

    def search(self):
        found = [d.Found(d.DRAFTS, True, at(created), item_id) for item_id, created in self.drafts.items()]
        found += [d.Found(d.SENT_ITEMS, False, at(0), "copy-of-" + item_id) for item_id in self.submitted]
        return found


class Run:
    """One run of the task as a state machine over the model; each ``step`` is one request.

    ``elect`` is the function under test; ``crash_at`` stops the run after that many requests.
    """

    def __init__(self, name, elect, crash_at=None):
        self.name = name
        self.elect = elect
        self.crash_at = crash_at
        self.requests = 0
        self.clock = None        # the Date of the last answer this run received
        self.own = None
        self.state = "search"
        self.waiting_for = None
        self.outcome = None

    def step(self, server):
        self.requests += 1
        if self.crash_at is not None and self.requests > self.crash_at:
            self.outcome = "crashed"
            return
        getattr(self, "_" + self.state)(server)
        self.clock = server.date()

    def _search(self, server):
        step = self.elect(server.search(), at(self.clock) if self.clock is not None else None)
        if step.kind == d.ALREADY_SENT:
            self.state = "delete_own_then_done" if self.own in server.drafts else "done"
            self.outcome = self.outcome or "already_sent"
        elif step.kind == d.CREATE:
            self.state = "create"
        elif step.kind == d.WAIT:
            self.state, self.waiting_for = "probe", step.item.id
        else:
            self.waiting_for = step.item.id
            self.state = "delete_own" if self.own not in (None, step.item.id) and self.own in server.drafts \
                else "send"

    def _create(self, server):
        server.next_id += 1
        self.own = "%s-%02d" % (self.name, server.next_id)
        server.drafts[self.own] = server.now
        self.state, self.waiting_for = "probe", self.own

    def _probe(self, server):
        self.state = "search"       # the probe's answer carries the Date the next search is judged by

    def _delete_own(self, server):
        server.drafts.pop(self.own, None)
        self.own = None
        self.state = "send"

    def _send(self, server):
        # ExactlyOnceSender: the draft is sent at most once; one already gone is not sent (search again).
        if self.waiting_for in server.drafts:
            del server.drafts[self.waiting_for]
            server.submitted.append(self.waiting_for)
            self.outcome = "sent"
            self.state = "done"
        else:
            self.state = "search"

    def _delete_own_then_done(self, server):
        server.drafts.pop(self.own, None)
        self.state = "done"

    def _done(self, server):
        pass


def simulate(seed, elect, runs=8, crash_rate=0.0):
    """Runs started at random times, each request at a random later instant: ``(server, runs)``."""
    rng = random.Random(seed)
    server = Server()
    server.now = rng.uniform(0, 1)
    started = [Run("r%d" % index, elect, crash_at=rng.randint(1, 6) if rng.random() < crash_rate else None)
               for index in range(runs)]
    due = dict((run, server.now + rng.uniform(0, 2.5)) for run in started)
    for _request in range(2000):
        active = [run for run in started if run.state != "done" and run.outcome != "crashed"]
        if not active:
            break
        run = min(active, key=lambda r: due[r])
        server.now = max(server.now, due[run])
        run.step(server)
        due[run] = server.now + rng.expovariate(4.0) + (rng.uniform(0.3, 1.2) if run.state == "search" else 0)
    return server, started


def naive_elect(found, clock):
    """The election without the clock rule: send the first draft of any search."""
    step = d.elect(found, clock)
    return d.Step(d.SEND, step.item) if step.kind == d.WAIT else step


@pytest.mark.parametrize("seed", range(300))
def test_concurrent_runs_send_one_message_and_all_end_knowing_it(seed):
    server, runs = simulate(seed, d.elect)
    assert len(server.submitted) == 1, server.submitted
    assert sorted(run.outcome for run in runs) == ["already_sent"] * 7 + ["sent"]
    assert server.drafts == {}          # every loser deleted its own draft


@pytest.mark.parametrize("seed", range(300))
def test_runs_that_crash_never_cause_a_second_send(seed):
    server, runs = simulate(seed, d.elect, crash_rate=0.5)
    assert len(server.submitted) <= 1, server.submitted
    survivors = [run for run in runs if run.outcome != "crashed"]
    if survivors:
        assert len(server.submitted) == 1
        assert [run.outcome for run in survivors].count("sent") <= 1


def test_without_the_clock_rule_concurrent_runs_do_send_twice():
    """The rule is needed: electing the first draft of a search without waiting sends two messages
    under some schedules (so the model above can tell a safe election from an unsafe one)."""
    doubles = [seed for seed in range(300) if len(simulate(seed, naive_elect)[0].submitted) > 1]
    assert doubles


# -- attachments ----------------------------------------------------------------------------------

@pytest.mark.parametrize("desired, present, recorded, keep, delete, add", [
    ({}, [], {}, [], [], []),
    ({"a": "1"}, [], {}, [], [], ["a"]),                                        # new
    ({"a": "1"}, [("id-a", "a")], {"a": "1"}, ["a"], [], []),                    # unchanged: not uploaded again
    ({"a": "2"}, [("id-a", "a")], {"a": "1"}, [], ["id-a"], ["a"]),              # changed: replaced
    ({}, [("id-a", "a")], {"a": "1"}, [], ["id-a"], []),                         # removed
    ({"a": "1"}, [("id-a", "a")], {}, [], ["id-a"], ["a"]),                      # not recorded: unknown content
    ({"a": "1"}, [("id-1", "a"), ("id-2", "a")], {"a": "1"}, [], ["id-1", "id-2"], ["a"]),   # two of one name
    ({"a": "1", "b": "2"}, [("id-b", "b"), ("id-x", "x")], {"b": "2", "x": "9"}, ["b"], ["id-x"], ["a"]),
])
def test_plan_attachments(desired, present, recorded, keep, delete, add):
    assert d.plan_attachments(desired, present, recorded) == (keep, delete, add)


def test_changed_fields_in_option_order_only_for_managed_options():
    names = ["subject", "body", "to", "attachments"]
    desired = {"to": ["a@x.example"], "subject": "new", "attachments": {}}
    current = {"subject": "old", "to": ["a@x.example"], "body": "x"}
    assert d.changed_fields(desired, current, names) == ["subject", "attachments"]


# -- sizes --------------------------------------------------------------------------------------

@pytest.mark.parametrize("size, encoded, in_mime", [(0, 0, 0), (1, 4, 6), (3, 4, 6), (57, 76, 78), (58, 80, 84)])
def test_base64_and_mime_sizes(size, encoded, in_mime):
    assert (d.base64_size(size), d.mime_size(size)) == (encoded, in_mime)


def test_a_file_of_the_send_limit_does_not_fit_under_it():
    """Base64 makes an attachment about a third bigger than the file (Exchange's documentation)."""
    limit = 10 * 1024 * 1024
    assert d.estimated_send_size(100, [7 * 1024 * 1024]) < limit < d.estimated_send_size(100, [8 * 1024 * 1024])


def test_uploads_fit_in_one_request_or_are_split_and_the_too_big_named():
    mib = 1024 * 1024
    assert d.fits_in_one_request(1000, [10 * mib, 20 * mib], 64 * mib)
    assert not d.fits_in_one_request(1000, [30 * mib, 30 * mib], 64 * mib)
    assert d.upload_batches([30 * mib, 30 * mib, 1 * mib, 60 * mib], 64 * mib) == ([[0], [1, 2]], [3])
    assert d.upload_batches([], 64 * mib) == ([], [])
