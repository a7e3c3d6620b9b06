"""What a sent message becomes on the wire: the MIME the relay hands the smarthost (an SMTP sink here) and the
delivery log keeps, as a mail client reads it."""

from __future__ import annotations

import base64
from email.utils import parseaddr

import pytest

from conftest import call
from ews_sandbox.testing import Sandbox, SmtpSink

ALICE, BOB = "alice@sandbox.test", "bob@sandbox.test"
REPORT, TABLE, LOGO = b"%PDF-1.4 numbers", b"a,b\n1,2\n", b"\x89PNG\r\n\x1a\n logo"
HTML = '<p>Numbers attached. <img src="cid:logo@sandbox"></p>'
HASHES = ('<t:ExtendedProperty><t:ExtendedFieldURI PropertySetId="2d0c7b1e-7f5c-4c8e-9a39-65d2b8a0f0e1" '
          'PropertyName="ExchangeEwsAttachmentHashes" PropertyType="StringArray"/><t:Values><t:Value>sha256:1'
          '</t:Value></t:Values></t:ExtendedProperty>')


@pytest.fixture(scope="module")
def relay():
    """A sandbox relaying to an SMTP sink: (sandbox, sink)."""
    with SmtpSink() as sink, Sandbox(smarthost=sink.address) as sandbox:
        yield sandbox, sink


@pytest.fixture
def clean_relay(relay):
    sandbox, sink = relay
    sandbox.admin.reset()
    sink.clear()
    return relay


def attachment(name: str, content: bytes, content_type: str, content_id: str = "") -> str:
    return ("<t:FileAttachment><t:Name>%s</t:Name><t:ContentType>%s</t:ContentType>%s<t:IsInline>%s</t:IsInline>"
            "<t:Content>%s</t:Content></t:FileAttachment>") % (
        name, content_type, "<t:ContentId>%s</t:ContentId>" % content_id if content_id else "",
        "true" if content_id else "false", base64.b64encode(content).decode())


def mailboxes(*addresses: str) -> str:
    return "".join("<t:Mailbox><t:Name>%s</t:Name><t:EmailAddress>%s</t:EmailAddress></t:Mailbox>"
                   % (address.split("@")[0].title(), address) for address in addresses)


def send(sandbox, message: str, user: str = "alice") -> None:
    [(_, code, response)] = call(sandbox, "CreateItem", '<m:CreateItem MessageDisposition="SendAndSaveCopy"><m:Items>'
                                 '<t:Message>%s</t:Message></m:Items></m:CreateItem>' % message, user)
    assert code == "NoError", response.findtext("{*}MessageText")
    sandbox.admin.wait_for_outbox()


COMPOSED = (
    '<t:Subject>Q3 numbers</t:Subject><t:Sensitivity>Confidential</t:Sensitivity>'
    '<t:Body BodyType="HTML">%s</t:Body><t:Attachments>%s%s%s</t:Attachments><t:Importance>High</t:Importance>'
    '%s'
    '<t:ExtendedProperty><t:ExtendedFieldURI DistinguishedPropertySetId="InternetHeaders" PropertyName="X-Campaign" '
    'PropertyType="String"/><t:Value>q3-report</t:Value></t:ExtendedProperty>'
    '<t:ToRecipients>%s</t:ToRecipients><t:CcRecipients>%s</t:CcRecipients><t:BccRecipients>%s</t:BccRecipients>'
    '<t:IsReadReceiptRequested>true</t:IsReadReceiptRequested>'
    '<t:IsDeliveryReceiptRequested>true</t:IsDeliveryReceiptRequested><t:ReplyTo>%s</t:ReplyTo>') % (
    HTML.replace("<", "&lt;").replace(">", "&gt;"), attachment("report.pdf", REPORT, "application/pdf"),
    attachment("logo.png", LOGO, "image/png", "logo@sandbox"), attachment("table.csv", TABLE, "text/csv"), HASHES,
    mailboxes("dana@example.org"), mailboxes("erin@example.org"), mailboxes("hidden@example.org"),
    mailboxes("desk@example.org"))


