# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Send drafts exactly once: the protocol of docs/exactly-once.md.

Per batch: 1 read (GetItem), 2 stamp (UpdateItem, compare-and-set on the
ChangeKey), 3 send (SendItem with the stamp's ChangeKey), 4 verify (GetItem),
5 account for ids that are gone (one FindItem by marker over the Outbox and
the saved folder). Each step is one request for the whole batch. What step 1
saw is classified by ``send_decisions.decide``; what step 5 found by
``send_decisions.judge_copies``.

Usage::

    sender = ExactlyOnceSender(client, save_copy=True, saved_item_folder="sentitems", deadline=900)
    results = sender.send([ItemRef.from_raw(entry, index) for index, entry in enumerate(raw)])
    sender.warnings        # human warnings (delegate quirks, long waits)
    sender.request_error   # the request-level failure that stopped the run, or None

Each result is a dict: ``id``, ``status`` (``sent``, ``already_sent``,
``would_send``, ``missing``, ``failed``), ``response_class``,
``response_code``, ``message_text``, ``subject``, ``to``, in input order.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time
import uuid

from ansible_collections.exchange.ews.plugins.module_utils import properties
from ansible_collections.exchange.ews.plugins.module_utils import restrictions
from ansible_collections.exchange.ews.plugins.module_utils import send_decisions as d
from ansible_collections.exchange.ews.plugins.module_utils.errors import (
    EwsAuthError,
    EwsConfigError,
    EwsError,
    EwsFault,
    EwsNotSent,
    EwsUnavailable,
)
from ansible_collections.exchange.ews.plugins.module_utils.ews_schema import T
from ansible_collections.exchange.ews.plugins.module_utils.properties import SendState
from ansible_collections.exchange.ews.plugins.module_utils.responses import (
    bool_field,
    extended_properties,
    first_item,
    item_id,
    parse_datetime,
)
from ansible_collections.exchange.ews.plugins.module_utils.services.find_item import FindItem, folder_id
from ansible_collections.exchange.ews.plugins.module_utils.services.get_item import GetItem
from ansible_collections.exchange.ews.plugins.module_utils.services.send_item import SendItem
from ansible_collections.exchange.ews.plugins.module_utils.services.update_item import UpdateItem

STATUSES = ("sent", "already_sent", "would_send", "missing", "failed")

NOT_FOUND = "ErrorItemNotFound"
# Item-level answers to a stamp or a send that mean "someone else wrote it first": read again.
# Not counted against reread_limit: they end when the other writer stops, and the deadline bounds them.
CONFLICT_CODES = frozenset(("ErrorIrresolvableConflict", "ErrorStaleObject", NOT_FOUND))
# Item-level answers that mean "not processed, the server is in trouble": read again, counted.
TROUBLE_CODES = frozenset(("ErrorServerBusy", "ErrorBatchProcessingStopped"))

# The collection's own ResponseCodes (docs/user-guide.md lists them with the Exchange ones).
NOT_A_DRAFT_CODE = "EwsNotADraft"
CLAIMED_CODE = "EwsClaimedByAnotherRun"
LOST_CODE = "EwsResponseLost"
DEADLINE_CODE = "EwsDeadlineExceeded"
STALE_CODE = "ErrorStaleObject"

# What step 1 reads of each item: the decision's inputs, and what the results show.
READ_FIELDS = ("item:IsDraft", "item:LastModifiedTime", "item:Subject", "item:DisplayTo")
READ_PROPERTIES = (properties.MARKER_PATH, properties.STATE_PATH)

# The shortest timeout a request gets once the deadline is (nearly) reached: the best-effort requests
# after it (freeing a claim) get a chance on a nearby server, and the run still ends right after its deadline.
MIN_REQUEST_SECONDS = 0.1

QUIRK_WARNING = (
    "Exchange answered Success to SendItem but left %d draft(s) behind (%s). This is the documented delegate "
    "behaviour when the saved-copy folder is not in the draft's own mailbox: the message went out, the draft "
    "is no longer sendable by this module, and no copy was saved. To keep a copy, set "
    "saved_item_folder_mailbox to the mailbox that owns the drafts (the principal's SMTP address).")


class ItemRef:
    """One id to send: ``id`` and the optional ``change_key`` the caller saw."""

    __slots__ = ("id", "change_key")

    def __init__(self, item_id_, change_key=None):
        self.id = item_id_
        self.change_key = change_key

    @classmethod
    def from_raw(cls, entry, index):
        """Accept a string id or a dict with ``id`` and optional ``change_key``.

        Other keys are ignored, so the draft_ids lookup's output (which adds
        subject, to, created...) passes unchanged. Raises ``EwsConfigError``
        naming the entry and its position.
        """
        if isinstance(entry, str):
            value, change_key = entry, None
        elif isinstance(entry, dict):
            value, change_key = entry.get("id"), entry.get("change_key")
        else:
            value, change_key = None, None
        if not isinstance(value, str) or not value.strip() or (
                change_key is not None and not isinstance(change_key, str)):
            raise EwsConfigError(
                "item_ids[%d] is not an item id: expected a string or a dict with keys id and optional "
                "change_key, got %r" % (index, _short(entry)))
        return cls(value.strip(), change_key or None)


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

    A SOAP fault (ErrorServerBusy included), HTTP 503, an authentication refusal,
    a connection never opened, or options refused before any request. Anything
    else after the request was written may hide a commit: a lost response.
    """
    return isinstance(error, (EwsFault, EwsUnavailable, EwsAuthError, EwsNotSent, EwsConfigError))


class _Item:
    """Protocol state of one distinct id."""

    __slots__ = ("ref", "position", "marker", "change_key", "own_keys", "result", "rereads", "our_send", "quirk",
                 "watch", "problem", "stamp_unknown", "subject", "to")

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
        self.subject = None
        self.to = None

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

    ``save_copy`` / ``saved_item_folder`` / ``saved_item_folder_mailbox``:
    where SendItem saves the copy (and where step 5 looks for it, with the
    Outbox). ``batch_size``: ids per request. ``pending_timeout``: seconds
    after which another run's claim is taken over. ``reread_limit``: how often
    an item goes back to step 1 after a lost response, a Warning or an
    item-level ErrorServerBusy. ``deadline``: seconds the whole run may take.
    ``check_mode``: read only. Waits (claims, throttling) longer than
    ``wait_warning_after`` seconds in all are reported in a warning.
    ``sleep``/``clock`` are injectable for tests.
    """

    def __init__(self, client, save_copy=True, saved_item_folder="sentitems", saved_item_folder_mailbox=None,
                 batch_size=100, pending_timeout=120, reread_limit=5, deadline=900, check_mode=False,
                 poll_interval=1.0, wait_warning_after=5.0, sleep=time.sleep, clock=time.monotonic):
        self.client = client
        self.save_copy = save_copy
        try:
            self.saved_folder = folder_id(saved_item_folder or "sentitems", saved_item_folder_mailbox)
            self.outbox = folder_id("outbox", saved_item_folder_mailbox)
        except ValueError as exc:
            raise EwsConfigError("saved_item_folder: %s" % exc)
        self.batch_size = batch_size
        self.pending_timeout = pending_timeout
        self.reread_limit = reread_limit
        self.deadline = deadline
        self.check_mode = check_mode
        self.poll_interval = poll_interval
        self.wait_warning_after = wait_warning_after
        self._sleep = sleep
        self._clock = clock
        self._ends_at = None
        self.run_token = uuid.uuid4().hex[:16]
        self.warnings = []
        self.request_error = None
        self.may_have_sent = False   # a failed item's send may have gone out (changed is then true)
        self.waited_for_claims = 0.0
        self._get = GetItem(client)
        self._update = UpdateItem(client)
        self._send = SendItem(client)
        self._find = FindItem(client)

    # -- public -------------------------------------------------------------------------------

    def send(self, refs):
        """Results (dicts, see module docstring) for ``refs``, in input order; duplicates share one result."""
        distinct = distinct_items(refs)
        self._ends_at = self._clock() + self.deadline
        self.client.retry_policy.deadline = self._ends_at
        self.client.retry_policy.before_attempt = self._cut_request_timeout
        items = list(distinct.values())
        for start in range(0, len(items), self.batch_size):
            batch = items[start:start + self.batch_size]
            if self.request_error is not None:
                self._stopped(batch)
                continue
            try:
                self._run_batch(batch)
            except EwsError as exc:
                # A request-level failure (authentication, TLS, a fault after the retries): it would
                # fail every later request too, so the run stops here, once.
                self.request_error = exc
                self._stopped(batch)
        self._report_quirks(items)
        self._report_waits()
        self.may_have_sent = any(i.our_send and i.result["status"] == "failed" for i in items)
        return [dict(distinct[ref.id].result) for ref in refs]

    def _cut_request_timeout(self):
        """Rule 6: a request (each attempt) may take only what is left of the deadline, and at most ``timeout``."""
        left = max(self._ends_at - self._clock(), MIN_REQUEST_SECONDS)
        self.client.transport.operation_timeout = min(self.client.settings.timeout, left)

    def _stopped(self, batch):
        exc = self.request_error
        for item in batch:
            if item.result is None:
                item.fail(exc.response_code or type(exc).__name__, "not settled: the run stopped at a request-level "
                          "failure (%s)" % exc.message_text)

    # -- one batch ---------------------------------------------------------------------------

    def _run_batch(self, batch):
        pending = list(batch)
        while pending:
            if self._clock() >= self._ends_at:
                for item in pending:
                    self._fail_at_deadline(item)
                return
            try:
                to_send, waiting, retry = self._read(pending)
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
            retry.extend(self._stamp_and_send(to_send))
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
        self.waited_for_claims += delay

    def _read(self, items):
        """Step 1 (and step 5 for the ids that are gone). Returns (to send, waiting, to read again); settles the rest."""
        messages = self._get.call([i.ref.id for i in items], field_uris=READ_FIELDS, extended_paths=READ_PROPERTIES)
        server_now = self.client.server_time
        to_send, waiting, again, to_recover, to_release = [], [], [], [], []
        for item, message in zip(items, messages):
            if message.response_code == NOT_FOUND:
                to_recover.append(item)
                continue
            if message.response_code in TROUBLE_CODES:
                if self._back_to_read(item, message.response_class, message.response_code, message.message_text,
                                      counted=True):
                    again.append(item)
                continue
            if message.response_class != "Success":
                item.fail(message.response_code, message.message_text or "the item could not be read",
                          response_class=message.response_class)
                continue
            element = first_item(message)
            item.change_key = item_id(element)[1]
            item.subject = element.findtext(T + "Subject") or ""
            item.to = _split_display(element.findtext(T + "DisplayTo"))
            extended = extended_properties(element)
            state = SendState.parse(extended.get(properties.STATE))
            observation = d.observe(
                is_draft=bool_field(element, "IsDraft") is not False,
                marker=extended.get(properties.MARKER), expected_marker=item.marker, state=state,
                run_token=self.run_token, current_key=item.change_key, caller_key=item.ref.change_key,
                own_keys=item.own_keys,
                claim_live=not self._claim_expired(item, state, parse_datetime(element, "LastModifiedTime"),
                                                   server_now),
                our_send=item.our_send)
            decision, why = d.decide(observation)
            if decision == d.SEND:
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
            self._recover(to_recover)
        if to_release and not self.check_mode:
            self._release(to_release)
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

    def _stamp_and_send(self, items):
        """Steps 2-4. Returns the items that go back to step 1."""
        retry = []
        to_stamp = [i for i in items if i.change_key not in i.own_keys]
        to_send = [i for i in items if i.change_key in i.own_keys]   # this run's claim is intact: send as is
        if to_stamp:
            retry.extend(self._stamp(to_stamp, to_send))
        if to_send:
            retry.extend(self._send_stamped(to_send))
        return retry

    def _stamp(self, items, to_send):
        """Step 2: one compare-and-set UpdateItem; stamped items join ``to_send``; returns the ones to read again."""
        stamp = properties.state_value(properties.PENDING, self.run_token, time.time())
        try:
            messages = self._update.set_extended_properties(
                [(i.ref.id, i.change_key, [(properties.MARKER_PATH, i.marker), (properties.STATE_PATH, stamp)])
                 for i in items])
        except EwsError as exc:
            if not_processed(exc):
                raise
            # Whether the stamp landed or not, step 1 tells: a stamp is harmless to repeat.
            for item in items:
                item.stamp_unknown = True
            return [i for i in items if self._back_to_read(i, "Error", LOST_CODE, str(exc), counted=True)]
        retry = []
        for item, message in zip(items, messages):
            if message.response_class == "Success":
                item.change_key = item_id(first_item(message))[1]
                item.own_keys.add(item.change_key)
                item.stamp_unknown = False
                to_send.append(item)
            elif message.response_code in CONFLICT_CODES or message.response_code in TROUBLE_CODES:
                if self._back_to_read(item, message.response_class, message.response_code, message.message_text,
                                      counted=message.response_code not in CONFLICT_CODES):
                    retry.append(item)
            else:
                item.fail(message.response_code, message.message_text or "the draft could not be stamped",
                          response_class=message.response_class)
        return retry

    def _send_stamped(self, items):
        """Steps 3-4: one SendItem with the stamps' ChangeKeys, then verify what answered Success."""
        try:
            messages = self._send.call([(i.ref.id, i.change_key) for i in items], self.save_copy, self.saved_folder)
        except EwsError as exc:
            if not_processed(exc):
                # Exchange refused the whole request: nothing went out. Free the claims for the next run.
                self._release(items)
                raise
            # The send may have happened: never repeat it blindly, read again (docs: Faults).
            for item in items:
                item.our_send = True
            return [i for i in items if self._back_to_read(i, "Error", LOST_CODE, str(exc), counted=True)]
        retry, refused, sent = [], [], []
        for item, message in zip(items, messages):
            if message.response_class == "Success":
                item.our_send = True
                item.finish("sent", "Success", message.response_code, message.message_text)
                sent.append(item)
            elif message.response_code in CONFLICT_CODES or message.response_code in TROUBLE_CODES:
                # A Warning (ErrorBatchProcessingStopped) or a conflict: this item was not sent by this request.
                if self._back_to_read(item, message.response_class, message.response_code, message.message_text,
                                      counted=message.response_code not in CONFLICT_CODES):
                    retry.append(item)
            else:
                item.fail(message.response_code, message.message_text or "Exchange refused to send it",
                          response_class=message.response_class)
                refused.append(item)
        if refused:
            self._release(refused)
        if sent:
            self._verify(sent)
        return retry

    def _release(self, items):
        """Free this run's claims after a refusal, so the next run need not wait pending_timeout.

        A compare-and-set on the ChangeKey this run holds: a claim another run took over is never touched.
        Best effort: a claim left behind only makes the next run wait.
        """
        released = properties.state_value(properties.RELEASED, self.run_token, time.time())
        try:
            self._update.set_extended_properties(
                [(i.ref.id, i.change_key, [(properties.STATE_PATH, released)]) for i in items])
        except EwsError:
            pass

    def _verify(self, items):
        """Step 4: a sent draft is gone; one still there was left behind by a delegate quirk."""
        try:
            messages = self._get.call([i.ref.id for i in items], field_uris=("item:IsDraft",),
                                      extended_paths=READ_PROPERTIES)
        except EwsError as exc:
            if not_processed(exc):
                raise
            # The sends stand (Exchange answered Success); only a left-behind draft goes unnoticed.
            self.warnings.append("could not check whether Exchange left %d sent draft(s) behind (%s): if any is "
                                 "still in Drafts, delete it" % (len(items), exc))
            return
        still_drafts = []
        for item, message in zip(items, messages):
            if message.response_class != "Success":
                continue  # gone (ErrorItemNotFound): the normal case
            item.quirk = True
            element = first_item(message)
            item.change_key = item_id(element)[1]
            if bool_field(element, "IsDraft") is not False:
                still_drafts.append(item)
        if still_drafts:
            self._stamp_sent(still_drafts)

    def _stamp_sent(self, items):
        """A draft Exchange left behind as a draft after Success: stamp it ``sent`` (compare-and-set) so that
        no later run sends it again."""
        stamp = properties.state_value(properties.SENT, self.run_token, time.time())
        try:
            messages = self._update.set_extended_properties(
                [(i.ref.id, i.change_key, [(properties.STATE_PATH, stamp)]) for i in items])
            failures = [(i, "%s: %s" % (m.response_code, m.message_text))
                        for i, m in zip(items, messages) if m.response_class != "Success"]
        except EwsError as exc:
            failures = [(i, str(exc)) for i in items]
        for item, reason in failures:
            self.warnings.append(
                    "item %s was sent but Exchange left it as a draft, and stamping it as sent failed (%s): do not "
                    "send it again; delete it" % (_abbrev(item.ref.id), reason))

    def _recover(self, items):
        """Step 5: one FindItem by marker over the saved folder and the Outbox settles the ids that are gone."""
        marker = restrictions.extended_field_uri(properties.MARKER_PATH)
        state = restrictions.extended_field_uri(properties.STATE_PATH)
        by_marker = dict((i.marker, i) for i in items)
        copies = dict((i.marker, []) for i in items)
        # The Outbox first: a message only moves from it into the saved folder, so one that moves while
        # Exchange searches the folders one after the other is found in one of them, never missed by both.
        folders = [self.outbox, self.saved_folder]
        found = self._find.find_in(
            folders,
            additional_properties=[marker, state, restrictions.field_uri("item:IsDraft"),
                                   restrictions.field_uri("item:Subject"), restrictions.field_uri("item:DisplayTo")],
            restriction=restrictions.or_(*[restrictions.is_equal_to(marker, m) for m in by_marker]))
        for folder_index, copy in found:
            value = copy.extended.get(properties.MARKER)
            if value in copies:
                copies[value].append((folders[folder_index] is self.outbox, copy))
        for item in items:
            self._settle_gone(item, copies[item.marker])

    def _settle_gone(self, item, found):
        judged = [d.Copy(is_draft=(copy.fields.get("IsDraft") or "true").lower() != "false", in_outbox=in_outbox,
                         state=SendState.parse(copy.extended.get(properties.STATE))) for in_outbox, copy in found]
        outcome, why, proof = d.judge_copies(judged, self.run_token, item.our_send)
        if proof is not None:
            copy = found[judged.index(proof)][1]
            item.subject = copy.fields.get("Subject") or "" if item.subject is None else item.subject
            item.to = _split_display(copy.fields.get("DisplayTo")) if item.to is None else item.to
        if outcome == d.SENT:
            item.finish("sent", "Success", "NoError", why)
        elif outcome == d.ALREADY_SENT:
            item.finish("already_sent", "Success", "NoError", why)
        elif outcome == d.UNKNOWN:
            item.finish("failed", "Error", LOST_CODE, why + ("; with save_copy false no copy can prove it"
                                                              if not self.save_copy else ""))
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
        throttled = sum(delay for _operation, _reason, delay in self.client.retry_policy.attempts_log)
        if self.waited_for_claims + throttled > self.wait_warning_after:
            self.warnings.append(
                "waited %.0f s in all: %.0f s for drafts claimed by other runs, %.0f s for Exchange throttling "
                "(ErrorServerBusy / HTTP 503)" % (self.waited_for_claims + throttled, self.waited_for_claims,
                                                    throttled))


def _split_display(text):
    return [name.strip() for name in (text or "").split(";") if name.strip()]


def _abbrev(item_id_):
    return item_id_ if len(item_id_) <= 24 else item_id_[:10] + "..." + item_id_[-10:]
