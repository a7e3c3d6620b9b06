"""The sandbox's mailbox store: SQLite (WAL), folders, items and extended properties.

One connection per thread; every write goes through ``transaction()``, which
holds a process-wide lock and ``BEGIN IMMEDIATE`` so a check-then-write (a
ChangeKey compare, a send) is atomic against concurrent requests.

Items are addressed by ``uuid`` (what the ItemId encodes; a move issues a new
one, like Exchange) and internally by ``seq``, which never changes and keys the
extended properties, the file attachments and the submissions (messages sent and
waiting in an Outbox, see submission.py). Moving or deleting a message withdraws
its submission.
"""

from __future__ import annotations

import functools
import json
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import ContextManager, Iterable, Iterator

from .files import private_file
from .ids import encode_item_id, new_change_key, new_uuid

# Distinguished folders every mailbox gets: name -> (Exchange's display name, parent folder).
DISTINGUISHED_FOLDERS = {
    "root": ("Root", None),
    "msgfolderroot": ("Top of Information Store", "root"),
    "inbox": ("Inbox", "msgfolderroot"),
    "drafts": ("Drafts", "msgfolderroot"),
    "sentitems": ("Sent Items", "msgfolderroot"),
    "outbox": ("Outbox", "msgfolderroot"),
    "deleteditems": ("Deleted Items", "msgfolderroot"),
}

