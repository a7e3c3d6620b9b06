# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks of option values, shared by every module and lookup: pure functions.

Each takes the value and ``where``, the option as the user wrote it
(``"to[2]"``, ``"item_ids[3]"``), and returns the value to use or raises
``EwsConfigError`` naming ``where`` and what is wrong, before any request is
made. Messages quote values only shortened, and never quote secrets.

    validate_item_id("AAMkAD...=", where="item_ids[3]")
    validate_smtp_address("alice@example.com", where="mailbox")
    validate_folder("Sent Items", where="saved_item_folder")   # raises: lists the distinguished names
    parse_time("-7d", where="created_after")                   # aware UTC datetime
    validate_header("X-Campaign", "q3", where="headers")       # an extra internet header of a message
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import datetime
import re

from ansible_collections.exchange.ews.plugins.module_utils.errors import EwsConfigError

# Distinguished folder names a caller may give instead of a FolderId: the mail
# folders of ews_schema's DistinguishedFolderIdNameType.
DISTINGUISHED_FOLDERS = ("deleteditems", "drafts", "inbox", "junkemail", "msgfolderroot", "outbox", "root",
                         "sentitems")

# Exchange's ItemIds and FolderIds are base64 of at most a few hundred bytes
# (about 150 characters for a mailbox item); ChangeKeys are shorter.
MAX_ID_LENGTH = 512
MAX_KEY_LENGTH = 255
MAX_ADDRESS_LENGTH = 254
# Relative ages go back at most this far; absolute times stay in the range Exchange stores.
MAX_AGE_DAYS = 36500
EARLIEST_TIME = datetime.datetime(1601, 1, 1, tzinfo=datetime.timezone.utc)
LATEST_TIME = datetime.datetime(9999, 12, 31, tzinfo=datetime.timezone.utc)

# An extra header's name: "X-" and RFC 5322 field-name characters (printable ASCII but ":"), kept to
# letters, digits and "-", the form mail software expects; the value fits one line of at most 998
# characters with its name (RFC 5322 2.1.1). Content-IDs and file names are bounded like a subject.
MAX_HEADER_NAME_LENGTH = 76
MAX_HEADER_LINE_LENGTH = 998
MAX_NAME_LENGTH = 255

TRUE_WORDS = ("true", "yes", "on", "y", "1")
FALSE_WORDS = ("false", "no", "off", "n", "0")

_BASE64 = re.compile(r"^[A-Za-z0-9+/]+={0,2}\Z")
# An id in either alphabet: Exchange's EWS ids (base64) and the same bytes as Microsoft Graph's REST ids
# (URL-safe base64: - and _ for + and /).
_ANY_BASE64 = re.compile(r"^(?:[A-Za-z0-9+/]+|[A-Za-z0-9_-]+)={0,2}\Z")
_TO_EWS_ALPHABET = str.maketrans("-_", "+/")
_TO_REST_ALPHABET = str.maketrans("+/", "-_")
# Characters an XML 1.0 document cannot carry, so no request can hold them: the complement of its Char
# production (#x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]), written out because
# the negated class with the ranges above U+FFFF costs several milliseconds to compile at every start.
_NOT_XML = re.compile("[\u0000-\u0008\u000b\u000c\u000e-\u001f\ud800-\udfff\ufffe\uffff]")
# Control characters (C0, DEL, C1): never part of a password, token or user name; a trailing
# newline usually comes from a YAML block scalar.
_CONTROL = re.compile("[\u0000-\u001f\u007f-\u009f]")
_SMTP_ADDRESS = re.compile(
    r"^[^\s@<>()\[\],;:\"\\\x00-\x1f\x7f]{1,64}@(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+[^\W_](?:[\w-]{0,61}[^\W_])?\Z",
    re.UNICODE)
_HEADER_NAME = re.compile(r"^[Xx]-[A-Za-z0-9][A-Za-z0-9-]*\Z")
# RFC 2392 content-id: an addr-spec (or any token without spaces, angle brackets or quotes, as mail clients write
# them); printable ASCII only, so that the cid: URL in an HTML body can name it.
_CONTENT_ID = re.compile(r"^[!#-;=?-~]+\Z")
_CONTENT_TYPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*\Z")
_RELATIVE_TIME = re.compile(r"^-(\d{1,12})([smhdw])\Z")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def shown(value, limit=60):
    """``repr(value)``, shortened for a message."""
    text = repr(value)
    return text if len(text) <= limit else "%s... (%d characters)" % (text[:limit], len(text))


