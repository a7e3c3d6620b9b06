# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Messages identified by a caller's key: composed, kept as a draft, sent exactly once, or deleted.

The logic of ``exchange.ews.message`` (and of ``exchange.ews.draft``, a
redirect to it): the module parses options and presents results, this module
does the rest::

    spec = MessageSpec.from_params(module.params)       # every check before any request
    backend = EwsMessages(client, spec.mailbox)         # or GraphMessages (api: graph)
    keyed = KeyedMessage(backend, spec, check_mode=module.check_mode, diff=module._diff)
    result = keyed.run("sent")                          # or "draft", "absent"
    keyed.warnings

The key is stored on the draft as an extended property; Exchange copies
extended properties to the message in the Outbox and to the sent copy, so one
search over Drafts, Outbox and Sent Items finds the message by key wherever
it is. How a key is sent exactly once, also by concurrent runs, is
docs/exactly-once.md's "Keyed messages"; the decisions are
``message_decisions.py``, the send of the chosen draft ``ExactlyOnceSender``.

This module is the logic, once; a backend makes its requests, over EWS
(``ews_messages.EwsMessages``) or Microsoft Graph
(``graph_messages.GraphMessages``). A backend has ``server_time`` (the
clock of its last answer), ``max_request_bytes`` and
``max_attachment_bytes`` (its own limits, or None), and ``search(key)``
(``Found`` list), ``read(id, body, text_body)`` (``Current`` or None),
``created(id)`` (a creation time, or None when gone), ``create(spec,
with_attachments)``, ``write(id, change_key, spec, names, removed_headers,
record)``, ``add_attachments(id, change_key, attachments)`` (each returning
the new ``(id, change_key)`` or ChangeKey), ``delete_attachments(id,
change_key, attachment_ids)``, ``delete(id, change_key, hard)`` and
``channel()`` (for ``ExactlyOnceSender``). Writes raise ``EwsError``; one
whose ResponseCode is a ``CONFLICT_CODES`` met another writer.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import mimetypes
import os
import re
import time

from ansible_collections.exchange.ews.plugins.module_utils import message_decisions as decisions
from ansible_collections.exchange.ews.plugins.module_utils import properties
from ansible_collections.exchange.ews.plugins.module_utils.errors import EwsConfigError, EwsError, EwsResponseLost
from ansible_collections.exchange.ews.plugins.module_utils.responses import parse_datetime_text
from ansible_collections.exchange.ews.plugins.module_utils.transport import HAS_ZEEP
from ansible_collections.exchange.ews.plugins.module_utils.validation import (
    decode_base64,
    parse_time,
    validate_content_id,
    validate_content_type,
    validate_file_name,
    validate_header,
    validate_key,
    validate_smtp_address,
)

if HAS_ZEEP:
    from ansible_collections.exchange.ews.plugins.module_utils.exactly_once import ExactlyOnceSender, ItemRef

# The message's identity, and what this module last wrote where Exchange does not return it as written:
# the body's digest (Exchange rewrites HTML), the attachments' digests by name (Exchange returns no content
# without downloading it), the extra headers (named properties, readable only by name).
KEY_PATH = properties.path("ExchangeEwsDraftKey")
BODY_DIGEST_PATH = properties.path("ExchangeEwsDraftBodyDigest")
ATTACHMENTS_PATH = properties.path("ExchangeEwsAttachments")
HEADERS_PATH = properties.path("ExchangeEwsHeaders")
# PidTagDeferredSendTime: Exchange holds the message in the Outbox until then ([MS-OXOMSG] 2.2.3.4).
DEFERRED_SEND_TIME_PATH = {"PropertyTag": "0x3FEF", "PropertyType": "SystemTime"}


def header_path(name):
    """An extra internet header: a named property of the InternetHeaders set, which Exchange writes into the MIME."""
    return {"DistinguishedPropertySetId": "InternetHeaders", "PropertyName": name, "PropertyType": "String"}


STATES = ("sent", "draft", "absent")
# The draft module's value, and the names under which a task means the draft module (a redirect to this one).
PRESENT = "present"
DRAFT_MODULE_NAMES = ("exchange.ews.draft", "draft")
BODY_TYPES = {"text": "Text", "html": "HTML"}
IMPORTANCES = ("low", "normal", "high")
SENSITIVITIES = ("normal", "personal", "private", "confidential")
RECIPIENT_FIELDS = (("to", "ToRecipients"), ("cc", "CcRecipients"), ("bcc", "BccRecipients"),
                    ("reply_to", "ReplyTo"))
# The content options, in the order changed_fields and the diff list them.
OPTIONS = ("subject", "body", "body_type", "to", "cc", "bcc", "reply_to", "from", "importance", "sensitivity",
           "categories", "read_receipt", "delivery_receipt", "deliver_at", "headers", "attachments")
