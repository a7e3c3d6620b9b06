import sqlite3
import threading
import time

import pytest

from ews_sandbox.delivery import Delivery
from ews_sandbox.errors import ItemError
from ews_sandbox.ids import decode_folder_id, decode_item_id, encode_folder_id, encode_item_id, new_change_key, new_uuid
from ews_sandbox.store import Store, extended_key
from ews_sandbox.submission import Submitter

from ews_test_support import ALICE, MARKER_SET, FakeDirectory


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "store.sqlite3")


def test_ids_round_trip_and_look_like_exchange():
    item_uuid = new_uuid()
    item_id = encode_item_id(ALICE, item_uuid)
    assert item_id.startswith("AAMk")
    assert decode_item_id(item_id).uuid == item_uuid
    assert decode_item_id(item_id).mailbox == ALICE
    assert new_change_key().startswith("CQAAAB")
    assert new_change_key() != new_change_key()


# A fixed folder id: a random one would give each xdist worker different test ids.
@pytest.mark.parametrize("bad", ["%BadItemId%", "AAAtAEF=", "AAMkAA==", encode_folder_id(ALICE, "0" * 32)])
def test_malformed_item_ids(bad):
    with pytest.raises(ItemError) as raised:
        decode_item_id(bad)
    assert (raised.value.code, raised.value.message) == ("ErrorInvalidIdMalformed", "Id is malformed.")


@pytest.mark.parametrize("empty", ["", None])
def test_empty_ids(empty):
    for decode in (decode_item_id, decode_folder_id):
        with pytest.raises(ItemError) as raised:
            decode(empty)
        assert raised.value.code == "ErrorInvalidIdEmpty"


def test_folder_ids_are_not_item_ids():
    folder_id = encode_folder_id(ALICE, new_uuid())
    assert decode_folder_id(folder_id).mailbox == ALICE
    with pytest.raises(ItemError):
        decode_folder_id(encode_item_id(ALICE, new_uuid()))


def test_mailboxes_get_distinguished_folders_on_demand(store):
    drafts = store.distinguished_folder(ALICE, "drafts")
    folder = store.folder(drafts)
    assert (folder.mailbox, folder.distinguished, folder.display_name) == (ALICE, "drafts", "Drafts")
    assert folder.parent_uuid == store.distinguished_folder(ALICE, "msgfolderroot")
    assert store.distinguished_folder("ALICE@sandbox.test", "drafts") == drafts


def test_writes_change_the_change_key_and_moves_change_the_id(store):
    drafts = store.distinguished_folder(ALICE, "drafts")
    key = extended_key(property_set_id=MARKER_SET.upper(), property_name="ExchangeEwsSendMarker")
    item = store.create_item(drafts, {"subject": "s"}, {key: ("String", "m")})
    first_key = item.change_key
    store.update_item(item, {"subject": "t"}, {extended_key(property_tag="0x1000"): ("String", "b")})
    assert item.change_key != first_key
    old_uuid = item.uuid
    store.move_item(item, store.distinguished_folder(ALICE, "sentitems"), {"is_draft": False})
    assert item.uuid != old_uuid
    assert store.get_item(old_uuid) is None
    moved = store.get_item(item.uuid)
    assert moved.fields["subject"] == "t" and moved.fields["is_draft"] is False
    assert moved.extended[key] == ("String", "m")
    assert moved.extended["tag:4096"] == ("String", "b")
    store.delete_item(moved)
    assert store.get_item(item.uuid) is None


def test_extended_keys_ignore_spelling():
    assert extended_key(property_set_id=MARKER_SET.upper(), property_name="X") == \
        extended_key(property_set_id=MARKER_SET, property_name="X")
    assert extended_key(property_tag="0x0E1D") == extended_key(property_tag="3613")


def test_store_is_durable_across_reopen(tmp_path):
    first = Store(tmp_path / "store.sqlite3")
    item = first.create_item(first.distinguished_folder(ALICE, "drafts"), {"subject": "kept"})
    second = Store(tmp_path / "store.sqlite3")
    assert second.get_item(item.uuid).fields["subject"] == "kept"
    assert second.distinguished_folder(ALICE, "drafts") == first.distinguished_folder(ALICE, "drafts")


def test_seed_is_fast_and_returns_ids(store):
    started = time.perf_counter()
    ids = store.seed(ALICE, "drafts", 10000, subject="Seed {n}", to=["bob@sandbox.test"],
                     extended_properties=[{"property_set_id": MARKER_SET, "property_name": "Batch",
                                           "property_type": "String", "value": "b1"}])
    assert time.perf_counter() - started < 10
    assert len(ids) == 10000 and len({i for i, _ in ids}) == 10000
    total, unread = store.folder_counts(store.distinguished_folder(ALICE, "drafts"))
    assert (total, unread) == (10000, 0)
    item = store.get_item(decode_item_id(ids[41][0]).uuid)
    assert item.fields["subject"] == "Seed 42" and item.change_key == ids[41][1]
    assert item.fields["is_draft"] is True


def test_reset_empties_every_mailbox(store):
    store.seed(ALICE, "drafts", 3)
    store.reset()
    assert store.folder_counts(store.distinguished_folder(ALICE, "drafts")) == (0, 0)