def validate_xml_text(value, where):
    """``value``, checked (through lists and dicts) for characters no XML request can carry."""
    if isinstance(value, (list, tuple)):
        for index, element in enumerate(value):
            validate_xml_text(element, "%s[%d]" % (where, index))
    elif isinstance(value, dict):
        for key, element in value.items():
            validate_xml_text(element, "%s.%s" % (where, key))
    elif isinstance(value, str):
        bad = _NOT_XML.search(value)
        if bad:
            raise EwsConfigError("%s contains U+%04X at position %d, a character XML (and so EWS) cannot carry"
                                 % (where, ord(bad.group(0)), bad.start()))
    return value


def validate_secret(value, where):
    """A password, token or user name: refused with control characters, and never quoted."""
    if not isinstance(value, str):
        raise EwsConfigError("%s must be a string" % where)
    what = _control_character(value)
    if what:
        raise EwsConfigError("%s contains %s; it is not used. A YAML block scalar (|) ends with a line break: "
                             "use |- or the trim filter" % (where, what))
    return value


def _control_character(value):
    """The first control character in ``value``, named for a message ("a line break"...), or None."""
    bad = _CONTROL.search(value)
    if bad is None:
        return None
    return "a line break" if bad.group(0) in "\r\n" else "a control character (U+%04X)" % ord(bad.group(0))


def _validate_base64_id(value, where, what):
    if not isinstance(value, str) or not value:
        raise EwsConfigError("%s must be a non-empty %s string, got %s" % (where, what, shown(value)))
    if len(value) > MAX_ID_LENGTH:
        raise EwsConfigError("%s is %d characters long; an EWS %s has at most %d"
                             % (where, len(value), what, MAX_ID_LENGTH))
    if not _ANY_BASE64.match(value):
        raise EwsConfigError("%s is not an EWS %s (base64: letters, digits, + and /, or - and _ as Microsoft "
                             "Graph writes it, and = at the end): %s" % (where, what, shown(value)))
    return value


def ews_form(identifier):
    """An item or folder id in EWS's alphabet (a Graph REST id's ``-`` and ``_`` become ``+`` and ``/``)."""
    return identifier.translate(_TO_EWS_ALPHABET)


def rest_form(identifier):
    """An item or folder id as Microsoft Graph takes it: URL-safe base64 of the same bytes as the EWS id."""
    return identifier.translate(_TO_REST_ALPHABET)


def validate_item_id(value, where="id"):
    """An EWS ItemId or a Graph message id (the same bytes, URL-safe): base64, at most ``MAX_ID_LENGTH`` characters."""
    return _validate_base64_id(value, where, "ItemId")


def validate_change_key(value, where="change_key"):
    """An EWS ChangeKey: base64, at most ``MAX_ID_LENGTH`` characters."""
    return _validate_base64_id(value, where, "ChangeKey")


def validate_folder(value, where="folder"):
    """A distinguished folder name (returned lower-cased) or a FolderId (returned as is)."""
    if isinstance(value, str) and re.match(r"^[A-Za-z]+\Z", value):
        if value.lower() in DISTINGUISHED_FOLDERS:
            return value.lower()
    elif isinstance(value, str) and value and len(value) <= MAX_ID_LENGTH and _ANY_BASE64.match(value):
        return value
    raise EwsConfigError("%s: %s is neither a distinguished folder name (%s) nor an EWS FolderId"
                         % (where, shown(value), ", ".join(DISTINGUISHED_FOLDERS)))


def validate_smtp_address(value, where):
    """An SMTP address such as ``alice@example.com`` (international characters allowed)."""
    if not isinstance(value, str) or len(value) > MAX_ADDRESS_LENGTH or not _SMTP_ADDRESS.match(value):
        raise EwsConfigError("%s: %s is not an SMTP address (expected name@domain.example)" % (where, shown(value)))
    return value


def validate_key(value, where="key"):
    """A caller's idempotency key: not empty or blank, at most ``MAX_KEY_LENGTH`` characters, XML text."""
    if not isinstance(value, str) or not value.strip():
        raise EwsConfigError("%s must not be empty" % where)
    if len(value) > MAX_KEY_LENGTH:
        raise EwsConfigError("%s is %d characters long; at most %d are allowed" % (where, len(value), MAX_KEY_LENGTH))
    return validate_xml_text(value, where)


def validate_header(name, value, where="headers"):
    """An extra internet header of a message: ``(name, value)``, checked.

    The name starts with ``X-`` (Exchange writes only those into the message,
    as named properties of the InternetHeaders set) and holds letters, digits
    and ``-``; the value is text without line breaks or control characters (a
    line break would start another header) and fits one header line.
    """
    if not isinstance(name, str) or not _HEADER_NAME.match(name) or len(name) > MAX_HEADER_NAME_LENGTH:
        raise EwsConfigError("%s: %s is not an extra header name: use X- followed by letters, digits and - "
                             "(at most %d characters), for example X-Campaign"
                             % (where, shown(name), MAX_HEADER_NAME_LENGTH))
    where = "%s.%s" % (where, name)
    if not isinstance(value, str):
        raise EwsConfigError("%s must be a string, got %s" % (where, shown(value)))
    what = _control_character(value)
    if what:
        raise EwsConfigError("%s contains %s; a header value is one line of text" % (where, what))
    if len(name) + 2 + len(value) > MAX_HEADER_LINE_LENGTH:
        raise EwsConfigError("%s is %d characters long; a header line holds at most %d with its name"
                             % (where, len(value), MAX_HEADER_LINE_LENGTH))
    return name, validate_xml_text(value, where)