# How much of a body a diff shows.
DIFF_BODY_CHARS = 2000
MIB = 1024 * 1024
# What a request adds around each text value of a message (element names, attributes): for the size estimates.
FIELD_MARKUP = 96
# Matches of a search by key: one message, its drafts of concurrent or crashed runs, a copy or two.
SEARCH_LIMIT = 1000
# Rounds of the send loop: a draft gone before it could be sent, or changed under this run, sends it back
# to the search; the deadline bounds the time, this the requests.
MAX_ROUNDS = 20
# How long a run waits for the server's clock to pass one draft's creation second (about a second normally).
MAX_CLOCK_WAIT = 30
NOT_FOUND = "ErrorItemNotFound"
# state sent without a draft, a sent copy, or recipients to compose a message with: nothing to send.
NO_MESSAGE_CODE = "EwsNoMessageForKey"
# Answers to a write on a draft that mean another writer came first: it changed it, or sent or deleted it.
CONFLICT_CODES = ("ErrorIrresolvableConflict", "ErrorStaleObject", NOT_FOUND)
# Attachment operations a file content type is guessed for: Python's own table, the same on every host.
_MIME_TYPES = mimetypes.MimeTypes()
_CID_REFERENCE = re.compile(r"""cid:([^"'\s>)]+)""", re.IGNORECASE)

ATTACHMENT_OPTIONS = dict(
    path=dict(type="path"),
    content=dict(type="str"),
    name=dict(type="str"),
    encoding=dict(type="str", default="text", choices=["text", "base64"]),
    content_type=dict(type="str"),
    content_id=dict(type="str"),
)

ARGUMENT_SPEC = dict(
    key=dict(type="str", required=True, no_log=False),
    state=dict(type="str", choices=list(STATES) + [PRESENT]),
    mailbox=dict(type="str"),
    subject=dict(type="str"),
    body=dict(type="str"),
    body_type=dict(type="str", default="text", choices=list(BODY_TYPES)),
    to=dict(type="list", elements="str"),
    cc=dict(type="list", elements="str"),
    bcc=dict(type="list", elements="str"),
    reply_to=dict(type="list", elements="str"),
    importance=dict(type="str", choices=list(IMPORTANCES)),
    sensitivity=dict(type="str", choices=list(SENSITIVITIES)),
    categories=dict(type="list", elements="str"),
    read_receipt=dict(type="bool"),
    delivery_receipt=dict(type="bool"),
    deliver_at=dict(type="str"),
    headers=dict(type="dict"),
    attachments=dict(type="list", elements="dict", options=ATTACHMENT_OPTIONS,
                     mutually_exclusive=[["path", "content"]], required_one_of=[["path", "content"]],
                     required_by={"content": ["name"]}),
    max_send_size_mb=dict(type="int", default=10),
    max_request_size_mb=dict(type="int", default=64),
    deadline=dict(type="int", default=900),
)
# "from" is a Python keyword: the spec names it here.
ARGUMENT_SPEC["from"] = dict(type="str")


def resolve_state(state, module_name):
    """The state to apply: ``state`` as given (``present`` is the draft module's ``draft``), or the default
    of the name the task used: ``draft`` for ``exchange.ews.draft``, ``sent`` otherwise. A task written as
    ``exchange.ews.draft`` never sends: asking it to is refused."""
    as_draft_module = module_name in DRAFT_MODULE_NAMES
    if state == PRESENT:
        state = "draft"
    if state is None:
        return "draft" if as_draft_module else "sent"
    if state == "sent" and as_draft_module:
        raise EwsConfigError("%s never sends (it is exchange.ews.message with state draft); use "
                             "exchange.ews.message to send the message" % module_name)
    return state


def second(moment):
    """``moment`` to the whole second: how Exchange returns DateTimeCreated, and how the HTTP Date reads."""
    return moment.replace(microsecond=0)


