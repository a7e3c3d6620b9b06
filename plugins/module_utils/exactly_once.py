# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Send drafts exactly once: the protocol of docs/exactly-once.md.

Per batch: 1 read, 2 stamp (a compare-and-set on the ChangeKey), 3 send
(with the stamp's ChangeKey), 4 verify (only where a delegate quirk is
possible), 5 account for ids that are gone (one search by marker over the
Outbox and the saved folder). Each step is one request for the whole batch,
made by a channel (``ews_channel.EwsChannel``, ``graph_channel.GraphChannel``):
this module decides, the channel asks. What step 1 saw is classified by
``send_decisions.decide``; what step 5 found by ``send_decisions.judge_copies``.

Usage::

    sender = ExactlyOnceSender(EwsChannel(client, save_copy=True), deadline=900,
                               concurrency=4, channel_factory=lambda: EwsChannel(new_client()))
    results = sender.send([ItemRef.from_raw(entry, index) for index, entry in enumerate(raw)])
    sender.warnings        # human warnings (delegate quirks, long waits)
    sender.request_error   # the request-level failure that stopped the run, or None

Each result is a dict: ``id``, ``status`` (``sent``, ``already_sent``,
``would_send``, ``missing``, ``failed``), ``response_class``,
``response_code``, ``message_text``, ``subject``, ``to``, in input order.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading
import time
import uuid

from ansible_collections.exchange.ews.plugins.module_utils import properties
from ansible_collections.exchange.ews.plugins.module_utils import send_decisions as d
from ansible_collections.exchange.ews.plugins.module_utils.errors import (
    EwsConfigError,
    EwsError,
    EwsFault,
    EwsTransportError,
)
from ansible_collections.exchange.ews.plugins.module_utils.properties import SendState
from ansible_collections.exchange.ews.plugins.module_utils.validation import validate_change_key, validate_item_id

STATUSES = ("sent", "already_sent", "would_send", "missing", "failed")

NOT_FOUND = "ErrorItemNotFound"
# Item-level answers to a stamp or a send that mean "someone else wrote it first": read again.
# Not counted against reread_limit: they end when the other writer stops, and the deadline bounds them.
CONFLICT_CODES = frozenset(("ErrorIrresolvableConflict", "ErrorStaleObject", NOT_FOUND))
# Item-level answers that mean "not processed, the server is in trouble": read again, counted. Exchange's, and
# for Graph a request of a $batch throttled beyond the retries (429 TooManyRequests / ApplicationThrottled,
# 503) or not sent because an earlier batch of the step failed (the collection's EwsUnavailable).
TROUBLE_CODES = frozenset(("ErrorServerBusy", "ErrorBatchProcessingStopped", "TooManyRequests", "ApplicationThrottled",
                           "ServiceUnavailable", "EwsUnavailable", "EwsThrottled", "EwsNotSent"))

# The collection's own ResponseCodes (docs/user-guide.md lists them with the Exchange ones).
NOT_A_DRAFT_CODE = "EwsNotADraft"
CLAIMED_CODE = "EwsClaimedByAnotherRun"
# Also item-level: a backend whose requests are batched (Graph) loses the answers of some items only.
LOST_CODE = "EwsResponseLost"
DEADLINE_CODE = "EwsDeadlineExceeded"
STALE_CODE = "ErrorStaleObject"

QUIRK_WARNING = (
    "Exchange answered Success to SendItem but left %d draft(s) behind (%s). This is the documented delegate "
    "behaviour when the saved-copy folder is not in the draft's own mailbox: the message went out, the draft "
    "is no longer sendable by this module, and no copy was saved. To keep a copy, set "
    "mailbox to the mailbox that owns the drafts (the principal's SMTP address).")


