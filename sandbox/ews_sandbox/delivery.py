"""What happens to a sent message: copies in local recipients' Inboxes, SMTP relay for the rest, a durable log.

Every send appends one row to the delivery log (SQLite, same database as the
store), so a message sent twice shows up twice; ``marker`` carries the
``ExchangeEwsSendMarker`` extended property so tests can count sends per draft,
and ``send_state`` the ``ExchangeEwsSendState`` the message had when it was
submitted, so a test can tell which run's stamp was on what went out.
The Internet message (mime.py) each delivery carried is kept beside the log.
"""

from __future__ import annotations

import json
import smtplib

from . import smtp_relay
from .mime import build_mime
from .store import Item, Store, utc_now

MARKER_PROPERTY = "ExchangeEwsSendMarker"
STATE_PROPERTY = "ExchangeEwsSendState"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    internet_message_id TEXT,
    subject TEXT,
    from_address TEXT,
    recipients TEXT NOT NULL,
    mailbox TEXT NOT NULL,
    route TEXT NOT NULL,
    undelivered TEXT NOT NULL,
    marker TEXT,
    time TEXT NOT NULL,
    sender TEXT,
    send_state TEXT
);
CREATE TABLE IF NOT EXISTS delivered_mime (
    delivery_seq INTEGER PRIMARY KEY,   -- deliveries.seq
    mime BLOB NOT NULL
);
"""


def named_property(item: Item, name: str) -> str | None:
    """The value of the named extended property ``name``, whatever its property set."""
    for key, (_, value) in item.extended.items():
        if key.endswith(":name:" + name):
            return value
    return None


def send_marker(item: Item) -> str | None:
    """The value of ExchangeEwsSendMarker."""
    return named_property(item, MARKER_PROPERTY)


class Delivery:
    """Delivers sent items. ``smarthost`` ((host, port)) relays recipients outside the sandbox's directory."""

    def __init__(self, store: Store, directory, smarthost: tuple[str, int] | None = None):
        self.store = store
        self.directory = directory
        self.smarthost = smarthost
        conn = self.store.connection()
        conn.executescript(_SCHEMA)
        columns = {row[1] for row in conn.execute("PRAGMA table_info(deliveries)")}
        if "sender" not in columns:
            conn.execute("ALTER TABLE deliveries ADD COLUMN sender TEXT")   # a data folder from before Send As
        if "send_state" not in columns:
            conn.execute("ALTER TABLE deliveries ADD COLUMN send_state TEXT")   # ... from before send_state

    def deliver(self, sender_mailbox: str, item: Item) -> dict:
        """Deliver ``item`` sent by ``sender_mailbox``; joins the caller's store transaction if there is one."""
        from_mailbox = item.fields.get("from_mailbox") or {"email": sender_mailbox}
        from_address = from_mailbox["email"]
        sender_address = (item.fields.get("sender_mailbox") or from_mailbox)["email"]
        addresses = list(dict.fromkeys(r["email"].lower() for r in item.recipients() if r.get("email")))
        local = [a for a in addresses if self.directory.by_smtp(a) is not None]
        remote = [a for a in addresses if a not in local]
        now = utc_now()
        mime = build_mime(item, self.store.attachments_with_content(item))
        with self.store.transaction() as conn:
            for address in local:
                inbox = self.store.distinguished_folder(address, "inbox")
                self.store.copy_item(item, inbox, {
                    "is_draft": False, "is_read": False, "received": now, "sent": now,
                    "bcc_recipients": [], "from_mailbox": from_mailbox,
                }, with_extended=False)
            undelivered = remote if remote and not self.smarthost else []
            if remote and self.smarthost:
                undelivered = self._relay(from_address, remote, mime, item.fields["delivery_receipt_requested"])
            entry = {
                "internet_message_id": item.fields["internet_message_id"],
                "subject": item.fields["subject"],
                "from": from_address,
                "sender": sender_address,
                "recipients": addresses,
                "mailbox": item.mailbox,
                "route": "smtp" if remote else "local",
                "undelivered": undelivered,
                "marker": send_marker(item),
                "send_state": named_property(item, STATE_PROPERTY),
                "time": now,
            }
            cursor = conn.execute(
                "INSERT INTO deliveries (internet_message_id, subject, from_address, sender, recipients, mailbox, route,"
                " undelivered, marker, send_state, time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (entry["internet_message_id"], entry["subject"], entry["from"], sender_address, json.dumps(addresses),
                 entry["mailbox"], entry["route"], json.dumps(undelivered) if undelivered else "[]", entry["marker"],
                 entry["send_state"], now))
            entry["seq"] = cursor.lastrowid
            conn.execute("INSERT INTO delivered_mime VALUES (?, ?)", (entry["seq"], mime))
        return entry

    def _relay(self, mail_from: str, recipients: list[str], mime: bytes, delivery_receipt: bool) -> list[str]:
        """Relay through the smarthost; a relay failure is logged as undelivered, never fails the send (like an NDR)."""
        try:
            smtp_relay.relay(self.smarthost, mail_from, recipients, mime, delivery_receipt)
        except (smtplib.SMTPException, OSError):
            return recipients
        return []

    def log(self, since: int = 0) -> list[dict]:
        """Delivery log entries with seq > ``since``, oldest first."""
        rows = self.store.connection().execute(
            "SELECT seq, internet_message_id, subject, from_address, COALESCE(sender, from_address), recipients, mailbox,"
            " route, undelivered, marker, send_state, time FROM deliveries WHERE seq > ? ORDER BY seq", (since,))
        return [{"seq": seq, "internet_message_id": message_id, "subject": subject, "from": from_address,
                 "sender": sender, "recipients": json.loads(recipients), "mailbox": mailbox, "route": route,
                 "undelivered": json.loads(undelivered), "marker": marker, "send_state": send_state, "time": time}
                for (seq, message_id, subject, from_address, sender, recipients, mailbox, route, undelivered, marker,
                     send_state, time) in rows]

    def mime(self, seq: int) -> bytes | None:
        """The Internet message delivery ``seq`` carried."""
        row = self.store.connection().execute("SELECT mime FROM delivered_mime WHERE delivery_seq = ?", (seq,)).fetchone()
        return bytes(row[0]) if row else None

    def reset(self) -> None:
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM deliveries")
            conn.execute("DELETE FROM delivered_mime")