def test_folders_created_in_a_rolled_back_transaction_are_not_remembered(store):
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.distinguished_folder("bob@sandbox.test", "sentitems")
            raise RuntimeError("rolled back")
    sent = store.distinguished_folder("bob@sandbox.test", "sentitems")
    assert store.folder(sent).display_name == "Sent Items"


def test_folders_created_in_an_undone_item_are_not_cached_and_committed_ones_are(store):
    with store.request_transaction():
        with pytest.raises(ItemError):
            with store.item_transaction():
                store.ensure_mailbox("gone@sandbox.test")
                raise ItemError("ErrorInvalidRecipients", "x")
        with store.item_transaction():
            kept = store.distinguished_folder("kept@sandbox.test", "inbox")
    inbox = store.distinguished_folder("gone@sandbox.test", "inbox")
    assert store.folder(inbox) is not None
    assert store.folder(kept) is not None and store.distinguished_folder("kept@sandbox.test", "inbox") == kept


def _subjects(store, folder):
    return sorted(item.fields["subject"] for item in store.find_items([folder])[1])


def _write_from_another_thread(store, folder) -> None:
    """A write that needs the store's lock: it fails the test if an earlier transaction kept the lock."""
    thread = threading.Thread(target=lambda: store.create_item(folder, {"subject": "other thread"}), daemon=True)
    thread.start()
    thread.join(10)
    assert not thread.is_alive()


def test_a_transaction_that_fails_leaves_nothing_and_frees_the_store(store):
    drafts = store.distinguished_folder(ALICE, "drafts")
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.create_item(drafts, {"subject": "undone"})
            with store.transaction():                    # a nested one joins it
                store.create_item(drafts, {"subject": "undone too"})
            raise RuntimeError("rolled back")
    _write_from_another_thread(store, drafts)
    assert _subjects(store, drafts) == ["other thread"]


def test_a_request_failing_part_way_keeps_the_items_before_and_undoes_the_failing_one(store):
    drafts = store.distinguished_folder(ALICE, "drafts")
    with pytest.raises(RuntimeError):
        with store.request_transaction():
            with store.item_transaction():
                store.create_item(drafts, {"subject": "first"})
            with store.item_transaction():
                store.create_item(drafts, {"subject": "second, written before its failure"})
                raise RuntimeError("crash in the middle of an item")
    _write_from_another_thread(store, drafts)
    assert _subjects(store, drafts) == ["first", "other thread"]


def test_a_data_folder_from_before_the_message_columns_gets_them(tmp_path):
    path = tmp_path / "store.sqlite3"
    Store(path)
    with sqlite3.connect(path) as conn:
        for column in ("sensitivity", "reply_to", "read_receipt_requested", "delivery_receipt_requested"):
            conn.execute("ALTER TABLE items DROP COLUMN %s" % column)
    store = Store(path)
    drafts = store.distinguished_folder(ALICE, "drafts")
    item = store.create_item(drafts, {"subject": "after", "sensitivity": "Private", "reply_to": [{"name": "", "email": "x@y"}]})
    assert store.get_item(item.uuid).fields["sensitivity"] == "Private"


def test_commits_leave_the_wal_to_checkpoint_and_a_restart_reads_it(tmp_path):
    store = Store(tmp_path / "store.sqlite3")
    for _ in range(300):     # small commits: more than the 1,000 pages after which SQLite would checkpoint itself
        store.seed(ALICE, count=10)
    reopened = Store(tmp_path / "store.sqlite3")             # a restart before any checkpoint
    assert reopened.find_items([reopened.distinguished_folder(ALICE, "drafts")], limit=0)[0] == 3000
    _, frames, copied = store.connection().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    assert frames > 1000 and frames == copied                 # the WAL was never restarted: no checkpoint before


def test_the_submitter_thread_checkpoints(tmp_path, monkeypatch):
    store = Store(tmp_path / "store.sqlite3")
    checkpointed = threading.Event()
    checkpoint = store.checkpoint

    def recorded():
        checkpoint()
        checkpointed.set()

    monkeypatch.setattr(store, "checkpoint", recorded)
    submitter = Submitter(store, Delivery(store, FakeDirectory()))
    submitter.start()
    try:
        assert checkpointed.wait(10)
    finally:
        submitter.stop()


class _WriteAfterCount:
    """This thread's connection, with another thread's write landing right after the first COUNT query."""

    def __init__(self, conn, write):
        self._conn = conn
        self._write = write

    def execute(self, sql, *args):
        cursor = self._conn.execute(sql, *args)
        if self._write is not None and sql.startswith("SELECT COUNT(*)"):
            thread = threading.Thread(target=self._write, daemon=True)
            self._write = None
            thread.start()
            thread.join()
        return cursor

    def __getattr__(self, name):
        return getattr(self._conn, name)


def test_a_page_and_its_total_are_read_from_one_snapshot(store):
    """A list answers its total (Graph's @odata.count, the next-page decision) and its page as of one moment: a
    write from another request between the two must not make the total disagree with the page."""
    drafts = store.distinguished_folder(ALICE, "drafts")
    store.create_item(drafts, {"subject": "first"})
    store._local.conn = _WriteAfterCount(store.connection(), lambda: store.create_item(drafts, {"subject": "second"}))
    total, items = store.find_items([drafts])
    assert total == len(items)
