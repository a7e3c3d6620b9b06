"""Opaque identifiers shaped like Exchange's: base64 ItemId / FolderId / AttachmentId and ChangeKey.

An ItemId or FolderId encodes the owning mailbox and the store's uuid of the
object, so a server can tell a malformed id (ErrorInvalidIdMalformed) from a
well-formed id whose object is gone (ErrorItemNotFound). An AttachmentId also
encodes its item's uuid, as Exchange's name their item: once the item moves
(a new ItemId) its old attachment ids no longer answer. A ChangeKey is an
opaque version token; the store issues a fresh one on every write.
"""

from __future__ import annotations

import base64
import binascii
import functools
import os
import uuid
from dataclasses import dataclass

from .errors import ItemError

# Leading bytes chosen so ids look like Exchange's ("AAMk..." ids, "CQAAAB..." change keys).
_ID_PREFIX = b"\x00\x03\x24"
_KIND_ITEM = 0x07
_KIND_FOLDER = 0x01
_KIND_ATTACHMENT = 0x0A
_CHANGE_KEY_PREFIX = b"\x09\x00\x00\x00\x16\x00\x00\x00"

MALFORMED = ("ErrorInvalidIdMalformed", "Id is malformed.")
EMPTY = ("ErrorInvalidIdEmpty", "The Id attribute is empty.")


@dataclass(frozen=True)
class StoreId:
    mailbox: str
    uuid: str     # 32 hex digits


def _encode(kind: int, mailbox: str, *object_uuids: str) -> str:
    mailbox_bytes = mailbox.lower().encode("utf-8")
    raw = _ID_PREFIX + bytes([kind, len(mailbox_bytes)]) + mailbox_bytes + b"".join(map(_uuid_bytes, object_uuids))
    return base64.b64encode(raw).decode("ascii")


def _uuid_bytes(object_uuid: str) -> bytes:
    """The 16 bytes of a uuid's 32 hex digits (the store's form; anything else goes through uuid.UUID)."""
    if len(object_uuid) == 32:
        try:
            raw = bytes.fromhex(object_uuid)
        except ValueError:
            raw = b""
        if len(raw) == 16:
            return raw
    return uuid.UUID(hex=object_uuid).bytes


@functools.lru_cache(maxsize=8192)
def _decode(kind: int, text: str | None) -> StoreId:
    """Cached: a request's ids are decoded more than once (prefetch, then per item); errors are not cached."""
    mailbox, (object_uuid,) = _decode_uuids(kind, 1, text)
    return StoreId(mailbox, object_uuid)


def _decode_uuids(kind: int, count: int, text: str | None) -> tuple[str, tuple[str, ...]]:
    """(mailbox, ``count`` uuids) of an id of ``kind``."""
    if not text:
        raise ItemError(*EMPTY)
    try:
        raw = base64.b64decode((text or "").encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise ItemError(*MALFORMED) from None
    header = len(_ID_PREFIX) + 2
    if len(raw) < header or not raw.startswith(_ID_PREFIX) or raw[len(_ID_PREFIX)] != kind:
        raise ItemError(*MALFORMED)
    mailbox_len = raw[len(_ID_PREFIX) + 1]
    if len(raw) != header + mailbox_len + 16 * count:
        raise ItemError(*MALFORMED)
    try:
        mailbox = raw[header:header + mailbox_len].decode("utf-8")
    except UnicodeDecodeError:
        raise ItemError(*MALFORMED) from None
    uuids = raw[header + mailbox_len:]
    return mailbox, tuple(uuids[start:start + 16].hex() for start in range(0, 16 * count, 16))


def encode_item_id(mailbox: str, item_uuid: str) -> str:
    return _encode(_KIND_ITEM, mailbox, item_uuid)


def decode_item_id(text: str | None) -> StoreId:
    """Raise ItemError (ErrorInvalidIdEmpty, ErrorInvalidIdMalformed) unless ``text`` is an ItemId this server issued."""
    return _decode(_KIND_ITEM, text)


def encode_folder_id(mailbox: str, folder_uuid: str) -> str:
    return _encode(_KIND_FOLDER, mailbox, folder_uuid)


def decode_folder_id(text: str | None) -> StoreId:
    return _decode(_KIND_FOLDER, text)


def encode_attachment_id(mailbox: str, item_uuid: str, attachment_uuid: str) -> str:
    return _encode(_KIND_ATTACHMENT, mailbox, item_uuid, attachment_uuid)


def decode_attachment_id(text: str | None) -> tuple[StoreId, str]:
    """(the item's StoreId, the attachment's uuid); ItemError as decode_item_id for an id this server did not issue."""
    mailbox, (item_uuid, attachment_uuid) = _decode_uuids(_KIND_ATTACHMENT, 2, text)
    return StoreId(mailbox, item_uuid), attachment_uuid


def new_uuid() -> str:
    """uuid.uuid4().hex without building a UUID: 16 random bytes with the version 4 and RFC 4122 variant bits."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    return raw.hex()


def new_change_key() -> str:
    return base64.b64encode(_CHANGE_KEY_PREFIX + os.urandom(12)).decode("ascii")