class ItemRef:
    """One id to send: ``id``, the optional ``change_key`` the caller saw, and what a lookup said of it.

    ``unclaimed_draft``: the caller read it, at ``change_key``, as a draft that no run had claimed or sent
    (the draft_ids lookup's ``is_draft`` true and ``send_state`` none or released); ``mailbox``: the mailbox
    it was found in (None for the connecting one); ``subject``, ``to``: for the results.
    """

    __slots__ = ("id", "change_key", "unclaimed_draft", "mailbox", "subject", "to")

    def __init__(self, item_id_, change_key=None, unclaimed_draft=False, mailbox=None, subject=None, to=None):
        self.id = item_id_
        self.change_key = change_key
        self.unclaimed_draft = unclaimed_draft
        self.mailbox = mailbox
        self.subject = subject
        self.to = to

    @classmethod
    def from_raw(cls, entry, index):
        """Accept a string id or a dict with ``id`` and optional ``change_key``.

        Other keys are ignored, so the draft_ids lookup's output (which adds
        subject, to, created...) passes unchanged. Raises ``EwsConfigError``
        naming the entry and its position.
        """
        if isinstance(entry, str):
            value, change_key, known = entry, None, {}
        elif isinstance(entry, dict):
            value, change_key, known = entry.get("id"), entry.get("change_key"), entry
        else:
            value, change_key, known = None, None, {}
        if not isinstance(value, str) or not value.strip() or (
                change_key is not None and not isinstance(change_key, str)):
            raise EwsConfigError(
                "item_ids[%d] is not an item id: expected a string or a dict with keys id and optional "
                "change_key, got %r" % (index, _short(entry)))
        where = "item_ids[%d]" % index
        value = validate_item_id(value.strip(), where + (".id" if known else ""))
        if change_key:
            validate_change_key(change_key, where + ".change_key")
        to = known.get("to")
        unclaimed = known.get("is_draft") is True and known.get("send_state") in (None, properties.RELEASED)
        return cls(value, change_key or None, unclaimed_draft=bool(change_key) and unclaimed,
                   mailbox=known.get("mailbox") or None,
                   subject=known.get("subject") if isinstance(known.get("subject"), str) else None,
                   to=[str(name) for name in to] if isinstance(to, list) else None)


def _short(value, limit=120):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def distinct_items(refs):
    """One ``_Item`` per distinct id, in first-seen order. Raises ``EwsConfigError`` when one id comes
    with two different change keys: it cannot be unchanged since both."""
    items = {}
    for index, ref in enumerate(refs):
        item = items.get(ref.id)
        if item is None:
            items[ref.id] = _Item(ref, index)
        elif ref.change_key and item.ref.change_key and ref.change_key != item.ref.change_key:
            raise EwsConfigError(
                "item_ids[%d] and item_ids[%d] name the same id with different change_key values; a draft cannot "
                "be unchanged since both: give it once" % (item.position, index))
        elif ref.change_key and not item.ref.change_key:
            item.ref = ref
    return items


def not_processed(error):
    """True when a request-level error proves Exchange processed nothing of the request.

    A SOAP fault (ErrorServerBusy included), HTTP 503, an authentication or policy
    refusal, a connection never opened (``EwsTransportError``), or options refused
    before any request. Anything
    else after the request was written may hide a commit: a lost response.
    """
    return isinstance(error, (EwsFault, EwsTransportError, EwsConfigError))


class _Item:
    """Protocol state of one distinct id."""

    __slots__ = ("ref", "position", "marker", "change_key", "own_keys", "result", "rereads", "our_send", "quirk",
                 "watch", "problem", "stamp_unknown", "parent_folder", "took_over", "subject", "to")

    def __init__(self, ref, position):
        self.ref = ref
        self.position = position
        self.marker = properties.marker_for(ref.id)
        self.change_key = None      # the current ChangeKey, as last read or written
        self.own_keys = set()       # every ChangeKey one of this run's stamps produced
        self.result = None
        self.rereads = 0            # returns to step 1 after a lost response, a Warning or ErrorServerBusy
        self.our_send = False       # a SendItem of this run may have processed it
        self.quirk = False          # sent, and left behind by Exchange
        self.watch = None           # (ChangeKey of another run's claim, when this run first saw it)
        self.problem = None         # (ResponseClass, ResponseCode, text) of the latest setback
        self.stamp_unknown = False  # this run's latest stamp was answered by a lost response
        self.parent_folder = None   # the folder the read found it in
        self.took_over = False      # this run claimed it over another run's (expired) claim
        self.subject = ref.subject
        self.to = ref.to

    def finish(self, status, response_class, response_code, message_text=None):
        self.result = {"id": self.ref.id, "status": status, "response_class": response_class,
                       "response_code": response_code, "message_text": message_text,
                       "subject": self.subject, "to": self.to}

    def fail(self, response_code, message_text, response_class="Error"):
        if self.our_send:
            message_text += "; this run's send of it may have gone out"
        self.finish("failed", response_class, response_code, message_text)


