"""The Internet message a sent item becomes ([MS-OXCMAIL]): what the SMTP relay sends and the delivery log keeps.

Structure: the body alone (text/plain or text/html); an HTML body with inline attachments in multipart/related
(each part's Content-ID is the attachment's ContentId, which the body's cid: URLs name); other attachments in
multipart/mixed around it. Headers: From, Sender (only when it differs: send on behalf), To, Cc (never Bcc),
Reply-To, Subject, Date (the submission time), Message-ID, Importance and X-Priority (unless normal), Sensitivity
(unless normal), Disposition-Notification-To (read receipt), Return-Receipt-To (delivery receipt), and the
X- headers set as extended properties in the InternetHeaders property set.
"""

from __future__ import annotations

from datetime import datetime
from email import encoders
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import Compat32
from email.utils import format_datetime, formataddr

from .store import Attachment, Item, utc_now

# PS_INTERNET_HEADERS, by name or GUID (store.extended_key's spelling of each).
INTERNET_HEADER_KEYS = ("InternetHeaders:name:", "00020386-0000-0000-c000-000000000046:name:")
# [MS-OXCMAIL] 2.2.3.2.5: the Importance header; X-Priority is the value older readers look for.
IMPORTANCE_HEADERS = {"High": ("high", "1"), "Low": ("low", "5")}
# PidTagSensitivity -> the Sensitivity header's value.
SENSITIVITY_HEADERS = {"Personal": "Personal", "Private": "Private", "Confidential": "Company-Confidential"}


class _WirePolicy(Compat32):
    """compat32 with CRLF line ends. A header that fits on its line as it is (printable ASCII, no trailing space)
    is written without the Header folding machinery, which would return the same bytes at several times the cost
    (most of a message's, when the submitter delivers a thousand)."""

    def fold_binary(self, name, value):
        if (isinstance(value, str) and value.isascii() and value.isprintable() and not value.endswith(" ")
                and len(name) + 2 + len(value) <= self.max_line_length):
            return ("%s: %s%s" % (name, value, self.linesep)).encode("ascii")
        return super().fold_binary(name, value)


# The email package's compat32 classes: an order of magnitude faster than its EmailMessage API, which matters
# when the submitter delivers a thousand messages; lines end in CRLF, as SMTP wants.
WIRE = _WirePolicy(linesep="\r\n")
UTF8_QP = Charset("utf-8")
UTF8_QP.body_encoding = QP


def _one_line(text: str) -> str:
    """Header text from a property value: a line break in it would end the header (and inject another)."""
    return " ".join((text or "").splitlines())


def _text(text: str) -> str | Header:
    return text if text.isascii() else Header(text, "utf-8")


def _address(mailbox: dict) -> str:
    name = _one_line(mailbox.get("name") or "")
    return formataddr((name if name.lower() != mailbox["email"].lower() else "", mailbox["email"]), charset="utf-8")


def _part(attachment: Attachment, disposition: str) -> MIMEBase:
    maintype, _, subtype = attachment.content_type.partition("/")
    part = MIMEBase(*((maintype, subtype) if maintype and subtype else ("application", "octet-stream")))
    part.set_payload(attachment.content)
    encoders.encode_base64(part)
    name = _one_line(attachment.name)
    name = name if name.isascii() else ("utf-8", "", name)
    part.add_header("Content-Disposition", disposition, filename=name)
    return part


def internet_headers(item: Item) -> list[tuple[str, str]]:
    """(name, value) of the X- headers the item carries as InternetHeaders extended properties."""
    headers = []
    for key, (prop_type, value) in item.extended.items():
        name = next((key[len(prefix):] for prefix in INTERNET_HEADER_KEYS if key.startswith(prefix)), "")
        if name.lower().startswith("x-") and prop_type == "String":
            headers.append((name, _one_line(value)))
    return headers


def build_mime(item: Item, attachments: list[Attachment]) -> bytes:
    """The sent ``item`` as an RFC 5322 message with its ``attachments`` (content included)."""
    body = item.fields["body"] or ""
    html = (item.fields["body_type"] or "").upper() == "HTML"
    message: Message = MIMEText(body, "html" if html else "plain", "us-ascii" if body.isascii() else UTF8_QP)
    # Inline parts belong to an HTML body; a text body cannot show them, so they go as attachments.
    inline = [a for a in attachments if a.is_inline and html]
    files = [a for a in attachments if not (a.is_inline and html)]
    if inline:
        related = MIMEMultipart("related", _subparts=[message])
        for attachment in inline:
            part = _part(attachment, "inline")
            if attachment.content_id:
                part["Content-ID"] = "<%s>" % _one_line(attachment.content_id)
            related.attach(part)
        message = related
    if files:
        message = MIMEMultipart("mixed", _subparts=[message] + [_part(a, "attachment") for a in files])
    for part in message.walk():
        if part is not message:
            del part["MIME-Version"]      # the email package puts one on every part; it belongs in the header only

    from_mailbox = item.fields.get("from_mailbox") or {"name": item.mailbox, "email": item.mailbox}
    sender_mailbox = item.fields.get("sender_mailbox") or from_mailbox
    headers = [("From", _address(from_mailbox))]
    if sender_mailbox["email"].lower() != from_mailbox["email"].lower():
        headers.append(("Sender", _address(sender_mailbox)))
    for header, column in (("To", "to_recipients"), ("Cc", "cc_recipients"), ("Reply-To", "reply_to")):
        if item.fields[column]:
            headers.append((header, ", ".join(_address(mailbox) for mailbox in item.fields[column])))
    headers.append(("Subject", _text(_one_line(item.fields["subject"]))))
    sent = datetime.fromisoformat((item.fields["sent"] or utc_now()).replace("Z", "+00:00"))
    headers += [("Date", format_datetime(sent)), ("Message-ID", item.fields["internet_message_id"])]
    if item.fields["importance"] in IMPORTANCE_HEADERS:
        importance, priority = IMPORTANCE_HEADERS[item.fields["importance"]]
        headers += [("Importance", importance), ("X-Priority", priority)]
    if item.fields["sensitivity"] in SENSITIVITY_HEADERS:
        headers.append(("Sensitivity", SENSITIVITY_HEADERS[item.fields["sensitivity"]]))
    # [MS-OXCMAIL] 2.1.3.1.6: read receipts go to the represented sender (From); 2.1.3.1.5: delivery receipts to
    # PidTagSender first (the delegate, when sent on behalf).
    if item.fields["read_receipt_requested"]:
        headers.append(("Disposition-Notification-To", _address(from_mailbox)))
    if item.fields["delivery_receipt_requested"]:
        headers.append(("Return-Receipt-To", _address(sender_mailbox)))
    headers += [(name, _text(value)) for name, value in internet_headers(item)]
    # The message's own headers first, then MIME-Version and Content-Type, as mail clients write them.
    content_headers = message.items()
    for name in {name for name, _ in content_headers}:
        del message[name]
    for name, value in headers + content_headers:
        message[name] = value
    return message.as_bytes(policy=WIRE)
