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
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from .store import Attachment, Item, utc_now

# PS_INTERNET_HEADERS, by name or GUID (store.extended_key's spelling of each).
INTERNET_HEADER_KEYS = ("InternetHeaders:name:", "00020386-0000-0000-c000-000000000046:name:")
# [MS-OXCMAIL] 2.2.3.2.5: the Importance header; X-Priority is the value older readers look for.
IMPORTANCE_HEADERS = {"High": ("high", "1"), "Low": ("low", "5")}
# PidTagSensitivity -> the Sensitivity header's value.
SENSITIVITY_HEADERS = {"Personal": "Personal", "Private": "Private", "Confidential": "Company-Confidential"}


def _one_line(text: str) -> str:
    """Header text from a property value: a line break in it would end the header (and inject another)."""
    return " ".join((text or "").split("\n")).replace("\r", " ")


def _address(mailbox: dict) -> Address:
    name = mailbox.get("name") or ""
    return Address(display_name=_one_line(name) if name.lower() != mailbox["email"].lower() else "",
                   addr_spec=mailbox["email"])


def _content_type(attachment: Attachment) -> tuple[str, str]:
    maintype, _, subtype = attachment.content_type.partition("/")
    return (maintype, subtype) if maintype and subtype else ("application", "octet-stream")


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
    from_mailbox = item.fields.get("from_mailbox") or {"name": item.mailbox, "email": item.mailbox}
    sender_mailbox = item.fields.get("sender_mailbox") or from_mailbox
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = _address(from_mailbox)
    if sender_mailbox["email"].lower() != from_mailbox["email"].lower():
        message["Sender"] = _address(sender_mailbox)
    for header, column in (("To", "to_recipients"), ("Cc", "cc_recipients"), ("Reply-To", "reply_to")):
        if item.fields[column]:
            message[header] = [_address(mailbox) for mailbox in item.fields[column]]
    message["Subject"] = _one_line(item.fields["subject"])
    message["Date"] = format_datetime(datetime.fromisoformat((item.fields["sent"] or utc_now()).replace("Z", "+00:00")))
    message["Message-ID"] = item.fields["internet_message_id"]
    if item.fields["importance"] in IMPORTANCE_HEADERS:
        message["Importance"], message["X-Priority"] = IMPORTANCE_HEADERS[item.fields["importance"]]
    if item.fields["sensitivity"] in SENSITIVITY_HEADERS:
        message["Sensitivity"] = SENSITIVITY_HEADERS[item.fields["sensitivity"]]
    # [MS-OXCMAIL] 2.1.3.1.6: read receipts go to the represented sender (From); 2.1.3.1.5: delivery receipts to
    # PidTagSender first (the delegate, when sent on behalf).
    if item.fields["read_receipt_requested"]:
        message["Disposition-Notification-To"] = str(_address(from_mailbox))
    if item.fields["delivery_receipt_requested"]:
        message["Return-Receipt-To"] = str(_address(sender_mailbox))
    for name, value in internet_headers(item):
        message[name] = value

    html = (item.fields["body_type"] or "").upper() == "HTML"
    message.set_content(item.fields["body"] or "", subtype="html" if html else "plain")
    # Inline parts belong to an HTML body; a text body cannot show them, so they go as attachments. The related
    # parts are added first: adding an attachment wraps what is there in multipart/mixed.
    for attachment in attachments:
        if attachment.is_inline and html:
            maintype, subtype = _content_type(attachment)
            message.add_related(attachment.content, maintype, subtype, filename=attachment.name, disposition="inline",
                                cid="<%s>" % attachment.content_id if attachment.content_id else None)
    for attachment in attachments:
        if not (attachment.is_inline and html):
            maintype, subtype = _content_type(attachment)
            message.add_attachment(attachment.content, maintype, subtype, filename=attachment.name)
    for part in message.walk():
        if part is not message:
            del part["MIME-Version"]      # the email package repeats it on every part; it belongs in the header only
    return message.as_bytes()