def test_a_composed_message_is_relayed_once_as_mime_a_mail_client_shows(clean_relay):
    sandbox, sink = clean_relay
    send(sandbox, COMPOSED)
    [mail] = sink.wait_for(1)
    assert mail.mail_from == ALICE
    assert sorted(mail.rcpt_tos) == ["dana@example.org", "erin@example.org", "hidden@example.org"]
    assert mail.rcpt_options == ["NOTIFY=SUCCESS,FAILURE"] * 3        # the delivery receipt, as a DSN request
    message = mail.message
    assert message["From"].addresses[0].addr_spec == ALICE
    assert message["Sender"] is None                                   # sent as oneself
    assert [a.addr_spec for a in message["To"].addresses] == ["dana@example.org"]
    assert [a.addr_spec for a in message["Cc"].addresses] == ["erin@example.org"]
    assert message["Bcc"] is None and b"hidden@example.org" not in mail.data
    assert [a.addr_spec for a in message["Reply-To"].addresses] == ["desk@example.org"]
    assert message["Subject"] == "Q3 numbers" and message["Date"] and message["Message-ID"]
    assert (message["Importance"], message["X-Priority"]) == ("high", "1")
    assert message["Sensitivity"] == "Company-Confidential"
    assert parseaddr(message["Disposition-Notification-To"])[1] == ALICE
    assert parseaddr(message["Return-Receipt-To"])[1] == ALICE
    assert message["X-Campaign"] == "q3-report"
    assert "ExchangeEwsAttachmentHashes" not in mail.data.decode()       # other extended properties stay inside

    assert message.get_content_type() == "multipart/mixed"
    related, *files = message.iter_parts()
    assert related.get_content_type() == "multipart/related"
    html, logo = related.iter_parts()
    assert html.get_content_type() == "text/html" and html.get_content().strip() == HTML
    assert logo.get_content_type() == "image/png" and logo.get_content() == LOGO
    assert logo["Content-ID"] == "<logo@sandbox>" and logo.get_content_disposition() == "inline"
    assert [(f.get_filename(), f.get_content_type(), f.get_content_disposition()) for f in files] == [
        ("report.pdf", "application/pdf", "attachment"), ("table.csv", "text/csv", "attachment")]
    assert [f.get_payload(decode=True) for f in files] == [REPORT, TABLE]

    [entry] = sandbox.admin.deliveries()
    assert entry["internet_message_id"] == message["Message-ID"]
    logged = sandbox.admin.delivery_mime(entry["seq"])
    assert logged.replace(b"\r\n", b"\n") == mail.data.replace(b"\r\n", b"\n")


def test_send_on_behalf_shows_the_sender_and_receipts_go_where_exchange_sends_them(clean_relay):
    sandbox, sink = clean_relay
    send(sandbox, ('<t:Subject>on behalf</t:Subject><t:Body BodyType="Text">plain</t:Body>'
                   '<t:ToRecipients>%s</t:ToRecipients><t:IsReadReceiptRequested>true</t:IsReadReceiptRequested>'
                   '<t:IsDeliveryReceiptRequested>true</t:IsDeliveryReceiptRequested><t:From>%s</t:From>')
         % (mailboxes("dana@example.org"), mailboxes(ALICE)), user="bob")
    [mail] = sink.wait_for(1)
    message = mail.message
    assert message["From"].addresses[0].addr_spec == ALICE
    assert message["Sender"].addresses[0].addr_spec == BOB
    assert parseaddr(message["Disposition-Notification-To"])[1] == ALICE     # PidTagSentRepresenting
    assert parseaddr(message["Return-Receipt-To"])[1] == BOB                 # PidTagSender first
    assert message.get_content_type() == "text/plain" and message.get_content().strip() == "plain"
    assert message["Importance"] is None and message["Sensitivity"] is None         # normal ones are not written


def test_without_a_dsn_smarthost_or_receipt_nothing_is_asked(clean_relay):
    sandbox, sink = clean_relay
    send(sandbox, '<t:Subject>plain</t:Subject><t:ToRecipients>%s</t:ToRecipients>' % mailboxes("dana@example.org"))
    [mail] = sink.wait_for(1)
    assert mail.rcpt_options == [] and mail.message["Return-Receipt-To"] is None
    assert mail.message["Disposition-Notification-To"] is None


def test_local_deliveries_are_logged_with_their_mime_too(clean_relay):
    sandbox, sink = clean_relay
    send(sandbox, '<t:Subject>inside</t:Subject><t:ToRecipients>%s</t:ToRecipients>' % mailboxes(BOB))
    [entry] = sandbox.admin.deliveries()
    assert entry["route"] == "local" and sink.messages == []
    assert b"Subject: inside" in sandbox.admin.delivery_mime(entry["seq"])