def validate_content_id(value, where="content_id"):
    """An attachment's Content-ID (RFC 2392), as an HTML body names it in ``cid:``, without the angle brackets."""
    if not isinstance(value, str) or not _CONTENT_ID.match(value) or len(value) > MAX_NAME_LENGTH:
        raise EwsConfigError("%s: %s is not a Content-ID: printable ASCII without spaces, quotes or angle brackets "
                             "(at most %d characters), for example logo@example.com"
                             % (where, shown(value), MAX_NAME_LENGTH))
    return value


def validate_content_type(value, where="content_type"):
    """A MIME type such as ``text/csv`` or ``image/png`` (no parameters)."""
    if not isinstance(value, str) or not _CONTENT_TYPE.match(value) or len(value) > MAX_NAME_LENGTH:
        raise EwsConfigError("%s: %s is not a MIME type (type/subtype, for example text/csv)" % (where, shown(value)))
    return value


def validate_file_name(value, where="name"):
    """An attachment's file name: not empty, one line of text, at most ``MAX_NAME_LENGTH`` characters."""
    if not isinstance(value, str) or not value.strip():
        raise EwsConfigError("%s must be a non-empty file name" % where)
    if _CONTROL.search(value) or len(value) > MAX_NAME_LENGTH:
        raise EwsConfigError("%s: %s is not a file name: one line of text, at most %d characters"
                             % (where, shown(value), MAX_NAME_LENGTH))
    return validate_xml_text(value, where)


def decode_base64(value, where):
    """The bytes ``value`` encodes in base64 (line breaks and spaces, as YAML block scalars leave them, are
    ignored); anything else is refused."""
    if not isinstance(value, str):
        raise EwsConfigError("%s must be a base64 string" % where)
    compact = re.sub(r"\s+", "", value)
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise EwsConfigError("%s is not base64 (letters, digits, + and /, padded with =): %s"
                             % (where, shown(value)))


def parse_bool(value, where):
    """``True`` or ``False`` from a boolean, 0/1, or one of ``TRUE_WORDS`` / ``FALSE_WORDS`` (any case).

    Anything else is an error: a typo must never switch a check off.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    raise EwsConfigError("%s: %s is not a boolean (use true or false)" % (where, shown(value)))


def parse_time(value, where, now=None, relative_ages=True):
    """A timezone-aware UTC datetime from an ISO 8601 string or a relative age.

    Relative ages count back from ``now`` (default: this machine's clock):
    ``-30m``, ``-12h``, ``-1d``, ``-2w`` (units s, m, h, d, w), at most
    ``MAX_AGE_DAYS``; with ``relative_ages=False`` only ISO 8601 is accepted
    (for a value that must not change from one run to the next). ISO 8601
    values may be dates (midnight UTC) or date-times; without an offset they
    are UTC; they must lie between 1601 and 9999.
    """
    text = str(value).strip()
    relative = _RELATIVE_TIME.match(text)
    if relative and not relative_ages:
        raise EwsConfigError("%s: %s is a relative age; give an ISO 8601 date/time (2024-05-01T08:00:00Z), which "
                             "stays the same at every run" % (where, shown(text)))
    if relative:
        seconds = int(relative.group(1)) * _UNIT_SECONDS[relative.group(2)]
        if seconds > MAX_AGE_DAYS * 86400:
            raise EwsConfigError("%s: %s goes back more than %d days" % (where, shown(text), MAX_AGE_DAYS))
        now = now or datetime.datetime.now(datetime.timezone.utc)
        return now - datetime.timedelta(seconds=seconds)
    try:
        # Python < 3.11 fromisoformat does not know the "Z" suffix.
        parsed = datetime.datetime.fromisoformat(re.sub(r"[zZ]$", "+00:00", text))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=datetime.timezone.utc)
        parsed = parsed.astimezone(datetime.timezone.utc)
    except (ValueError, OverflowError):
        raise EwsConfigError("%s: %s is neither an ISO 8601 date/time (2024-05-01, 2024-05-01T08:00:00Z) "
                             "nor a relative age (-30m, -12h, -1d, -2w)" % (where, shown(text)))
    if not EARLIEST_TIME <= parsed <= LATEST_TIME:
        raise EwsConfigError("%s: %s is outside the years 1601 to 9999" % (where, shown(text)))
    return parsed
