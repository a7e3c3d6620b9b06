# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Send drafts exactly once: the protocol of docs/exactly-once.md.

Per batch: 1 read (GetItem), 2 stamp (UpdateItem, compare-and-set on the
ChangeKey), 3 send (SendItem with the stamp's ChangeKey), 4 verify (GetItem),
5 account for ids that are gone (one FindItem by marker in the saved folder).
Each step is one request for the whole batch, so round trips per batch do not
grow with its size. Conflicts and lost responses send items back to step 1.

Usage::

    sender = ExactlyOnceSender(client, save_copy=True, saved_item_folder="sentitems")
    results = sender.send([ItemRef.from_raw(entry, index) for index, entry in enumerate(raw)])
    sender.warnings   # human warnings (delegate quirks)

Each result is a dict: ``id``, ``status`` (``sent``, ``already_sent``,
``would_send``, ``missing``, ``failed``), ``response_class``,
``response_code``, ``message_text``, in input order.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time
import uuid

from ansible_collections.exchange.ews.plugins.module_utils import properties
from ansible_collections.exchange.ews.plugins.module_utils import restrictions
from ansible_collections.exchange.ews.plugins.module_utils.errors import EwsConfigError, EwsError, EwsResponseLost
from ansible_collections.exchange.ews.plugins.module_utils.properties import SendState
from ansible_collections.exchange.ews.plugins.module_utils.responses import (
    ResponseMessage,
    bool_field,
    extended_properties,
    first_item,
    item_id,
)
from ansible_collections.exchange.ews.plugins.module_utils.services.find_item import FindItem, folder_id
from ansible_collections.exchange.ews.plugins.module_utils.services.get_item import GetItem
from ansible_collections.exchange.ews.plugins.module_utils.services.send_item import SendItem
from ansible_collections.exchange.ews.plugins.module_utils.services.update_item import UpdateItem

STATUSES = ("sent", "already_sent", "would_send", "missing", "failed")

# ResponseCodes that mean "someone changed the item since we read it": go back to step 1.
CONFLICT_CODES = frozenset(("ErrorIrresolvableConflict", "ErrorStaleObject", "ErrorServerBusy"))
NOT_FOUND = "ErrorItemNotFound"

QUIRK_WARNING = (
    "Exchange answered Success to SendItem but left %d draft(s) behind (%s). This is the documented delegate "
    "behaviour when the saved-copy folder is not in the draft's own mailbox: the message went out, the draft "
    "has been stamped as sent and will never be sent again, and no copy was saved. To keep a copy, set "
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


class _Item:
    """Protocol state of one distinct id within a batch."""

    __slots__ = ("ref", "marker", "change_key", "result", "conflicts", "lost", "first_read", "quirk")

    def __init__(self, ref):
        self.ref = ref
        self.marker = properties.marker_for(ref.id)
        self.change_key = None
        self.result = None
        self.conflicts = 0
        self.lost = False      # our SendItem for it may have been committed
        self.first_read = True
        self.quirk = False

    def finish(self, status, response_class, response_code, message_text=None):
        self.result = {"id": self.ref.id, "status": status, "response_class": response_class,
                       "response_code": response_code, "message_text": message_text}


class ExactlyOnceSender:
    """Runs the protocol for a list of ``ItemRef`` (see module docstring).

    ``save_copy`` / ``saved_item_folder`` / ``saved_item_folder_mailbox``: where
    SendItem saves the copy (and where step 5 looks for it). ``batch_size``:
    ids per request. ``pending_timeout``: seconds after which another run's
    ``pending`` stamp is taken over. ``conflict_retries``: how often an item
    may go back to step 1 after a conflict. ``check_mode``: read only.
    ``sleep``/``clock`` are injectable for tests.
    """

    def __init__(self, client, save_copy=True, saved_item_folder="sentitems", saved_item_folder_mailbox=None,
                 batch_size=100, pending_timeout=120, conflict_retries=3, check_mode=False, poll_interval=1.0,
                 sleep=time.sleep, clock=time.time):
        self.client = client
        self.save_copy = save_copy
        try:
            self.saved_folder = folder_id(saved_item_folder or "sentitems", saved_item_folder_mailbox)
        except ValueError as exc:
            raise EwsConfigError("saved_item_folder: %s" % exc)
        self.saved_item_folder_mailbox = saved_item_folder_mailbox
        self.batch_size = batch_size
        self.pending_timeout = pending_timeout
        self.conflict_retries = conflict_retries
        self.check_mode = check_mode
        self.poll_interval = poll_interval
        self._sleep = sleep
        self._clock = clock
        self.run_token = uuid.uuid4().hex[:16]
        self.warnings = []
        self._get = GetItem(client)
        self._update = UpdateItem(client)
        self._send = SendItem(client)
        self._find = FindItem(client)

    # -- public -------------------------------------------------------------------------------

    def send(self, refs):
        """Results (dicts, see module docstring) for ``refs``, in input order; duplicates share one result."""
        distinct = {}
        for ref in refs:
            distinct.setdefault(ref.id, _Item(ref))
        items = list(distinct.values())
        quirks = []
        for start in range(0, len(items), self.batch_size):
            batch = items[start:start + self.batch_size]
            try:
                self._run_batch(batch)
            except EwsError as exc:
                # A request-level failure (auth, impersonation denied, fault after retries):
                # whatever the batch had not settled fails with it; later batches still try.
                for item in batch:
                    if item.result is None:
                        item.finish("failed", "Error", exc.response_code or type(exc).__name__, str(exc))
            quirks.extend(item.ref.id for item in batch if item.quirk)
        if quirks:
            self.warnings.append(QUIRK_WARNING % (len(quirks), ", ".join(_abbrev(i) for i in quirks[:5])
                                                  + (", ..." if len(quirks) > 5 else "")))
        return [dict(distinct[ref.id].result) for ref in refs]

    # -- one batch ---------------------------------------------------------------------------

    def _run_batch(self, batch):
        pending = list(batch)
        while pending:
            to_stamp, to_find, waiting, stamp_sent = self._read(pending)
            if to_find:
                self._account_for_missing(to_find)
            if self.check_mode:
                for item in to_stamp:
                    item.finish("would_send", "Success", "NoError", None)
                for item in waiting:
                    item.finish("would_send", "Success", "NoError",
                                "another run is sending this draft right now")
                for item in stamp_sent:
                    item.finish("already_sent", "Success", "NoError", "the draft is no longer a draft")
                return
            if stamp_sent:
                self._stamp_sent(stamp_sent)
            retry = self._stamp_and_send(to_stamp)
            if waiting:
                self._sleep(self.poll_interval)
            pending = retry + waiting

    def _read(self, items):
        """Step 1. Sorts items into: stamp, find (gone), wait (another run), stamp_sent (sent, not stamped)."""
        messages = self._get.call([i.ref.id for i in items], field_uris=("item:IsDraft",),
                                  extended_paths=(properties.MARKER_PATH, properties.STATE_PATH))
        to_stamp, to_find, waiting, stamp_sent = [], [], [], []
        now = self._clock()
        for item, message in zip(items, messages):
            first_read, item.first_read = item.first_read, False
            if not message.ok:
                if message.response_code == NOT_FOUND:
                    to_find.append(item)
                else:
                    item.finish("failed", message.response_class, message.response_code, message.message_text)
                continue
            element = first_item(message)
            item.change_key = item_id(element)[1]
            state = SendState.parse(extended_properties(element).get(properties.STATE))
            ours = state is not None and state.run_token == self.run_token
            if state is not None and state.kind == properties.SENT:
                item.finish("sent" if ours else "already_sent", "Success", "NoError",
                            None if ours else "sent earlier (state %s)" % state.kind)
            elif bool_field(element, "IsDraft") is False:
                # It went out but was never stamped sent: by this run when our pending
                # stamp is on it (a lost SendItem response), else by someone earlier.
                item.lost = item.lost or ours
                stamp_sent.append(item)
            elif state is not None and not ours and state.kind == properties.PENDING \
                    and now - state.since < self.pending_timeout:
                waiting.append(item)
            elif first_read and state is None and item.ref.change_key \
                    and item.ref.change_key != item.change_key:
                # Compared only before any stamp of ours changed the key.
                item.finish("failed", "Error", "ErrorStaleObject",
                            "the draft changed after its change_key was read (current change key differs); "
                            "not sent")
            else:
                to_stamp.append(item)
        return to_stamp, to_find, waiting, stamp_sent

    def _stamp_and_send(self, items):
        """Steps 2-4. Returns the items that go back to step 1."""
        if not items:
            return []
        retry = []
        stamp = properties.state_value(properties.PENDING, self.run_token, self._clock())
        try:
            messages = self._update.set_extended_properties(
                [(i.ref.id, i.change_key, [(properties.MARKER_PATH, i.marker), (properties.STATE_PATH, stamp)])
                 for i in items])
        except EwsResponseLost:
            return items  # a stamp is harmless to repeat: read again
        to_send = []
        for item, message in zip(items, messages):
            if message.ok:
                item.change_key = item_id(first_item(message))[1]
                to_send.append(item)
            elif self._back_to_read(item, message):
                retry.append(item)
        if not to_send:
            return retry
        try:
            messages = self._send.call([(i.ref.id, i.change_key) for i in to_send], self.save_copy,
                                       self.saved_folder)
        except EwsResponseLost as exc:
            # The send may have happened: never repeat it blindly, read again (docs: Faults).
            for item in to_send:
                item.lost = True
                if item.conflicts >= self.conflict_retries:
                    item.finish("failed", "Error", "EwsResponseLost", str(exc))
                else:
                    item.conflicts += 1
                    retry.append(item)
            return retry
        except EwsError:
            # Exchange refused the whole request (fault, HTTP error): nothing was sent.
            self._release(to_send)
            raise
        sent, failed = [], []
        for item, message in zip(to_send, messages):
            if message.ok:
                item.finish("sent", message.response_class, message.response_code, message.message_text)
                sent.append(item)
            elif self._back_to_read(item, message):
                retry.append(item)
            else:
                failed.append(item)
        if failed:
            self._release(failed)
        if sent:
            self._verify(sent)
        return retry

    def _back_to_read(self, item, message):
        """Handle an item-level error of steps 2-3: True when the item goes back to step 1."""
        if message.response_code == NOT_FOUND:
            # Gone between read and write: step 1 then 5 tell who sent it.
            return True
        if message.response_code in CONFLICT_CODES and item.conflicts < self.conflict_retries:
            item.conflicts += 1
            return True
        item.finish("failed", message.response_class, message.response_code, message.message_text)
        return False

    def _release(self, items):
        """SendItem refused these: drop our pending claim so the next run does not wait for it."""
        released = properties.state_value(properties.RELEASED, self.run_token, self._clock())
        try:
            self._update.set_extended_properties(
                [(i.ref.id, i.change_key, [(properties.STATE_PATH, released)]) for i in items],
                conflict_resolution="AlwaysOverwrite")
        except EwsError:
            pass  # best effort: at worst the next run waits pending_timeout, it never double-sends

    def _verify(self, items):
        """Step 4: a sent draft is gone; one still present was left behind by a delegate quirk."""
        messages = self._get.call([i.ref.id for i in items])
        left_behind = []
        for item, message in zip(items, messages):
            if message.ok:
                item.change_key = item_id(first_item(message))[1]
                item.quirk = True
                left_behind.append(item)
        if left_behind:
            self._stamp_sent(left_behind)

    def _stamp_sent(self, items):
        """Mark drafts that went out but stay in the store, so no run ever sends them again."""
        stamp = properties.state_value(properties.SENT, self.run_token, self._clock())
        try:
            messages = self._update.set_extended_properties(
                [(i.ref.id, i.change_key, [(properties.MARKER_PATH, i.marker), (properties.STATE_PATH, stamp)])
                 for i in items], conflict_resolution="AlwaysOverwrite")
        except EwsError as exc:
            # The sends stand; only the stamp is missing, and IsDraft false still protects them.
            messages = [ResponseMessage("Error", exc.response_code or type(exc).__name__, str(exc))] * len(items)
        for item, message in zip(items, messages):
            if item.result is None:
                # Ours only if this run's (lost) SendItem did it.
                if item.lost:
                    item.finish("sent", "Success", "NoError", None)
                else:
                    item.finish("already_sent", "Success", "NoError", "the draft is no longer a draft")
            if not message.ok:
                item.result["message_text"] = ("sent, but stamping it as sent failed (%s: %s); a later run "
                                               "still reports it as already sent because it is no longer a "
                                               "draft" % (message.response_code, message.message_text))

    def _account_for_missing(self, items):
        """Step 5: one FindItem by marker in the saved folder proves (or not) an earlier send."""
        marker = restrictions.extended_field_uri(properties.MARKER_PATH)
        state = restrictions.extended_field_uri(properties.STATE_PATH)
        by_marker = {i.marker: i for i in items}
        result = self._find.find(
            self.saved_folder, additional_properties=[marker, state],
            restriction=restrictions.or_(*[restrictions.is_equal_to(marker, m) for m in by_marker]))
        for found in result.items:
            item = by_marker.get(found.extended.get(properties.MARKER))
            if item is None or item.result is not None:
                continue
            copy_state = SendState.parse(found.extended.get(properties.STATE))
            if copy_state is not None and copy_state.run_token == self.run_token:
                item.finish("sent", "Success", "NoError", None)
            else:
                item.finish("already_sent", "Success", "NoError", "a sent copy exists in the saved folder")
        for item in items:
            if item.result is None:
                text = "the item does not exist and no sent copy carries its marker in the saved folder"
                if item.lost:
                    text += ("; this run's send response was lost, so it was probably sent (save_copy false "
                             "or the copy is in another folder)")
                item.finish("missing", "Error", NOT_FOUND, text)


def _abbrev(item_id_):
    return item_id_ if len(item_id_) <= 24 else item_id_[:10] + "..." + item_id_[-10:]