# Item columns and how they are stored: "json" (lists, mailboxes), "bool" (0/1) or plain text.
ITEM_COLUMNS = {
    "item_class": "text",
    "subject": "text",
    "body": "text",
    "body_type": "text",
    "to_recipients": "json",
    "cc_recipients": "json",
    "bcc_recipients": "json",
    "from_mailbox": "json",
    "sender_mailbox": "json",
    "importance": "text",
    "categories": "json",
    "is_draft": "bool",
    "is_read": "bool",
    "created": "text",
    "last_modified": "text",
    "sent": "text",
    "received": "text",
    "internet_message_id": "text",
    "sensitivity": "text",
    "reply_to": "json",
    "read_receipt_requested": "bool",
    "delivery_receipt_requested": "bool",
}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS folders (
    uuid TEXT PRIMARY KEY,
    mailbox TEXT NOT NULL,
    distinguished TEXT,
    display_name TEXT NOT NULL,
    parent_uuid TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS folders_by_name ON folders (mailbox, distinguished);
CREATE TABLE IF NOT EXISTS items (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL UNIQUE,
    mailbox TEXT NOT NULL,
    folder_uuid TEXT NOT NULL,
    change_key TEXT NOT NULL,
    item_class TEXT NOT NULL,
    subject TEXT,
    body TEXT,
    body_type TEXT,
    to_recipients TEXT,
    cc_recipients TEXT,
    bcc_recipients TEXT,
    from_mailbox TEXT,
    sender_mailbox TEXT,
    importance TEXT,
    categories TEXT,
    is_draft INTEGER NOT NULL,
    is_read INTEGER NOT NULL,
    created TEXT NOT NULL,
    last_modified TEXT NOT NULL,
    sent TEXT,
    received TEXT,
    internet_message_id TEXT,
    sensitivity TEXT,
    reply_to TEXT,
    read_receipt_requested INTEGER,
    delivery_receipt_requested INTEGER
);
CREATE INDEX IF NOT EXISTS items_by_folder ON items (folder_uuid, created, seq);
CREATE TABLE IF NOT EXISTS extended_properties (
    item_seq INTEGER NOT NULL,
    prop_key TEXT NOT NULL,
    prop_type TEXT NOT NULL,
    value TEXT,
    PRIMARY KEY (item_seq, prop_key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS extended_by_value ON extended_properties (prop_key, value COLLATE NOCASE);
CREATE TABLE IF NOT EXISTS submissions (
    item_seq INTEGER PRIMARY KEY,   -- the message waiting in an Outbox
    sender TEXT NOT NULL,           -- the mailbox that sent it
    saved_folder_uuid TEXT,         -- where the sent copy is filed; NULL: it is deleted once delivered
    due REAL NOT NULL,              -- epoch seconds from which the submitter takes it
    submitted TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS submissions_by_due ON submissions (due);
CREATE TABLE IF NOT EXISTS attachments (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,   -- keeps an item's attachments in the order they were added
    uuid TEXT NOT NULL UNIQUE,               -- what the AttachmentId encodes (with the item's uuid)
    item_seq INTEGER NOT NULL,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    content_id TEXT,
    is_inline INTEGER NOT NULL,
    last_modified TEXT NOT NULL,
    content BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS attachments_by_item ON attachments (item_seq, seq);
"""


_now_cache: tuple[int, str] = (-1, "")


def utc_now() -> str:
    """Timestamps are stored as Exchange prints them; this form also sorts as text."""
    global _now_cache
    second = int(time.time())
    cached_second, text = _now_cache
    if cached_second != second:
        text = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second))
        _now_cache = (second, text)
    return text


def extended_key(property_tag=None, property_set_id=None, distinguished_property_set_id=None,
                 property_name=None, property_id=None) -> str:
    """Canonical identity of an extended property, independent of how a request spells it."""
    if property_tag is not None:
        tag = int(property_tag, 16) if str(property_tag).lower().startswith("0x") else int(property_tag)
        return "tag:%d" % tag
    property_set = (property_set_id or "").lower() or distinguished_property_set_id
    if property_name is not None:
        return "%s:name:%s" % (property_set, property_name)
    return "%s:id:%d" % (property_set, int(property_id))


def is_array_type(prop_type: str) -> bool:
    return prop_type.endswith("Array")


@dataclass(frozen=True)
class Folder:
    uuid: str
    mailbox: str
    distinguished: str | None
    display_name: str
    parent_uuid: str | None


@dataclass
class Attachment:
    """A file attachment. ``content`` is None when only the description was read (what GetItem shows)."""
    name: str
    content_type: str
    content_id: str | None
    is_inline: bool
    size: int
    uuid: str = ""              # issued by the store
    last_modified: str = ""
    content: bytes | None = None


@dataclass
class Item:
    seq: int
    uuid: str
    mailbox: str
    folder_uuid: str
    change_key: str
    fields: dict                                   # ITEM_COLUMNS -> Python value
    extended: dict = field(default_factory=dict)   # extended_key -> (prop_type, str | list[str])
    submitted: bool = False                        # sent, waiting in the Outbox for the submitter
    # Described (no content) when the item was read; copy_item and attachments_with_content query none when empty.
    attachments: list[Attachment] = field(default_factory=list)

    def recipients(self) -> list[dict]:
        return (self.fields["to_recipients"] or []) + (self.fields["cc_recipients"] or []) + (self.fields["bcc_recipients"] or [])


_LIST_COLUMNS = ("to_recipients", "cc_recipients", "bcc_recipients", "categories", "reply_to")
# (column, kind, whether NULL reads as []) for _row_to_item and _columns_to_sql.
_COLUMN_DECODING = tuple((column, kind, column in _LIST_COLUMNS) for column, kind in ITEM_COLUMNS.items())
# _row_to_item takes every column as read, then converts only these: (json column, whether NULL reads as []), bools.
_COLUMN_NAMES = tuple(ITEM_COLUMNS)
_JSON_DECODING = tuple((column, empty) for column, kind, empty in _COLUMN_DECODING if kind == "json")
_BOOL_COLUMNS = tuple(column for column, kind, _ in _COLUMN_DECODING if kind == "bool")
_json_loads = json.JSONDecoder().decode
_json_dumps = json.JSONEncoder().encode        # what json.dumps does with its defaults


def _to_sql(kind: str, value):
    """How a column of ``kind`` (ITEM_COLUMNS) stores ``value``."""
    if value is None:
        return None
    if kind == "json":
        return _json_dumps(value) if value != [] else "[]"
    if kind == "bool":
        return 1 if value else 0
    return value


def _columns_to_sql(values: dict) -> list:
    """Every ITEM_COLUMNS column of ``values`` as stored, in order (a missing one is NULL)."""
    return [_to_sql(kind, values.get(column)) for column, kind, _ in _COLUMN_DECODING]


def _columns_from_values(values: dict) -> dict:
    """``values`` completed with what a missing column reads as (NULL: [] for the lists, else None)."""
    return {column: values[column] if column in values else ([] if empty else None)
            for column, _, empty in _COLUMN_DECODING}


def _attachment(uuid: str, name: str, content_type: str, content_id: str | None, is_inline, size: int,
                last_modified: str, content: bytes | None = None) -> Attachment:
    return Attachment(name, content_type, content_id, bool(is_inline), size, uuid, last_modified, content)


def _extended_to_sql(prop_type: str, value) -> str:
    return json.dumps(list(value)) if is_array_type(prop_type) else str(value)


def _extended_from_sql(prop_type: str, value: str):
    return json.loads(value) if is_array_type(prop_type) else value


# SQL for "the item is a submitted message waiting in the Outbox" (PidTagMessageFlags mfSubmitted).
SUBMITTED_SQL = "EXISTS (SELECT 1 FROM submissions WHERE submissions.item_seq = items.seq)"
_SELECT_ITEM = "SELECT seq, uuid, mailbox, folder_uuid, change_key, %s, %s FROM items" % (", ".join(ITEM_COLUMNS),
                                                                                        SUBMITTED_SQL)


@functools.lru_cache(maxsize=256)
def _update_sql(first: str, columns: tuple) -> str:
    """UPDATE of one item (by seq) setting the comma-separated ``first`` columns, then ``columns``: the same few
    statements serve every item of every request, so their text is built once."""
    return "UPDATE items SET %s WHERE seq = ?" % ", ".join("%s = ?" % column for column in first.split(", ") + list(columns))


# The transactions are classes rather than @contextmanager generators: every item of a request enters two of them.

class _WriteTransaction:
    """BEGIN IMMEDIATE under the store's process-wide write lock (joining an open transaction); on an
    error, COMMIT what was written when ``keep_on_error``, else ROLLBACK."""

    __slots__ = ("store", "keep_on_error", "conn", "began")

    def __init__(self, store: "Store", keep_on_error: bool):
        self.store, self.keep_on_error = store, keep_on_error

    def __enter__(self) -> sqlite3.Connection:
        self.store._write_lock.acquire()
        try:
            self.conn = self.store.connection()
            self.began = not self.conn.in_transaction
            if self.began:
                self.conn.execute("BEGIN IMMEDIATE")
        except BaseException:
            self.store._write_lock.release()
            raise
        return self.conn

    def __exit__(self, error_type, error, traceback) -> None:
        try:
            if not self.began:
                return
            if error_type is not None and not self.keep_on_error:
                self.store._rollback(self.conn)
            else:
                self.store._commit_or_rollback(self.conn)
        finally:
            self.store._write_lock.release()


class _ItemTransaction:
    """Store.item_transaction(): a savepoint of the open transaction, else a transaction of its own."""

    __slots__ = ("store", "conn", "own")

    def __init__(self, store: "Store"):
        self.store = store

    def __enter__(self) -> sqlite3.Connection:
        conn = self.store.connection()
        self.own = None if conn.in_transaction else self.store.transaction()
        if self.own is not None:
            return self.own.__enter__()
        conn.execute("SAVEPOINT item")
        self.conn = conn
        return conn

    def __exit__(self, error_type, error, traceback) -> None:
        if self.own is not None:
            self.own.__exit__(error_type, error, traceback)
            return
        if error_type is not None:
            self.conn.execute("ROLLBACK TO item")
            self.conn.execute("RELEASE item")
            self.store._pending_folders.clear()   # some may have been created in the savepoint: cache none of them
            return
        self.conn.execute("RELEASE item")


class Store:
    """Mailboxes, folders, items. Safe to share between the server's threads."""

    def __init__(self, path: str | Path, delegate_quirks: bool = True):
        self.path = str(path)
        # The seed's two delegate quirks (see operations/send_item.py); toggled by /_sandbox/quirks.
        self.delegate_quirks = delegate_quirks
        self._local = threading.local()
        self._write_lock = threading.RLock()
        self._folder_cache: dict[tuple[str, str], str] = {}
        self._folders: dict[str, Folder] = {}      # committed folders by uuid (folders never change once created)
        # Distinguished folders seen inside the running write transaction: cached once it commits.
        self._pending_folders: dict[tuple[str, str], str] = {}
        # Mail and extended properties: private, like the rest of the data folder. SQLite gives the
        # -wal and -shm files it creates the database file's mode; ones an older sandbox left are tightened.
        private_file(Path(self.path))
        for suffix in ("-wal", "-shm"):
            if Path(self.path + suffix).exists():
                private_file(Path(self.path + suffix))
        conn = self.connection()
        conn.executescript(_SCHEMA)
        present = {row[1] for row in conn.execute("PRAGMA table_info(items)")}
        for column in ITEM_COLUMNS.keys() - present:     # a data folder from before the column
            conn.execute("ALTER TABLE items ADD COLUMN %s %s" % (column, "INTEGER" if ITEM_COLUMNS[column] == "bool"
                                                                 else "TEXT"))

    # -- connections and transactions -------------------------------------------------

    def connection(self) -> sqlite3.Connection:
        """This thread's connection (autocommit; writes use ``transaction()``)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            # A commit never copies the WAL into the database file (SQLite's default every 1,000 pages: with its
            # two fsyncs, several milliseconds in whichever request's commit it falls): checkpoint() does.
            conn.execute("PRAGMA wal_autocheckpoint=0")
            self._local.conn = conn
        return conn

    def checkpoint(self) -> None:
        """Copy the WAL's committed pages into the database file, without waiting for readers or writers; the
        submitter's thread does it between deliveries, off the requests' way. Durability is the WAL's either way."""
        self.connection().execute("PRAGMA wal_checkpoint(PASSIVE)")

    def transaction(self) -> ContextManager[sqlite3.Connection]:
        """One atomic write; nested calls join the outer transaction."""
        return _WriteTransaction(self, keep_on_error=False)

    def request_transaction(self) -> ContextManager[sqlite3.Connection]:
        """One write transaction for a whole request whose items each run in ``item_transaction()``.

        Commits even when the request fails part-way: each item's savepoint has already undone
        that item's own writes, so what the items before it did is kept, as with one transaction per item.
        """
        return _WriteTransaction(self, keep_on_error=True)

    def _commit_or_rollback(self, conn: sqlite3.Connection) -> None:
        try:
            conn.execute("COMMIT")
        except BaseException:
            self._rollback(conn)
            raise
        self._publish_folders()

    def _rollback(self, conn: sqlite3.Connection) -> None:
        conn.execute("ROLLBACK")
        self._pending_folders.clear()

    def _publish_folders(self) -> None:
        """After a COMMIT: the folders ensure_mailbox saw in the transaction are committed, so cacheable."""
        if self._pending_folders:
            self._folder_cache.update(self._pending_folders)
            self._pending_folders.clear()

    def item_transaction(self) -> ContextManager[sqlite3.Connection]:
        """One item's atomic check-then-write: a savepoint inside ``request_transaction()``, else ``transaction()``."""
        return _ItemTransaction(self)

    # -- mailboxes and folders --------------------------------------------------------

    def ensure_mailbox(self, mailbox: str) -> None:
        """Create the distinguished folders of ``mailbox`` on first use."""
        mailbox = mailbox.lower()
        if (mailbox, "root") in self._folder_cache:
            return
        # Inside a caller's transaction the new folders may still be rolled back: cache them only once committed.
        joined = self.connection().in_transaction
        if joined and (mailbox, "root") in self._pending_folders:
            return
        with self.transaction() as conn:
            rows = conn.execute("SELECT distinguished, uuid FROM folders WHERE mailbox = ?", (mailbox,)).fetchall()
            existing = dict(rows)
            for name, (display_name, parent) in DISTINGUISHED_FOLDERS.items():   # parents come first
                if name not in existing:
                    existing[name] = new_uuid()
                    conn.execute("INSERT INTO folders VALUES (?, ?, ?, ?, ?)",
                                 (existing[name], mailbox, name, display_name, existing.get(parent)))
        cache = self._pending_folders if joined else self._folder_cache
        for name, folder_uuid in existing.items():
            cache[(mailbox, name)] = folder_uuid

    def distinguished_folder(self, mailbox: str, name: str) -> str:
        """uuid of the distinguished folder ``name`` (a DISTINGUISHED_FOLDERS key) of ``mailbox``."""
        key = (mailbox.lower(), name)
        cached = self._folder_cache.get(key)
        if cached is None:      # ensure_mailbox caches a mailbox's folders together
            self.ensure_mailbox(mailbox)
            cached = self._folder_cache.get(key)
        if cached:
            return cached
        if self.connection().in_transaction:
            cached = self._pending_folders.get(key)
            if cached:
                return cached
        if name not in DISTINGUISHED_FOLDERS:
            raise KeyError(name)
        return self.connection().execute("SELECT uuid FROM folders WHERE mailbox = ? AND distinguished = ?",
                                         key).fetchone()[0]

    def folder(self, folder_uuid: str) -> Folder | None:
        cached = self._folders.get(folder_uuid)
        if cached is not None:
            return cached
        row = self.connection().execute(
            "SELECT uuid, mailbox, distinguished, display_name, parent_uuid FROM folders WHERE uuid = ?", (folder_uuid,)
        ).fetchone()
        if not row:
            return None
        folder = Folder(*row)
        # Only a folder ensure_mailbox saw committed is cached: one created in a running transaction may be rolled back.
        if self._folder_cache.get((folder.mailbox, folder.distinguished)) == folder.uuid:
            self._folders[folder.uuid] = folder
        return folder

    def folder_counts(self, folder_uuid: str) -> tuple[int, int]:
        """(total, unread) items in the folder."""
        total, unread = self.connection().execute(
            "SELECT COUNT(*), COALESCE(SUM(is_read = 0), 0) FROM items WHERE folder_uuid = ?", (folder_uuid,)
        ).fetchone()
        return total, unread

    def child_folder_count(self, folder_uuid: str) -> int:
        return self.connection().execute("SELECT COUNT(*) FROM folders WHERE parent_uuid = ?", (folder_uuid,)).fetchone()[0]

    # -- items ------------------------------------------------------------------------

    def _row_to_item(self, row) -> Item:
        # Every request reads its items through here (a 100-item request, 100 rows): the text columns, most of
        # them, are taken as read in one step rather than looked at one by one.
        fields = dict(zip(_COLUMN_NAMES, row[5:]))
        for column, empty in _JSON_DECODING:
            value = fields[column]
            if value is None:
                if empty:
                    fields[column] = []
            else:
                fields[column] = _json_loads(value) if value != "[]" else []
        for column in _BOOL_COLUMNS:
            value = fields[column]
            if value is not None:
                fields[column] = bool(value)
        return Item(row[0], row[1], row[2], row[3], row[4], fields, submitted=bool(row[-1]))

    @staticmethod
    def _rows_by_item(conn, items: list[Item], select: str) -> Iterator[tuple[Item, list]]:
        """(item, the rest of the row) for each row of ``select``, whose first column is the item's seq and whose
        ``%s`` is where the items' seqs go; 500 items a query."""
        by_seq = {item.seq: item for item in items}
        seqs = list(by_seq)
        for start in range(0, len(seqs), 500):
            chunk = seqs[start:start + 500]
            for seq, *rest in conn.execute(select % ",".join("?" * len(chunk)), chunk):
                yield by_seq[seq], rest

    def _load_extended(self, conn, items: list[Item]) -> None:
        for item, (key, prop_type, value) in self._rows_by_item(
                conn, items, "SELECT item_seq, prop_key, prop_type, value FROM extended_properties WHERE item_seq IN (%s)"):
            item.extended[key] = (prop_type, _extended_from_sql(prop_type, value))

    def _load_attachments(self, conn, items: list[Item]) -> None:
        """Describe each item's attachments (their content stays in the store until asked for)."""
        for item, described in self._rows_by_item(
                conn, items, "SELECT item_seq, uuid, name, content_type, content_id, is_inline, length(content),"
                " last_modified FROM attachments WHERE item_seq IN (%s) ORDER BY seq"):
            item.attachments.append(_attachment(*described))

    def get_items(self, uuids: Iterable[str]) -> dict[str, Item]:
        """Items by uuid, with their extended properties; absent uuids are left out."""
        return {item.uuid: item for item in self._items_where("uuid", uuids)}

    def _items_where(self, column: str, values: Iterable) -> list[Item]:
        """The items whose ``column`` (uuid or seq) is one of ``values``, with their extended properties."""
        conn = self.connection()
        wanted = list(dict.fromkeys(values))
        items: list[Item] = []
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            rows = conn.execute(_SELECT_ITEM + " WHERE %s IN (%s)" % (column, ",".join("?" * len(chunk))), chunk)
            items.extend(self._row_to_item(row) for row in rows)
        self._load_extended(conn, items)
        self._load_attachments(conn, items)
        return items

    def get_item(self, item_uuid: str) -> Item | None:
        return self.get_items([item_uuid]).get(item_uuid)

    def _new_item_fields(self, fields: dict) -> dict:
        now = utc_now()
        values = {
            "item_class": "IPM.Note", "subject": "", "body": "", "body_type": "Text",
            "to_recipients": [], "cc_recipients": [], "bcc_recipients": [],
            "importance": "Normal", "categories": [], "is_draft": True, "is_read": True, "sensitivity": "Normal",
            "reply_to": [], "read_receipt_requested": False, "delivery_receipt_requested": False,
            "created": now, "last_modified": now, "received": now,
            "internet_message_id": "<%s@sandbox.test>" % new_uuid(),
        }
        values.update(fields)
        return values

    def _insert_item(self, conn, mailbox: str, folder_uuid: str, fields: dict, extended: dict) -> Item:
        values = self._new_item_fields(fields)
        item_uuid, change_key = new_uuid(), new_change_key()
        columns = list(ITEM_COLUMNS)
        cursor = conn.execute(
            "INSERT INTO items (uuid, mailbox, folder_uuid, change_key, %s) VALUES (?, ?, ?, ?, %s)"
            % (", ".join(columns), ",".join("?" * len(columns))),
            [item_uuid, mailbox, folder_uuid, change_key] + _columns_to_sql(values))
        seq = cursor.lastrowid
        if extended:
            conn.executemany(
                "INSERT INTO extended_properties VALUES (?, ?, ?, ?)",
                [(seq, key, prop_type, _extended_to_sql(prop_type, value)) for key, (prop_type, value) in extended.items()])
        return Item(seq, item_uuid, mailbox, folder_uuid, change_key, _columns_from_values(values), dict(extended))

    def create_item(self, folder_uuid: str, fields: dict, extended: dict | None = None,
                    attachments: Iterable[Attachment] = ()) -> Item:
        """Insert an item into a folder; ``fields`` are ITEM_COLUMNS values, missing ones get defaults."""
        folder = self.folder(folder_uuid)
        with self.transaction() as conn:
            item = self._insert_item(conn, folder.mailbox, folder_uuid, fields, extended or {})
            item.attachments = self._insert_attachments(conn, item, attachments)
            return item

    def update_item(self, item: Item, fields: dict | None = None, set_extended: dict | None = None,
                    delete_extended: Iterable[str] = ()) -> Item:
        """Write changes to ``item`` (a fresh ChangeKey, LastModifiedTime now) and return it updated."""
        fields = dict(fields or {})
        fields["last_modified"] = utc_now()
        change_key = new_change_key()
        with self.transaction() as conn:
            conn.execute(_update_sql("change_key", tuple(fields)),
                         [change_key] + [_to_sql(ITEM_COLUMNS[c], v) for c, v in fields.items()] + [item.seq])
            delete_keys = [(item.seq, key) for key in delete_extended]
            if delete_keys:
                conn.executemany("DELETE FROM extended_properties WHERE item_seq = ? AND prop_key = ?", delete_keys)
            if set_extended:
                conn.executemany(
                    "INSERT OR REPLACE INTO extended_properties VALUES (?, ?, ?, ?)",
                    [(item.seq, key, t, _extended_to_sql(t, v)) for key, (t, v) in set_extended.items()])
        item.change_key = change_key
        item.fields.update(fields)
        for _, key in delete_keys:
            item.extended.pop(key, None)
        item.extended.update(set_extended or {})
        return item

    def move_item(self, item: Item, folder_uuid: str, fields: dict | None = None) -> Item:
        """Move ``item`` (possibly to another mailbox): it gets a new ItemId and ChangeKey."""
        folder = self.folder(folder_uuid)
        fields = dict(fields or {})
        fields["last_modified"] = utc_now()
        item_uuid, change_key = new_uuid(), new_change_key()
        with self.transaction() as conn:
            conn.execute(
                _update_sql("uuid, mailbox, folder_uuid, change_key", tuple(fields)),
                [item_uuid, folder.mailbox, folder_uuid, change_key] + [_to_sql(ITEM_COLUMNS[c], v) for c, v in fields.items()] + [item.seq])
            if item.submitted:
                conn.execute("DELETE FROM submissions WHERE item_seq = ?", (item.seq,))
        item.uuid, item.mailbox, item.folder_uuid, item.change_key = item_uuid, folder.mailbox, folder_uuid, change_key
        item.submitted = False
        item.fields.update(fields)
        return item

    def copy_item(self, item: Item, folder_uuid: str, fields: dict | None = None, with_extended: bool = True) -> Item:
        """A new item in ``folder_uuid`` with ``item``'s content (and by default its extended properties)."""
        folder = self.folder(folder_uuid)
        values = dict(item.fields)
        values.update(fields or {})
        now = utc_now()
        values.update(created=now, last_modified=now)
        with self.transaction() as conn:
            copy = self._insert_item(conn, folder.mailbox, folder_uuid, values, item.extended if with_extended else {})
            if not item.attachments:
                return copy
            # Attachments travel with the copy, content included, without passing through Python.
            conn.execute("INSERT INTO attachments (uuid, item_seq, name, content_type, content_id, is_inline, last_modified,"
                         " content) SELECT lower(hex(randomblob(16))), ?, name, content_type, content_id, is_inline,"
                         " last_modified, content FROM attachments WHERE item_seq = ? ORDER BY seq", (copy.seq, item.seq))
            self._load_attachments(conn, [copy])
            return copy

    def delete_item(self, item: Item) -> None:
        with self.transaction() as conn:
            conn.execute("DELETE FROM items WHERE seq = ?", (item.seq,))
            conn.execute("DELETE FROM extended_properties WHERE item_seq = ?", (item.seq,))
            conn.execute("DELETE FROM attachments WHERE item_seq = ?", (item.seq,))
            if item.submitted:
                conn.execute("DELETE FROM submissions WHERE item_seq = ?", (item.seq,))

    def find_items(self, folder_uuids: list[str], where: str = "", params: list | None = None,
                   order_by: str = "", offset: int = 0, limit: int | None = None,
                   load_extended: bool = True) -> tuple[int, list[Item]]:
        """(total matching, the page of items) in the folders; ``where`` is SQL over ``items`` columns."""
        conn = self.connection()
        condition = "folder_uuid IN (%s)" % ",".join("?" * len(folder_uuids))
        if where:
            condition += " AND (%s)" % where
        arguments = list(folder_uuids) + list(params or [])
        order = order_by or "created DESC, seq DESC"
        page_limit = -1 if limit is None else limit
        # The total and the page as of one moment (one read transaction, unless a write one is open): a write
        # of another request between them would make the total, and so the next-page link, disagree with the page.
        snapshot = not conn.in_transaction
        if snapshot:
            conn.execute("BEGIN")
        try:
            total = conn.execute("SELECT COUNT(*) FROM items WHERE " + condition, arguments).fetchone()[0]
            rows = conn.execute(
                _SELECT_ITEM + " WHERE %s ORDER BY %s LIMIT ? OFFSET ?" % (condition, order),
                arguments + [page_limit, max(offset, 0)])
            items = [self._row_to_item(row) for row in rows]
            if load_extended:
                self._load_extended(conn, items)
            self._load_attachments(conn, items)
        finally:
            if snapshot:
                conn.execute("COMMIT")
        return total, items

    # -- file attachments ---------------------------------------------------------------

    def _insert_attachments(self, conn, item: Item, attachments: Iterable[Attachment]) -> list[Attachment]:
        """Store ``attachments`` on ``item``; the stored ones, described (uuid and time issued, no content)."""
        stored = []
        now = utc_now()
        for attachment in attachments:
            attachment_uuid = new_uuid()
            conn.execute("INSERT INTO attachments (uuid, item_seq, name, content_type, content_id, is_inline, last_modified,"
                         " content) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         (attachment_uuid, item.seq, attachment.name, attachment.content_type, attachment.content_id,
                          1 if attachment.is_inline else 0, now, attachment.content or b""))
            stored.append(_attachment(attachment_uuid, attachment.name, attachment.content_type, attachment.content_id,
                                      attachment.is_inline, len(attachment.content or b""), now))
        return stored

    def add_attachments(self, item: Item, attachments: Iterable[Attachment]) -> list[Attachment]:
        """Attach files to ``item``; like any change to the item, this issues it a new ChangeKey."""
        with self.transaction() as conn:
            stored = self._insert_attachments(conn, item, attachments)
            self.update_item(item)
        item.attachments.extend(stored)
        return stored

    def delete_attachment(self, item: Item, attachment_uuid: str) -> None:
        """Remove one attachment of ``item`` (a new ChangeKey for the item)."""
        with self.transaction() as conn:
            conn.execute("DELETE FROM attachments WHERE uuid = ?", (attachment_uuid,))
            self.update_item(item)
        item.attachments = [a for a in item.attachments if a.uuid != attachment_uuid]

    def attachment_content(self, attachment_uuid: str) -> bytes | None:
        row = self.connection().execute("SELECT content FROM attachments WHERE uuid = ?", (attachment_uuid,)).fetchone()
        return bytes(row[0]) if row else None

    def attachments_with_content(self, item: Item) -> list[Attachment]:
        """``item``'s attachments, content included, in order."""
        if not item.attachments:     # none when the item was read: an item without any costs no query
            return []
        rows = self.connection().execute(
            "SELECT uuid, name, content_type, content_id, is_inline, length(content), last_modified, content"
            " FROM attachments WHERE item_seq = ? ORDER BY seq", (item.seq,))
        return [_attachment(*row[:-1], content=bytes(row[-1])) for row in rows]

    # -- submissions (sent messages waiting in an Outbox) -------------------------------

    def queue_submission(self, item: Item, sender: str, saved_folder_uuid: str | None, due: float) -> None:
        """Mark ``item`` (already in its Outbox) submitted: the submitter delivers it from ``due`` on."""
        with self.transaction() as conn:
            conn.execute("INSERT INTO submissions VALUES (?, ?, ?, ?, ?)", (item.seq, sender, saved_folder_uuid, due, utc_now()))
        item.submitted = True

    def due_submissions(self, now: float, limit: int) -> list[tuple[Item, str, str | None]]:
        """(message, sender, saved folder uuid) of up to ``limit`` submissions due at ``now``, oldest due first."""
        return [(item, sender, saved) for item, sender, saved, _, _ in self._submissions("WHERE due <= ?", (now,), limit)]

    def pending_submissions(self) -> list[tuple[Item, str, str | None, float, str]]:
        """(message, sender, saved folder uuid, due, submitted) of every submission, oldest due first."""
        return self._submissions("", (), -1)

    def _submissions(self, where: str, params: tuple, limit: int) -> list[tuple[Item, str, str | None, float, str]]:
        rows = self.connection().execute("SELECT item_seq, sender, saved_folder_uuid, due, submitted FROM submissions "
                                         + where + " ORDER BY due, item_seq LIMIT ?", params + (limit,)).fetchall()
        items = {item.seq: item for item in self._items_where("seq", [row[0] for row in rows])}
        return [(items[seq],) + tuple(rest) for seq, *rest in rows]

    def postpone_submission(self, item: Item, due: float) -> None:
        with self.transaction() as conn:
            conn.execute("UPDATE submissions SET due = ? WHERE item_seq = ?", (due, item.seq))

    def next_submission_due(self) -> float | None:
        return self.connection().execute("SELECT MIN(due) FROM submissions").fetchone()[0]

    # -- bulk and admin ---------------------------------------------------------------

    def seed(self, mailbox: str, folder: str = "drafts", count: int = 1, subject: str = "Seeded message",
             to: list[str] | None = None, item_class: str = "IPM.Note",
             extended_properties: list[dict] | None = None) -> list[tuple[str, str]]:
        """Bulk-create ``count`` items in a distinguished folder; returns (ItemId, ChangeKey) pairs.

        ``extended_properties`` entries: {"property_set_id" | "distinguished_property_set_id" |
        "property_tag", "property_name" | "property_id", "property_type", "value"}.
        ``subject`` may contain ``{n}`` (1-based index).
        """
        mailbox = mailbox.lower()
        folder_uuid = self.distinguished_folder(mailbox, folder)
        recipients = [{"name": address, "email": address} for address in (to or [])]
        extended = {}
        for spec in extended_properties or []:
            key = extended_key(spec.get("property_tag"), spec.get("property_set_id"),
                               spec.get("distinguished_property_set_id"), spec.get("property_name"), spec.get("property_id"))
            extended[key] = (spec.get("property_type", "String"), spec["value"])
        is_draft = folder in ("drafts", "outbox")
        columns = list(ITEM_COLUMNS)
        insert_item = "INSERT INTO items (uuid, mailbox, folder_uuid, change_key, %s) VALUES (?, ?, ?, ?, %s)" % (
            ", ".join(columns), ",".join("?" * len(columns)))
        created = []
        with self.transaction() as conn:
            for n in range(1, count + 1):
                values = self._new_item_fields({
                    "item_class": item_class, "subject": subject.replace("{n}", str(n)),
                    "to_recipients": recipients, "is_draft": is_draft,
                    "from_mailbox": {"name": mailbox, "email": mailbox},
                })
                item_uuid, change_key = new_uuid(), new_change_key()
                seq = conn.execute(insert_item, [item_uuid, mailbox, folder_uuid, change_key]
                                   + _columns_to_sql(values)).lastrowid
                conn.executemany("INSERT INTO extended_properties VALUES (?, ?, ?, ?)",
                                 [(seq, key, t, _extended_to_sql(t, v)) for key, (t, v) in extended.items()])
                created.append((encode_item_id(mailbox, item_uuid), change_key))
        return created

    def reset(self) -> None:
        """Empty every mailbox (folders are recreated on demand); the delivery log has its own reset."""
        with self.transaction() as conn:
            conn.execute("DELETE FROM submissions")
            conn.execute("DELETE FROM attachments")
            conn.execute("DELETE FROM extended_properties")
            conn.execute("DELETE FROM items")
            conn.execute("DELETE FROM folders")
        self._folder_cache.clear()
        self._folders.clear()
        self._pending_folders.clear()