class ExactlyOnceSender:
    """Runs the protocol for a list of ``ItemRef`` (see module docstring).

    ``channel``: the connection the first batches run on (``EwsChannel``,
    ``GraphChannel``). ``batch_size``: ids per request. ``concurrency``:
    batches run at the same time, each on its own channel from
    ``channel_factory``; throttling lowers it. ``pending_timeout``: seconds
    after which another run's claim is taken over. ``reread_limit``: how often
    an item goes back to step 1 after a lost response, a Warning or an
    item-level ErrorServerBusy. ``deadline``: seconds the whole run may take.
    ``started``: when the deadline began, on ``clock`` (the task's start; now by default).
    ``check_mode``: read only. Waits (claims, throttling) longer than
    ``wait_warning_after`` seconds in all are reported in a warning.
    ``sleep``/``clock`` are injectable for tests.
    """

    def __init__(self, channel, batch_size=100, concurrency=1, channel_factory=None, pending_timeout=120,
                 reread_limit=5, deadline=900, started=None, check_mode=False, poll_interval=1.0,
                 wait_warning_after=5.0, sleep=time.sleep, clock=time.monotonic):
        self.channel = channel
        self.channel_factory = channel_factory
        self.batch_size = batch_size
        self.concurrency = concurrency if channel_factory is not None else 1
        self.pending_timeout = pending_timeout
        self.reread_limit = reread_limit
        self.deadline = deadline
        self.check_mode = check_mode
        self.poll_interval = poll_interval
        self.wait_warning_after = wait_warning_after
        self._sleep = sleep
        self._clock = clock
        self._started = started
        self._ends_at = None
        self._lock = threading.Lock()
        self._slots = None
        self.run_token = uuid.uuid4().hex[:16]
        self.warnings = []
        self.request_error = None
        self.may_have_sent = False   # a failed item's send may have gone out (changed is then true)
        self.waited_for_claims = 0.0
        self.waited_for_throttling = 0.0

    # -- public -------------------------------------------------------------------------------

    def send(self, refs):
        """Results (dicts, see module docstring) for ``refs``, in input order; duplicates share one result."""
        distinct = distinct_items(refs)
        self._ends_at = (self._clock() if self._started is None else self._started) + self.deadline
        items = list(distinct.values())
        batches = [items[start:start + self.batch_size] for start in range(0, len(items), self.batch_size)]
        workers = min(self.concurrency, len(batches))
        self._slots = _AdaptiveSlots(workers)
        if workers <= 1:
            self._work(self.channel, iter(batches))
        else:
            self._work_concurrently(batches, workers)
        self._report_quirks(items)
        self._report_waits()
        self.may_have_sent = any(i.our_send and i.result["status"] == "failed" for i in items)
        return [dict(distinct[ref.id].result) for ref in refs]

    def _work_concurrently(self, batches, workers):
        queue = iter(batches)
        channels = [self.channel] + [self.channel_factory() for _index in range(workers - 1)]
        threads = [threading.Thread(target=self._work, args=(channel, queue), name="exactly-once-%d" % index)
                   for index, channel in enumerate(channels)]
        try:
            for thread in threads:
                thread.start()
        finally:
            for thread in threads:
                if thread.ident is not None:
                    thread.join()
            for channel in channels[1:]:
                channel.close()

    def _work(self, channel, batches):
        """Take batches until none are left; each on this channel."""
        channel.end_by(self._ends_at)
        channel.tag(self.run_token)
        throttled_seen = len(channel.retry_log)
        while True:
            with self._lock:
                batch = next(batches, None)
            if batch is None:
                return
            if self.request_error is not None:
                self._stopped(batch)
                continue
            with self._slots:
                try:
                    self._run_batch(channel, batch)
                except Exception as exc:   # pylint: disable=broad-exception-caught
                    # A request-level failure (authentication, TLS, a fault after the retries) would fail
                    # every later request too, so the run stops here, once; so does an unexpected error,
                    # and every result is still reported.
                    with self._lock:
                        if self.request_error is None:
                            self.request_error = exc if isinstance(exc, EwsError) else EwsError(
                                "unexpected %s: %s" % (type(exc).__name__, exc))
                    self._stopped(batch)
            throttled_seen = self._note_throttling(channel, throttled_seen)

    def _note_throttling(self, channel, seen):
        """Throttling waits since the last batch on this channel: counted, and one fewer concurrent batch."""
        new = channel.retry_log[seen:]
        if new:
            with self._lock:
                self.waited_for_throttling += sum(delay for _operation, _reason, delay in new)
            self._slots.shrink()
        return seen + len(new)

    def _stopped(self, batch):
        exc = self.request_error
        for item in batch:
            if item.result is None:
                item.fail(exc.response_code or type(exc).__name__, "not settled: the run stopped at a request-level "
                          "failure (%s)" % exc.message_text)

    # -- one batch ---------------------------------------------------------------------------

    def _run_batch(self, channel, batch):
        # Entries the caller read as unclaimed drafts, with their ChangeKey (the draft_ids lookup's), skip the
        # read: the stamp's compare-and-set proves them unchanged since, so still drafts (docs: round trips).
        # Only where the stamp is a compare-and-set (on Graph, when it honours If-Match).
        direct = [i for i in batch if i.ref.unclaimed_draft and not self.check_mode and channel.stamps_compare_and_set]
        for item in direct:
            item.change_key = item.ref.change_key
        pending = self._stamp_and_send(channel, direct) if direct else []
        pending += [i for i in batch if i not in direct]
        while pending:
            if self._clock() >= self._ends_at:
                for item in pending:
                    self._fail_at_deadline(item)
                return
            try:
                to_send, waiting, retry = self._read(channel, pending)
            except EwsError as exc:
                if not_processed(exc):
                    raise
                # A read whose answer was lost twice (the service repeats it once): count it, read again.
                for item in pending:
                    self._back_to_read(item, "Error", LOST_CODE, str(exc), counted=True)
                pending = [i for i in pending if i.result is None]
                continue
            if self.check_mode:
                for item in to_send + waiting:
                    item.finish("would_send", "Success", "NoError",
                                "claimed by another run right now" if item in waiting else None)
                pending = retry
                continue
            retry.extend(self._stamp_and_send(channel, to_send))
            if waiting and not retry:
                self._wait()
            pending = retry + waiting

    def _fail_at_deadline(self, item):
        response_class, code, text = item.problem or ("Error", DEADLINE_CODE, "")
        item.fail(code, "not settled within the deadline of %d s%s" % (self.deadline, ": " + text if text else ""),
                  response_class=response_class)

    def _wait(self):
        delay = max(0.0, min(self.poll_interval, self._ends_at - self._clock()))
        self._sleep(delay)
        with self._lock:
            self.waited_for_claims += delay

    def _read(self, channel, items):
        """Step 1 (and step 5 for the ids that are gone). Returns (to send, waiting, to read again); settles the rest."""
        read = channel.read([i.ref.id for i in items])
        server_now = channel.server_time
        to_send, waiting, again, to_recover, to_release = [], [], [], [], []
        for item, found in zip(items, read):
            if found.response_code == NOT_FOUND:
                to_recover.append(item)
                continue
            if found.response_code in TROUBLE_CODES or found.response_code == LOST_CODE:
                if self._back_to_read(item, found.response_class, found.response_code, found.message_text,
                                      counted=True):
                    again.append(item)
                continue
            if found.response_class != "Success":
                item.fail(found.response_code, found.message_text or "the item could not be read",
                          response_class=found.response_class)
                continue
            item.change_key = found.change_key
            item.parent_folder = found.parent_folder
            item.subject = found.subject or ""
            item.to = found.to
            state = SendState.parse(found.state)
            observation = d.observe(
                is_draft=found.is_draft, marker=found.marker, expected_marker=item.marker, state=state,
                run_token=self.run_token, current_key=item.change_key, caller_key=item.ref.change_key,
                own_keys=item.own_keys,
                claim_live=not self._claim_expired(item, state, found.last_modified, server_now),
                our_send=item.our_send)
            decision, why = d.decide(observation)
            if decision == d.SEND:
                item.took_over = item.took_over or observation.owner == "other"
                to_send.append(item)
            elif decision == d.WAIT:
                item.problem = ("Error", CLAIMED_CODE, "%s (claim %s)" % (why, state.kind if state else "none"))
                waiting.append(item)
            elif decision == d.SENT:
                item.quirk = True
                item.finish("sent", "Success", "NoError", why)
            elif decision == d.ALREADY_SENT:
                item.finish("already_sent", "Success", "NoError", why)
            elif decision == d.NOT_A_DRAFT:
                item.finish("failed", "Error", NOT_A_DRAFT_CODE, why)
            else:  # STALE
                if item.stamp_unknown and observation.owner == "self":
                    why = ("this run's stamp was answered by a lost response, so its ChangeKey is unknown and the "
                           "draft cannot be shown unchanged since change_key; look it up again")
                item.fail(STALE_CODE, why + " (current ChangeKey differs); not sent")
                if observation.owner == "self":
                    to_release.append(item)
        if to_recover:
            self._recover(channel, to_recover)
        if to_release and not self.check_mode:
            self._release(channel, to_release)
        return to_send, waiting, again

    def _claim_expired(self, item, state, last_modified, server_now):
        """Age another run's pending claim on the server's clock, and by how long this run has watched it."""
        if state is None or state.kind != properties.PENDING or state.run_token == self.run_token:
            item.watch = None
            return False
        now = self._clock()
        if item.watch is None or item.watch[0] != item.change_key:
            item.watch = (item.change_key, now)
        server_age = None
        if last_modified is not None and server_now is not None:
            server_age = (server_now - last_modified).total_seconds()
        return d.claim_expired(server_age, now - item.watch[1], self.pending_timeout)

    def _back_to_read(self, item, response_class, response_code, text, counted):
        """Send ``item`` back to step 1 after a setback; True unless it has used up its re-reads (then failed)."""
        item.problem = (response_class, response_code, text or response_code)
        if counted:
            item.rereads += 1
            if item.rereads > self.reread_limit:
                item.fail(response_code, "%s, %d times" % (text or response_code, item.rereads),
                          response_class=response_class)
                return False
        return True

    def _answer_lost(self, items, exc, retry, what_may_have_happened):
        """A write's answer was lost: flag what may have happened (``stamp_unknown`` / ``our_send``) on each
        item, and send it back to step 1, counted."""
        for item in items:
            setattr(item, what_may_have_happened, True)
            if self._back_to_read(item, "Error", LOST_CODE, str(exc), counted=True):
                retry.append(item)

    def _setback(self, item, answer, retry, gone):
        """An item-level answer other than Success to a stamp or a send: this request did not process the item.

        Gone (ErrorItemNotFound): straight to step 5. A conflict, a Warning or ErrorServerBusy: back to step 1.
        True when the answer was one of those; False for a refusal (the caller fails the item).
        """
        code = answer.response_code
        if code == NOT_FOUND:
            gone.append(item)
        elif code in CONFLICT_CODES or code in TROUBLE_CODES:
            if self._back_to_read(item, answer.response_class, code, answer.message_text,
                                  counted=code not in CONFLICT_CODES):
                retry.append(item)
        else:
            return False
        return True

    def _stamp_and_send(self, channel, items):
        """Steps 2-4 (and 5 for items found gone). Returns the items that go back to step 1."""
        retry, gone = [], []
        to_stamp = [i for i in items if i.change_key not in i.own_keys]
        to_send = [i for i in items if i.change_key in i.own_keys]   # this run's claim is intact: send as is
        if to_stamp:
            self._stamp(channel, to_stamp, to_send, retry, gone)
        if to_send:
            self._send_stamped(channel, to_send, retry, gone)
        if gone:
            self._recover(channel, gone)
        return retry

    def _stamp(self, channel, items, to_send, retry, gone):
        """Step 2: one compare-and-set write of the marker and this run's claim; stamped items join ``to_send``."""
        stamp = properties.state_value(properties.PENDING, self.run_token, time.time())
        try:
            answers = channel.write_state([(i.ref.id, i.change_key, i.marker, stamp) for i in items])
        except EwsError as exc:
            if not_processed(exc):
                raise
            # Whether the stamp landed or not, step 1 tells: a stamp is harmless to repeat.
            self._answer_lost(items, exc, retry, "stamp_unknown")
            return
        for item, answer in zip(items, answers):
            if answer.response_class == "Success":
                item.change_key = answer.change_key
                item.own_keys.add(item.change_key)
                item.stamp_unknown = False
                to_send.append(item)
            elif answer.response_code == LOST_CODE:
                item.stamp_unknown = True
                if self._back_to_read(item, "Error", LOST_CODE, answer.message_text, counted=True):
                    retry.append(item)
            elif not self._setback(item, answer, retry, gone):
                item.fail(answer.response_code, answer.message_text or "the draft could not be stamped",
                          response_class=answer.response_class)

    def _send_stamped(self, channel, items, retry, gone):
        """Steps 3-4: one send with the stamps' ChangeKeys, then verify what answered Success."""
        try:
            answers = channel.send([(i.ref.id, i.change_key) for i in items])
        except EwsError as exc:
            if not_processed(exc):
                # Exchange refused the whole request: nothing went out. Free the claims for the next run.
                self._release(channel, items)
                raise
            # The send may have happened: never repeat it blindly, read again (docs: Faults).
            self._answer_lost(items, exc, retry, "our_send")
            return
        refused, sent = [], []
        for item, answer in zip(items, answers):
            if answer.response_class == "Success":
                item.our_send = True
                item.finish("sent", "Success", answer.response_code, answer.message_text)
                sent.append(item)
            elif answer.response_code == LOST_CODE:
                item.our_send = True
                if self._back_to_read(item, "Error", LOST_CODE, answer.message_text, counted=True):
                    retry.append(item)
            elif not self._setback(item, answer, retry, gone):
                item.fail(answer.response_code, answer.message_text or "Exchange refused to send it",
                          response_class=answer.response_class)
                refused.append(item)
        if refused:
            self._release(channel, refused)
        quirk_possible = [i for i in sent if channel.quirk_possible(i.ref, i.parent_folder)]
        if quirk_possible:
            self._verify(channel, quirk_possible)

    def _release(self, channel, items):
        """Free this run's claims after a refusal, so the next run need not wait pending_timeout.

        A compare-and-set on the ChangeKey this run holds: a claim another run took over is never touched.
        Best effort: a claim left behind only makes the next run wait.
        """
        released = properties.state_value(properties.RELEASED, self.run_token, time.time())
        try:
            channel.write_state([(i.ref.id, i.change_key, None, released) for i in items])
        except EwsError:
            pass

    def _verify(self, channel, items):
        """Step 4: a sent draft is gone; one still there was left behind by a delegate quirk."""
        try:
            found = channel.read([i.ref.id for i in items], full=False)
        except EwsError as exc:
            if not_processed(exc):
                raise
            # The sends stand (Exchange answered Success); only a left-behind draft goes unnoticed.
            self.warnings.append("could not check whether Exchange left %d sent draft(s) behind (%s): if any is "
                                 "still in Drafts, delete it" % (len(items), exc))
            return
        still_drafts = []
        for item, read in zip(items, found):
            if read.response_class != "Success":
                continue  # gone (ErrorItemNotFound): the normal case
            item.quirk = True
            item.change_key = read.change_key
            if read.is_draft:
                still_drafts.append(item)
        if still_drafts:
            self._stamp_sent(channel, still_drafts)

    def _stamp_sent(self, channel, items):
        """A draft Exchange left behind as a draft after Success: stamp it ``sent`` (compare-and-set) so that
        no later run sends it again."""
        stamp = properties.state_value(properties.SENT, self.run_token, time.time())
        try:
            answers = channel.write_state([(i.ref.id, i.change_key, None, stamp) for i in items])
            failures = [(i, "%s: %s" % (a.response_code, a.message_text))
                        for i, a in zip(items, answers) if a.response_class != "Success"]
        except EwsError as exc:
            failures = [(i, str(exc)) for i in items]
        for item, reason in failures:
            self.warnings.append(
                "item %s was sent but Exchange left it as a draft, and stamping it as sent failed (%s): do not "
                "send it again; delete it" % (_abbrev(item.ref.id), reason))

    def _recover(self, channel, items):
        """Step 5: one search by marker over the Outbox and the saved folder settles the ids that are gone."""
        copies = dict((i.marker, []) for i in items)
        for copy in channel.find_copies(list(copies)):
            if copy.marker in copies:
                copies[copy.marker].append(copy)
        for item in items:
            self._settle_gone(channel, item, copies[item.marker])

    def _settle_gone(self, channel, item, found):
        judged = [d.Copy(is_draft=copy.is_draft, in_outbox=copy.in_outbox, state=SendState.parse(copy.state))
                  for copy in found]
        # No other run can send under this run's stamp where the send checks the stamp's ChangeKey (EWS), or
        # where stamps are compare-and-set writes and this run took over no other run's claim (Graph).
        exclusive = channel.send_checks_key or (channel.stamps_compare_and_set and not item.took_over)
        outcome, why, proof = d.judge_copies(judged, self.run_token, item.our_send, exclusive=exclusive,
                                             send_checked=channel.send_checks_key)
        if proof is not None:
            copy = found[judged.index(proof)]
            item.subject = copy.subject or "" if item.subject is None else item.subject
            item.to = copy.to if item.to is None else item.to
        if outcome == d.SENT:
            item.finish("sent", "Success", "NoError", why)
        elif outcome == d.ALREADY_SENT:
            item.finish("already_sent", "Success", "NoError", why)
        elif outcome == d.UNKNOWN:
            unprovable = "" if channel.save_copy else "; with save_copy false no copy can prove it"
            item.finish("failed", "Error", LOST_CODE, why + unprovable)
        else:
            moved = "; a draft carrying its marker was moved elsewhere and is still a draft" if found else ""
            item.finish("missing", "Error", NOT_FOUND, why + moved)

    # -- reporting ---------------------------------------------------------------------------

    def _report_quirks(self, items):
        quirks = [item.ref.id for item in items if item.quirk]
        if quirks:
            self.warnings.append(QUIRK_WARNING % (len(quirks), ", ".join(_abbrev(i) for i in quirks[:5])
                                                  + (", ..." if len(quirks) > 5 else "")))

    def _report_waits(self):
        throttled = self.waited_for_throttling
        if self.waited_for_claims + throttled > self.wait_warning_after:
            self.warnings.append(
                "waited %.0f s in all: %.0f s for drafts claimed by other runs, %.0f s for Exchange throttling "
                "(ErrorServerBusy / HTTP 503)" % (self.waited_for_claims + throttled, self.waited_for_claims, throttled))


class _AdaptiveSlots:
    """How many batches may run at once: starts at ``limit``, one fewer each time Exchange throttles, never 0."""

    def __init__(self, limit):
        self._limit = max(1, limit)
        self._active = 0
        self._condition = threading.Condition()

    def shrink(self):
        with self._condition:
            self._limit = max(1, self._limit - 1)

    def __enter__(self):
        with self._condition:
            while self._active >= self._limit:
                self._condition.wait()
            self._active += 1

    def __exit__(self, *exc_info):
        with self._condition:
            self._active -= 1
            self._condition.notify_all()


def _abbrev(item_id_):
    return item_id_ if len(item_id_) <= 24 else item_id_[:10] + "..." + item_id_[-10:]