def utc_text(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def bounded(text, limit=DIFF_BODY_CHARS):
    """``text`` for a diff: at most ``limit`` characters, saying how much was left out."""
    if text is None or len(text) <= limit:
        return text
    return "%s\n... (%d more characters)" % (text[:limit], len(text) - limit)


def body_digest(body_type, body):
    return hashlib.sha256(("%s\n%s" % (body_type, body)).encode("utf-8")).hexdigest()


def describe_attachment(name, content_type, size, content_id=None, note=None):
    """An attachment as a diff shows it: ``logo.png (image/png, 1,234 bytes, inline as cid:logo)``."""
    details = [content_type or "unknown type", "{:,} bytes".format(size) if size is not None else "size unknown"]
    if content_id:
        details.append("inline as cid:%s" % content_id)
    if note:
        details.append(note)
    return "%s (%s)" % (name, ", ".join(details))


class MessageError(EwsError):
    """The task cannot go on: ``response_code`` says why (Exchange's, or the collection's own ``Ews...``)."""


class AmbiguousKeyError(MessageError):
    """More than one draft carries the key, where the module will not guess which one is meant."""

    def __init__(self, key, ids):
        self.ids = ids
        super(AmbiguousKeyError, self).__init__(
            "%d drafts in Drafts carry key %r, expected at most one; delete the extra ones, or send the message "
            "(state sent sends the first and deletes the others): %s" % (len(ids), key, ", ".join(ids)),
            response_code="EwsAmbiguousKey")


class Conflict(MessageError):
    """A compare-and-set write was refused: the draft changed since it was read, or is gone (sent or deleted),
    by another run or a user."""

    @classmethod
    def from_error(cls, error):
        return cls(error.message_text, operation=error.operation, response_code=error.response_code,
                   item_id=error.item_id)


class Attachment:
    """One attachment of the task: ``name``, ``content_type``, ``content_id`` (inline) or None, ``content``
    (bytes) and ``digest`` (of all four: what the draft records to skip an unchanged upload)."""

    __slots__ = ("name", "content_type", "content_id", "content", "digest")

    def __init__(self, name, content_type, content_id, content):
        self.name = name
        self.content_type = content_type
        self.content_id = content_id
        self.content = content
        identity = json.dumps([name, content_type, content_id or ""]).encode("utf-8")
        self.digest = hashlib.sha256(identity + b"\n" + content).hexdigest()

    @classmethod
    def from_option(cls, entry, where, max_bytes):
        """An ``attachments`` entry, read (a ``path`` on this host) or decoded (``content``), and checked."""
        if entry.get("path"):
            path = entry["path"]
            name = entry.get("name") or os.path.basename(path)
            try:
                size = os.path.getsize(path)
                if size > max_bytes:
                    raise EwsConfigError("%s: %s is %s, more than a message may carry (max_send_size_mb)"
                                         % (where, path, megabytes(size)))
                with open(path, "rb") as stream:
                    content = stream.read()
            except (IOError, OSError) as error:
                raise EwsConfigError("%s.path: cannot read %s: %s" % (where, path, error.strerror or error))
        else:
            name = entry["name"]
            if entry.get("encoding") == "base64":
                content = decode_base64(entry["content"], where + ".content")
            else:
                content = entry["content"].encode("utf-8")
        validate_file_name(name, where + ".name")
        content_type = entry.get("content_type") or _MIME_TYPES.guess_type(name)[0] or "application/octet-stream"
        validate_content_type(content_type, where + ".content_type")
        content_id = entry.get("content_id") or None
        if content_id:
            validate_content_id(content_id, where + ".content_id")
        return cls(name, content_type, content_id, content)

    def describe(self, note=None):
        return describe_attachment(self.name, self.content_type, len(self.content), self.content_id, note)


def _escaped(text):
    """``text`` as XML carries it (the larger of a request's forms: JSON escapes none of these)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def megabytes(size):
    return "%.1f MB" % (size / float(MIB))


class MessageSpec:
    """The task's message, checked before any request.

    ``key``, ``mailbox`` (whose Drafts, Outbox and Sent Items hold it; None: the
    connecting or impersonated user's), ``values`` (option -> comparable value,
    for the options given), ``shown`` (option -> readable value, for the
    diff), ``attachments`` (``Attachment`` list, or None when not managed) and
    the size limits.
    """

    def __init__(self, params):
        self.params = params
        self.key = params["key"]
        self.mailbox = params["mailbox"]
        self.max_send_bytes = params["max_send_size_mb"] * MIB
        self.max_request_bytes = params["max_request_size_mb"] * MIB
        self.attachments = None
        self.headers = None
        self.deliver_at = None
        self.values = {}
        self.shown = {}

    @classmethod
    def from_params(cls, params):
        """Every option checked and normalised, files read; raises ``EwsConfigError`` naming the option."""
        spec = cls(params)
        validate_key(params["key"], "key")
        for name in ("max_send_size_mb", "max_request_size_mb", "deadline"):
            if params[name] < 1:
                raise EwsConfigError("%s must be at least 1 (got %d)" % (name, params[name]))
        if spec.mailbox:
            validate_smtp_address(spec.mailbox, "mailbox")
        for option, _element in RECIPIENT_FIELDS:
            for index, address in enumerate(params[option] or ()):
                validate_smtp_address(address, "%s[%d]" % (option, index))
        if params["from"]:
            validate_smtp_address(params["from"], "from")
        if params["deliver_at"]:
            spec.deliver_at = parse_time(params["deliver_at"], "deliver_at", relative_ages=False)
        if params["headers"] is not None:
            spec.headers = dict(validate_header(name, _header_text(value), "headers")
                                for name, value in sorted(params["headers"].items()))
        if params["attachments"] is not None:
            spec.attachments = spec._load_attachments(params["attachments"])
            spec._check_inline_references()
            spec._check_sizes()
        spec._describe()
        return spec

    def _load_attachments(self, entries):
        loaded, names, content_ids = [], {}, {}
        for index, entry in enumerate(entries):
            where = "attachments[%d]" % index
            attachment = Attachment.from_option(entry, where, self.max_send_bytes)
            unique = ((names, attachment.name, "name"), (content_ids, attachment.content_id, "content_id"))
            for seen, value, what in unique:
                if value and value in seen:
                    raise EwsConfigError(
                        "%s.%s: %r is also the %s of attachments[%d]; each must be unique (the draft's attachments "
                        "are matched by name)" % (where, what, value, what, seen[value]))
                seen[value] = index
            loaded.append(attachment)
        return loaded

    def _check_inline_references(self):
        """An HTML body's ``cid:`` references must name an attachment's content_id (else the image is broken)."""
        if self.params["body"] is None or self.params["body_type"] != "html":
            return
        content_ids = set(attachment.content_id for attachment in self.attachments if attachment.content_id)
        for reference in _CID_REFERENCE.findall(self.params["body"]):
            if reference not in content_ids:
                raise EwsConfigError("body: cid:%s names no attachment; give the inline image's attachment "
                                     "content_id: %s" % (reference, reference))

    def content_size(self):
        """About how many bytes the message's content takes in a request, attachments aside: every text option
        (escaped for XML, the larger of the two forms) and the markup around each value."""
        texts = [self.key, self.params["subject"] or "", self.params["body"] or "", self.sender() or ""]
        for option, _element in RECIPIENT_FIELDS:
            texts.extend(self.params[option] or ())
        texts.extend(self.params["categories"] or ())
        for name, value in sorted((self.headers or {}).items()):
            texts.extend((name, value))
        return sum(len(_escaped(text).encode("utf-8")) + FIELD_MARKUP for text in texts)

    def _check_sizes(self):
        """Exchange's limits, before any upload: each request within the EWS request size limit, the message
        as sent within MaxSendSize (attachments travel in base64: a third bigger than the files)."""
        sizes = [len(attachment.content) for attachment in self.attachments]
        _batches, too_big = decisions.upload_batches(sizes, self.max_request_bytes)
        if too_big:
            attachment = self.attachments[too_big[0]]
            raise EwsConfigError(
                "attachments[%d] (%s) is %s, %s in base64: more than one EWS request may carry "
                "(max_request_size_mb %d; Exchange's default request limit is 64 MB)"
                % (too_big[0], attachment.name, megabytes(len(attachment.content)),
                   megabytes(decisions.base64_size(len(attachment.content))), self.params["max_request_size_mb"]))
        estimated = decisions.estimated_send_size(self.content_size(), sizes)
        if estimated > self.max_send_bytes:
            largest = sorted(self.attachments, key=lambda a: len(a.content), reverse=True)[:3]
            raise EwsConfigError(
                "attachments: the message would be about %s as Exchange sends it (attachments in base64, a third "
                "bigger than the files), more than max_send_size_mb %d (the mailbox's MaxSendSize); the largest: %s"
                % (megabytes(estimated), self.params["max_send_size_mb"],
                   ", ".join("%s %s" % (a.name, megabytes(len(a.content))) for a in largest)))

    def _describe(self):
        """``values`` and ``shown`` for the options the task gives (the others are not managed)."""
        params = self.params
        given = {
            "subject": params["subject"],
            "to": params["to"], "cc": params["cc"], "bcc": params["bcc"], "reply_to": params["reply_to"],
            "from": self.sender(),
            "importance": params["importance"], "sensitivity": params["sensitivity"],
            "read_receipt": params["read_receipt"], "delivery_receipt": params["delivery_receipt"],
        }
        for name, value in given.items():
            if value is None:
                continue
            if name in dict(RECIPIENT_FIELDS):
                value = sorted(address.lower() for address in value)
            elif name == "from":
                value = value.lower()
            self.values[name] = self.shown[name] = value
        if params["body"] is not None:
            self.values["body"] = body_digest(params["body_type"], params["body"])
            self.shown["body"] = bounded(params["body"])
            self.shown["body_type"] = params["body_type"]
        if params["categories"] is not None:
            self.values["categories"] = self.shown["categories"] = sorted(params["categories"])
        if params["deliver_at"] is not None:
            self.values["deliver_at"] = self.shown["deliver_at"] = (
                utc_text(self.deliver_at) if self.deliver_at else "")
        if self.headers is not None:
            self.values["headers"] = self.shown["headers"] = dict(self.headers)
        if self.attachments is not None:
            self.values["attachments"] = self.manifest()
            self.shown["attachments"] = [attachment.describe() for attachment in self.attachments]

    def check_attachments(self, max_bytes):
        """Each attachment within what one request of the backend carries (``max_bytes``, None: no limit of its
        own); checked before any request."""
        for index, attachment in enumerate(self.attachments or ()):
            if max_bytes is not None and len(attachment.content) > max_bytes:
                raise EwsConfigError(
                    "attachments[%d] (%s) is %s: Microsoft Graph takes a file attachment of less than 3 MB in one "
                    "request, and larger ones only through an upload session, which the collection does not do; "
                    "send it with api: ews, or share the file another way" % (
                        index, attachment.name, megabytes(len(attachment.content))))

    def sender(self):
        """The From address: ``from`` (Send As), else the mailbox when it is another one (send on behalf:
        Exchange then names the connecting user as Sender), else None (the mailbox's owner)."""
        return self.params["from"] or self.mailbox

    def recipients(self):
        """True when the task gives at least one recipient (a message needs one to be sent)."""
        return any(self.params[option] for option in ("to", "cc", "bcc"))

    def given(self):
        """The content options the task gives, in ``OPTIONS`` order (all of them change a new message)."""
        return [name for name in OPTIONS if name in self.values]

    def manifest(self):
        """``{name: digest}`` of the task's attachments."""
        return dict((attachment.name, attachment.digest) for attachment in self.attachments)


def _header_text(value):
    """Header values as YAML gives them: numbers are written as text; anything else is checked as it is."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


class Current:
    """A message as read: ``id``, ``change_key``, ``values`` and ``shown`` (as ``MessageSpec``'s),
    ``attachments`` (``[(attachment_id, name)]``), ``recorded`` (the attachment digests recorded on it),
    ``headers`` (the extra headers recorded), ``internet_message_id``, ``sent_at``.

    Built by a backend from ``raw``: ``subject``, ``body`` (text, or None when not read), ``body_type`` (``HTML``
    or ``Text``), ``body_digest``, ``attachments_record`` and ``headers_record`` (the JSON this module recorded),
    ``deferred`` (datetime or None), ``sender`` (From's address), ``importance`` and ``sensitivity`` (any case),
    ``categories``, ``read_receipt``, ``delivery_receipt``, ``recipients`` (option -> addresses),
    ``attachments`` (``[(id, name, content type, size, content id)]``), ``internet_message_id``, ``sent``."""

    def __init__(self, identifier, change_key, raw):
        self.id, self.change_key = identifier, change_key
        self.internet_message_id = raw["internet_message_id"]
        self.sent_at = utc_text(raw["sent"]) if raw["sent"] else None
        self.recorded = _json_object(raw["attachments_record"])
        self.headers = _json_object(raw["headers_record"])
        self.attachments = [(attachment_id, name) for attachment_id, name, _type, _size, _cid in raw["attachments"]]
        deferred = raw["deferred"]
        self.values = {
            "subject": raw["subject"] or "",
            "body": raw["body_digest"],
            "from": (raw["sender"] or "").lower(),
            "importance": (raw["importance"] or "Normal").lower(),
            "sensitivity": (raw["sensitivity"] or "Normal").lower(),
            "categories": sorted(raw["categories"] or ()),
            "read_receipt": raw["read_receipt"] is True,
            "delivery_receipt": raw["delivery_receipt"] is True,
            "deliver_at": utc_text(deferred) if deferred else "",
            "headers": self.headers,
            "attachments": self._attachment_record(),
        }
        for option, _field in RECIPIENT_FIELDS:
            self.values[option] = sorted(address.lower() for address in raw["recipients"].get(option) or ())
        self.shown = dict(self.values)
        self.shown["attachments"] = [describe_attachment(name, content_type, size, content_id)
                                     for _id, name, content_type, size, content_id in raw["attachments"]]
        self.shown["body"] = bounded(raw["body"]) if raw["body"] is not None else None
        self.shown["body_type"] = {"HTML": "html", "Text": "text"}.get(raw["body_type"] or "", None) \
            or {"html": "html", "text": "text"}.get((raw["body_type"] or "").lower())

    def _attachment_record(self):
        """``{name: digest}`` as far as the record vouches for each attachment; one it does not vouch for
        (unrecorded, or one of two with a name) can match no task (see ``plan_attachments``)."""
        names = [name for _id, name in self.attachments]
        return dict((name, self.recorded.get(name) if names.count(name) == 1 else None) for name in names)


def _json_object(text):
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


class KeyedMessage:
    """The message carrying ``spec.key`` in the backend's mailbox: ``run(state)`` brings it to ``state`` and returns
    the module's result (see ``exchange.ews.message``'s RETURN). ``warnings``: what the task should say.

    ``backend``: ``EwsMessages`` or ``GraphMessages`` (see the module docstring). ``deadline``: seconds the whole
    run may take; ``poll_interval``: how often a run waiting on another one looks again; ``sleep``/``clock`` are
    injectable for tests.
    """

    def __init__(self, backend, spec, check_mode=False, diff=False, deadline=900, poll_interval=1.0,
                 sleep=time.sleep, clock=time.monotonic):
        self.backend = backend
        self.spec = spec
        self.check_mode = check_mode
        self.diff = diff
        self.deadline = deadline
        self.poll_interval = poll_interval
        self._sleep = sleep
        self._clock = clock
        self._ends_at = clock() + deadline
        self.warnings = []
        spec.check_attachments(backend.max_attachment_bytes)
        # What one request may carry: the task's limit, and the backend's own where it has one.
        self.request_limit = min(limit for limit in (spec.max_request_bytes, backend.max_request_bytes)
                                 if limit is not None)

    def run(self, state):
        return {"sent": self.send, "draft": self.draft, "absent": self.absent}[state]()

    # -- reading ----------------------------------------------------------------------------------

    def search(self):
        """``(found, clock)``: what carries the key in Drafts, Outbox and Sent Items (searched in the order a
        message moves, so one filed from one to the next during the search is still found), and the server's
        clock read before the search (the last answer's Date)."""
        clock = self.backend.server_time
        return self.backend.search(self.spec.key), clock

    def read(self, identifier, body=False):
        """The message ``identifier`` as ``Current`` (its body too when ``body``), or None when it is gone."""
        return self.backend.read(identifier, body, text_body=self.spec.params["body_type"] == "text")

    def compare(self, identifier):
        """``(current, changed option names)`` for the message ``identifier``; ``current`` None when it is gone.
        The stored body is read only to show it (diff mode)."""
        current = self.read(identifier, body=self.diff and "body" in self.spec.values)
        if current is None:
            return None, []
        return current, decisions.changed_fields(self.spec.values, current.values, OPTIONS)

    def _diff(self, current, changed):
        """Before and after, for the options the task gives: readable, bounded, never digests."""
        after = dict(self.spec.shown)
        if current is None:
            return {"before": {}, "after": after}
        before = dict((name, current.shown.get(name)) for name in after)
        if "body" in after and "body" not in changed:
            before["body"], before["body_type"] = after["body"], after.get("body_type")
        if "attachments" in changed and "attachments" in after:
            recorded = current.recorded
            after["attachments"] = [attachment.describe("new content" if attachment.name in recorded and
                                                        recorded[attachment.name] != attachment.digest else None)
                                    for attachment in self.spec.attachments]
        return {"before": before, "after": after}

    # -- writing ------------------------------------------------------------------------------------

    def create(self):
        """A new draft with the task's content; returns ``(id, change_key)``.

        Everything in one request when it fits; otherwise the draft first (recording no attachment), then the
        attachments in as few requests as the limit allows, then the record of their digests: each a
        compare-and-set on the ChangeKey the previous write returned.
        """
        attachments = self.spec.attachments or []
        at_once = decisions.fits_in_one_request(self.spec.content_size(), [len(a.content) for a in attachments],
                                                self.request_limit)
        identifier, change_key = self.backend.create(self.spec, with_attachments=at_once)
        if not at_once:
            change_key = self._add_attachments(identifier, change_key, attachments)
            identifier, change_key = self._write(identifier, change_key, [], record=self.spec.manifest())
        return identifier, change_key

    def update(self, current, changed):
        """Bring the draft ``current`` to the task's content, changing only ``changed``; returns its ChangeKey.

        Each write is a compare-and-set (``Conflict`` when the draft changed since it was read). Attachments:
        the record first forgets those about to change (so it never vouches for content that is not there),
        then they are deleted and added (each write's ChangeKey feeds the next), then the record is written.
        """
        identifier, change_key = current.id, current.change_key
        names = [name for name in changed if name != "attachments"]
        removed_headers = [name for name in sorted(current.headers) if name not in self.spec.headers] \
            if "headers" in changed else []
        keep, delete, add, record = [], [], [], None
        if "attachments" in changed:
            keep, delete, add = decisions.plan_attachments(self.spec.manifest(), current.attachments,
                                                           current.recorded)
            record = dict((name, self.spec.manifest()[name]) for name in keep)
        if names or removed_headers or record is not None:
            identifier, change_key = self._write(identifier, change_key, names, removed_headers, record)
        if delete:
            change_key = self._conflicts(self.backend.delete_attachments, identifier, change_key, delete) \
                or change_key
        if add:
            by_name = dict((attachment.name, attachment) for attachment in self.spec.attachments)
            change_key = self._add_attachments(identifier, change_key, [by_name[name] for name in add])
        if "attachments" in changed:
            identifier, change_key = self._write(identifier, change_key, [], record=self.spec.manifest())
        return change_key

    def _write(self, identifier, change_key, names, removed_headers=(), record=None):
        return self._conflicts(self.backend.write, identifier, change_key, self.spec, names, removed_headers, record)

    @staticmethod
    def _conflicts(write, *args):
        """``write(*args)``, a refusal because another writer came first raised as ``Conflict``."""
        try:
            return write(*args)
        except EwsError as error:
            if error.response_code in CONFLICT_CODES:
                raise Conflict.from_error(error)
            raise

    def _add_attachments(self, identifier, change_key, attachments):
        batches, _too_big = decisions.upload_batches([len(a.content) for a in attachments], self.request_limit)
        for batch in batches:
            change_key = self._conflicts(self.backend.add_attachments, identifier, change_key,
                                         [attachments[index] for index in batch])
        return change_key

    def _delete(self, items, why):
        """Delete ``items`` (``Found``) into Deleted Items, each pinned to the ChangeKey it was found with; returns
        those deleted. One that changed since is left alone with a warning."""
        deleted = []
        for item in items:
            try:
                if self.backend.delete(item.id, item.change_key):
                    deleted.append(item)
            except EwsError as error:
                if error.response_code not in CONFLICT_CODES:
                    raise
                self.warnings.append("did not delete draft %s (%s): it changed since it was read" % (item.id, why))
        return deleted

    # -- the states -----------------------------------------------------------------------------------

    def _result(self, status, item=None, change_key=None, changed=False, changed_fields=(), diff=None, copy=None):
        """The module's result. ``item``: the id the result names; ``copy``: the submitted copy (``Found``)."""
        result = dict(changed=changed, status=status, sent=status in ("sent", "already_sent"),
                      changed_fields=list(changed_fields), diff=diff or {"before": {}, "after": {}})
        if item is not None:
            result["id"] = item
            if change_key:
                result["change_key"] = change_key
        if copy is not None:
            result["sent_copy_id"] = copy.id
            result["internet_message_id"] = copy.fields.get("InternetMessageId")
            sent_at = parse_datetime_text(copy.fields.get("DateTimeSent"))
            result["sent_at"] = utc_text(sent_at) if sent_at else None
        return result

    def _already_sent(self, copy, state):
        """A submitted copy carries the key: nothing is sent again. Different content is reported, not sent."""
        current, changed = self.compare(copy.id)
        diff = self._diff(current, changed) if current is not None else None
        if changed:
            self.warnings.append(
                "the message with key %r was already sent%s with different content (%s); nothing was sent again. "
                "A sent message cannot be changed: use a new key to send the new content"
                % (self.spec.key, " at %s" % copy.fields.get("DateTimeSent") if copy.fields.get("DateTimeSent")
                   else "", ", ".join(changed)))
        result = self._result("already_sent", copy.id if state == "sent" else None, copy.change_key, diff=diff,
                              copy=copy)
        result["changed_fields"] = []
        return result

    def draft(self):
        """state draft: the draft carrying the key, created or brought to the task's content; never sent."""
        found, _clock = self.search()
        step = decisions.elect(found, None)
        if step.kind == decisions.ALREADY_SENT:
            return self._already_sent(step.item, "draft")
        drafts = sorted((item for item in found if item.candidate), key=decisions.order)
        if len(drafts) > 1:
            raise AmbiguousKeyError(self.spec.key, [item.id for item in drafts])
        if not drafts:
            result = self._result("draft", changed=True, changed_fields=self.spec.given(), diff=self._diff(None, []))
            if not self.check_mode:
                result["id"], result["change_key"] = self.create()
            return result
        current, changed = self.compare(drafts[0].id)
        if current is None:
            raise MessageError("the draft carrying key %r was deleted while the task read it; run it again"
                               % self.spec.key, response_code=NOT_FOUND, item_id=drafts[0].id)
        change_key = current.change_key
        if changed and not self.check_mode:
            # A Conflict fails the task: the draft was edited since it was read, and the edit is not overwritten.
            change_key = self.update(current, changed)
        return self._result("draft", current.id, change_key, changed=bool(changed), changed_fields=changed,
                            diff=self._diff(current, changed))

    def absent(self):
        """state absent: every draft carrying the key is moved to Deleted Items. Sent copies are never touched."""
        found, _clock = self.search()
        drafts = sorted((item for item in found if item.candidate), key=decisions.order)
        if not drafts:
            return self._result("absent")
        current = self.read(drafts[0].id, body=self.diff)
        deleted = drafts if self.check_mode else self._delete(drafts, "state absent")
        if len(drafts) > 1:
            self.warnings.append("%d drafts carried key %r; all were deleted" % (len(drafts), self.spec.key))
        diff = {"before": dict((name, current.shown.get(name)) for name in OPTIONS if name in current.shown)
                if current is not None else {}, "after": {}}
        return self._result("absent", drafts[0].id, changed=bool(deleted), diff=diff)

    def send(self):
        """state sent: the message is sent once per key (docs/exactly-once.md, "Keyed messages")."""
        own = None          # (id, change_key) of the draft this run created
        for _round in range(MAX_ROUNDS):
            if self._left() <= 0:
                raise MessageError("the deadline of %d s passed before the message with key %r could be sent; "
                                   "nothing was sent by this run" % (self.deadline, self.spec.key),
                                   response_code="EwsDeadlineExceeded")
            try:
                sent, own = self._send_round(own)
            except Conflict:
                # A write refused as a conflict met another writer of the same draft: the next search sees where
                # things stand.
                continue
            if sent is not None:
                return self._finish(*sent)
        raise MessageError("the message with key %r could not be settled in %d rounds (its drafts kept "
                           "changing or vanishing); nothing was sent by this run" % (self.spec.key, MAX_ROUNDS),
                           response_code="EwsNotSettled")

    def _send_round(self, own):
        """One search and what it leads to: ``((result, found, own) or None, own)``: a result to finish, or
        None to search again; ``own`` is this run's own draft after the round (None once deleted)."""
        found, clock = self.search()
        step = decisions.elect(found, clock)
        if step.kind == decisions.ALREADY_SENT:
            self._drop_own(own, found)
            return (self._already_sent(step.item, "sent"), found, own), own
        if step.kind == decisions.CREATE and not self.spec.recipients():
            raise MessageError("no draft carries key %r and no message was sent with it; give recipients (to, cc "
                               "or bcc) to compose one, or prepare the draft first (state draft)" % self.spec.key,
                               response_code=NO_MESSAGE_CODE)
        if self.check_mode:
            return (self._would_send(step), [], None), own
        if step.kind == decisions.CREATE:
            try:
                own = self.create()
            except EwsResponseLost:
                # The draft may have been created or not: the next search finds it (then it is a draft like any
                # other, elected or deleted as a leftover) or creates one. Nothing is sent but by
                # ExactlyOnceSender, which settles its own lost answers. Reads are not caught: a search whose
                # answers keep being lost fails the task.
                return None, own
            self._wait_past(own[0])
            return None, own
        if step.kind == decisions.WAIT:
            self._wait_past(step.item.id, step.item.created)
            return None, own
        winner = step.item
        if own is not None and own[0] != winner.id:
            self._drop_own(own, found)
            own = None
        outcome = self._send_winner(winner, own)
        return ((outcome, None, own) if outcome is not None else None), own

    def _would_send(self, step):
        """Check mode: what a real run would do (read only)."""
        if step.kind == decisions.CREATE:
            return self._result("would_send", changed=True, changed_fields=self.spec.given(),
                                diff=self._diff(None, []))
        current, changed = self.compare(step.item.id)
        return self._result("would_send", step.item.id, step.item.change_key, changed=True, changed_fields=changed,
                            diff=self._diff(current, changed))

    def _send_winner(self, winner, own):
        """Bring the elected draft to the task's content (unless it is this run's own) and send it with
        ``ExactlyOnceSender``, pinned to the ChangeKey of the last write or read. Returns the result, or None to
        search again (the draft vanished or changed under this run)."""
        current, changed = None, []
        if own is not None:
            change_key = own[1]
        else:
            current, changed = self.compare(winner.id)
            if current is None:
                return None
            change_key = current.change_key
            if changed:
                try:
                    change_key = self.update(current, changed)
                except (Conflict, EwsResponseLost):
                    return None     # another writer, or a write that may have landed: search again
        sender = ExactlyOnceSender(self.backend.channel(), deadline=max(1, self._left()), poll_interval=self.poll_interval,
                                   sleep=self._sleep, clock=self._clock)
        # Only a draft this run wrote last is known to carry no other run's claim: it may skip the read (where
        # the stamp is a compare-and-set, see ExactlyOnceSender).
        outcome, = sender.send([ItemRef(winner.id, change_key, unclaimed_draft=own is not None,
                                        mailbox=self.spec.mailbox)])
        self.warnings.extend(sender.warnings)
        if sender.request_error is not None:
            raise sender.request_error
        status = outcome["status"]
        if status == "missing" or (status == "failed" and outcome["response_code"] == "ErrorStaleObject"
                                   and not sender.may_have_sent):
            return None
        if status == "failed":
            raise self._send_failure(outcome)
        changed_fields = changed if own is None else self.spec.given()
        return self._result(status, changed=status == "sent" or bool(changed), changed_fields=changed_fields,
                            diff=self._diff(current, changed))

    def _send_failure(self, outcome):
        code = outcome["response_code"]
        text = outcome["message_text"] or "Exchange refused to send it"
        if code == "ErrorSendAsDenied":
            text = ("Exchange refused to send as %s: the account has no Send As (or Send on Behalf) right on that "
                    "mailbox (%s)" % (self.spec.sender() or "that mailbox", text))
        elif code == "ErrorMessageSizeExceeded":
            text = "the message is bigger than the mailbox's MaxSendSize (%s)" % text
        return MessageError("the message with key %r was not sent by this run: %s" % (self.spec.key, text),
                            operation=self.backend.send_operation, api=self.backend.api, response_code=code)

    def _finish(self, result, found, own=None):
        """After a send: the submitted copy (for the result) and the drafts left with the key (deleted; this
        run's own draft, if any, was deleted already). Best effort: the send stands whatever fails here."""
        if self.check_mode:
            return result
        try:
            if found is None:
                found, _clock = self.search()
            copies = [item for item in found if item.submitted]
            if copies and "sent_copy_id" not in result:
                copy = decisions.elect(copies, None).item
                result.update(self._result(result["status"], copy.id, copy.change_key, copy=copy),
                              changed=result["changed"], changed_fields=result["changed_fields"],
                              diff=result["diff"])
            leftovers = [item for item in found if item.candidate and (own is None or item.id != own[0])]
            deleted = self._delete(leftovers, "a leftover")
        except EwsError as error:
            self.warnings.append("the message was handled (%s), but reading its sent copy or deleting the drafts "
                                 "left with its key failed: %s" % (result["status"], error))
            return result
        if deleted:
            self.warnings.append(
                "deleted %d other draft(s) carrying key %r: drafts of runs that did not send it (a run that "
                "crashed, or a concurrent run that lost the election); a delete never sends"
                % (len(deleted), self.spec.key))
        return result

    def _drop_own(self, own, found):
        """This run's own draft lost (or the message was sent): delete it for good. It was never anything but
        this run's, so for good (EWS: HardDelete), pinned to the ChangeKey of this run's last write."""
        if own is None or not any(item.id == own[0] and item.candidate for item in found):
            return
        try:
            self.backend.delete(own[0], own[1], hard=True)
        except EwsResponseLost:
            pass    # deleted or not: a draft left behind is deleted, with a warning, by the run that sends
        except EwsError as error:
            if error.response_code not in CONFLICT_CODES:
                raise
            self.warnings.append("did not delete this run's own draft %s: it changed since this run wrote it"
                                 % own[0])

    # -- the clock ------------------------------------------------------------------------------------

    def _left(self):
        return self._ends_at - self._clock()

    def _wait_past(self, identifier, created=None):
        """Wait until the server's clock has passed the second ``identifier`` was created in.

        Reads the creation time when ``created`` is not known; each answer's Date is the clock.
        The last answer's Date is what the next search is judged by (``elect``'s ``clock``). Returns when the
        draft is gone too (the next search decides). Ends by the deadline, and after ``MAX_CLOCK_WAIT`` seconds:
        a clock that does not pass a creation time seconds old is not the clock the draft was stamped with.
        """
        gives_up_at = self._clock() + MAX_CLOCK_WAIT
        while True:
            now = self.backend.server_time
            if created is not None and now is not None and now > second(created):
                return
            if self._left() <= 0:
                raise MessageError("the deadline of %d s passed while waiting for the server's clock to pass a "
                                   "draft's creation time; nothing was sent by this run" % self.deadline,
                                   response_code="EwsDeadlineExceeded")
            if self._clock() > gives_up_at:
                raise MessageError("the server's clock (HTTP Date %s) did not pass the creation time of draft %s "
                                   "(%s) within %d s: the server that answers and the one that stores the mailbox "
                                   "disagree on the time; nothing was sent by this run"
                                   % (now, identifier, created, MAX_CLOCK_WAIT), response_code="EwsClockSkew")
            wait = 1.0 if created is None or now is None else (second(created) - now).total_seconds() + 1.0
            self._sleep(max(0.05, min(wait, 2.0, self._left())))
            created = self.backend.created(identifier)
            if created is None:
                return
            if self.backend.server_time is None:
                raise MessageError("Exchange's answers carry no Date header: the module needs the server's clock to "
                                   "order concurrent runs", response_code="EwsNoServerClock")
