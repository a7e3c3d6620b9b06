"""Asynchronous submission: a sent message waits in its Outbox until a background submitter delivers it.

Exchange answers SendItem (and CreateItem / UpdateItem with a Send disposition) once the message is
submitted, not delivered: the message sits in the Outbox (a new ItemId; IsDraft false, PidTagMessageFlags
mfSubmitted), and transport takes it from there later. The submitter does the same after ``delay_ms``, or at
the message's deferred send time when that is later (PidTagDeferredSendTime): delivers (delivery log, local
inboxes, SMTP relay), then files the copy in the saved folder (another new ItemId) or deletes it. A message
deleted or moved out of the Outbox before then is not sent.

Submissions are rows of the store (due time included), so they survive a restart and resume on start.

Exchange's transport runs beside the services that answer requests; here both share one process, so the
submitter gives way: while a request is being worked on (``paused()``), it delivers nothing new and leaves the
store to the request, for at most GIVE_WAY_SECONDS, after which it delivers a batch all the same.
"""

from __future__ import annotations

import logging
import threading
import time
from contextlib import contextmanager
from typing import Iterator

from .delivery import Delivery, send_marker
from .ids import encode_folder_id, encode_item_id
from .store import Item, Store

log = logging.getLogger(__name__)

BATCH = 50               # messages per write transaction, at most (fewer when a request comes: see _give_way)
GIVE_WAY_SECONDS = 0.2   # the longest the submitter waits for requests being worked on before delivering anyway
IDLE_WAKE_SECONDS = 1.0  # the longest the thread sleeps without looking for due submissions
RETRY_SECONDS = 1.0      # a delivery that failed unexpectedly is tried again this much later


class Submitter:
    """Queues submissions (in the caller's store transaction) and, in its thread, delivers the due ones."""

    def __init__(self, store: Store, delivery: Delivery, delay_ms: int = 0):
        self.store = store
        self.delivery = delivery
        self.delay_ms = delay_ms
        self._stop = threading.Event()
        self._progress = threading.Condition()
        self._thread: threading.Thread | None = None
        self._requests = 0         # requests being worked on (paused())
        self._queued = False       # a submission came since the thread last looked at the store
        # Guards both; notified when the last request is done and when submissions start coming.
        self._activity = threading.Condition()

    # -- requests ----------------------------------------------------------------------

    def submit(self, item: Item, sender: str, saved_folder_uuid: str | None, not_before: float | None = None) -> None:
        """``item`` (already in its Outbox) is delivered by ``sender`` from ``delay_ms`` from now on, and not before
        the epoch time ``not_before`` (its deferred send time) when one is given."""
        due = max(time.time() + self.delay_ms / 1000, not_before or 0)
        self.store.queue_submission(item, sender, saved_folder_uuid, due)
        # Waking the thread before the caller commits is fine: it needs the store's write lock to look. A request
        # sending many messages wakes it once (the interpreter lock is handed over at each wake).
        with self._activity:
            if not self._queued:
                self._queued = True
                self._activity.notify_all()

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Around a request's own work (not its latency): the submitter gives way to it (see _give_way)."""
        with self._activity:
            self._requests += 1
        try:
            yield
        finally:
            with self._activity:
                self._requests -= 1
                if not self._requests:
                    self._activity.notify_all()

    # -- the submitter thread ------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="ews-sandbox-submitter", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop after the batch in progress; submissions not yet due stay queued for the next start."""
        self._stop.set()
        with self._activity:
            self._activity.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.deliver_due()
                self.store.checkpoint()
            except Exception:
                log.exception("the submitter failed; it tries again")
            next_due = self.store.next_submission_due()
            sleep = IDLE_WAKE_SECONDS if next_due is None else min(max(next_due - time.time(), 0), IDLE_WAKE_SECONDS)
            with self._activity:
                self._activity.wait_for(lambda: self._queued or self._stop.is_set(), sleep)

    def deliver_due(self) -> int:
        """Deliver and file every submission due now, giving way to requests; the number delivered."""
        delivered = 0
        while True:
            quiet = self._give_way()
            if self._stop.is_set():
                return delivered
            with self._activity:
                self._queued = False   # what is submitted from now on, this transaction sees or the next pass delivers
            with self.store.request_transaction():
                due = self.store.due_submissions(time.time(), BATCH)
                taken = 0
                for item, sender, saved_folder_uuid in due:
                    if taken and quiet and self._requests:
                        break       # a request came: commit, and leave the store to it
                    delivered += self._deliver_one(item, sender, saved_folder_uuid)
                    taken += 1
            with self._progress:
                self._progress.notify_all()
            if taken == len(due) and len(due) < BATCH:
                return delivered

    def _give_way(self) -> bool:
        """Wait until no request is being worked on (True), or GIVE_WAY_SECONDS (False)."""
        with self._activity:
            return self._activity.wait_for(lambda: not self._requests or self._stop.is_set(), GIVE_WAY_SECONDS)

    def _deliver_one(self, item: Item, sender: str, saved_folder_uuid: str | None) -> int:
        try:
            with self.store.item_transaction():
                self.delivery.deliver(sender, item)
                if saved_folder_uuid is not None and self.store.folder(saved_folder_uuid) is not None:
                    self.store.move_item(item, saved_folder_uuid)
                else:
                    self.store.delete_item(item)
            return 1
        except Exception:
            # Never lose mail: the message stays submitted and is tried again.
            log.exception("delivering %s failed; trying again in %.0f s", item.fields["internet_message_id"], RETRY_SECONDS)
            self.store.postpone_submission(item, time.time() + RETRY_SECONDS)
            return 0

    # -- observing -----------------------------------------------------------------------

    def pending(self) -> list[dict]:
        """The messages submitted and not yet delivered, oldest due first."""
        result = []
        for item, sender, saved_folder_uuid, due, submitted in self.store.pending_submissions():
            saved = self.store.folder(saved_folder_uuid) if saved_folder_uuid else None
            result.append({
                "item_id": encode_item_id(item.mailbox, item.uuid), "mailbox": item.mailbox, "sender": sender,
                "subject": item.fields["subject"], "marker": send_marker(item), "submitted": submitted,
                "due": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(due)),
                "due_in_ms": max(round((due - time.time()) * 1000), 0),
                "saved_folder_id": encode_folder_id(saved.mailbox, saved.uuid) if saved else None,
            })
        return result

    def wait_until_drained(self, timeout: float) -> bool:
        """Wait until no submission is pending (True), or ``timeout`` seconds (False)."""
        deadline = time.monotonic() + timeout
        while self.store.next_submission_due() is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            with self._progress:
                self._progress.wait(min(remaining, 0.05))
        return True
