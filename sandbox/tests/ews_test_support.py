"""Helpers for the store and operation tests: a small fake directory and request builders."""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from ews_sandbox import validation
from ews_sandbox.context import RequestContext
from ews_sandbox.delivery import Delivery
from ews_sandbox.namespaces import M, T, qm, qt
from ews_sandbox.operations import OPERATIONS
from ews_sandbox.store import Store
from ews_sandbox.submission import Submitter

ALICE, BOB, CAROL, TEAM = "alice@sandbox.test", "bob@sandbox.test", "carol@sandbox.test", "team@sandbox.test"
MARKER_SET = "2d0c7b1e-7f5c-4c8e-9a39-65d2b8a0f0e1"
SCHEMA = etree.XMLSchema(file=str(Path(validation.__file__).parent / "schema" / "messages.xsd"))


class FakeDirectory:
    """alice (principal), bob (delegate of alice: read, create, send; may send as team), carol (no rights)."""

    rights = {(BOB, ALICE): ["read", "create", "send"], (BOB, TEAM): ["send_as"]}

    def by_smtp(self, address):
        return address.lower() if address.lower() in (ALICE, BOB, CAROL, TEAM) else None

    def rights_of(self, mailbox, on):
        return self.rights.get((mailbox.lower(), on.lower()), [])


class Env:
    """One store + delivery; ``ctx(user)`` builds a RequestContext for that mailbox."""

    def __init__(self, path):
        self.directory = FakeDirectory()
        self.store = Store(path / "store.sqlite3")
        self.delivery = Delivery(self.store, self.directory)
        self.submitter = Submitter(self.store, self.delivery)   # not started: deliver_outbox() runs it
        self.item_failure = None   # (position, ResponseCode) injected into every request, like the item_error fault

    def ctx(self, mailbox=ALICE) -> RequestContext:
        return RequestContext(user=mailbox, mailbox=mailbox, directory=self.directory, store=self.store,
                              delivery=self.delivery, submitter=self.submitter, server_version="Exchange2016",
                              item_failure=self.item_failure)

    def deliver_outbox(self) -> int:
        """What the submitter thread does: deliver every message submitted (delay 0); how many."""
        return self.submitter.deliver_due()

    def call(self, operation: str, body: str, mailbox=ALICE) -> etree._Element:
        """Run an operation; the request and the response must both be valid for the schema."""
        request = parse(body)
        validation.validate_body(request)
        response = OPERATIONS[operation](self.ctx(mailbox), request)
        SCHEMA.assertValid(response)
        return response

    def draft(self, mailbox=ALICE, to=(BOB,), subject="Hello", extended="", folder="", **kwargs):
        """CreateItem SaveOnly; returns (id, change_key)."""
        recipients = "".join("<t:Mailbox><t:EmailAddress>%s</t:EmailAddress></t:Mailbox>" % a for a in to)
        response = self.call("CreateItem", """
            <m:CreateItem MessageDisposition="SaveOnly">%s
              <m:Items><t:Message><t:Subject>%s</t:Subject><t:Body BodyType="Text">body</t:Body>%s
                <t:ToRecipients>%s</t:ToRecipients></t:Message></m:Items>
            </m:CreateItem>""" % (folder, subject, extended, recipients), mailbox)
        (klass, code, message), = messages(response)
        assert code == "NoError", message.findtext(qm("MessageText"))
        item_id = message.find(".//" + qt("ItemId"))
        return item_id.get("Id"), item_id.get("ChangeKey")


def parse(body: str) -> etree._Element:
    """An M:<Operation> element from XML text using the m: and t: prefixes."""
    root = etree.fromstring('<root xmlns:m="%s" xmlns:t="%s">%s</root>' % (M, T, body))
    return root[0]


def messages(response: etree._Element) -> list[tuple[str, str, etree._Element]]:
    """(ResponseClass, ResponseCode, element) per response message, in order."""
    return [(m.get("ResponseClass"), m.findtext(qm("ResponseCode")), m) for m in response.find(qm("ResponseMessages"))]


def marker_property(name="ExchangeEwsSendMarker", value="m1") -> str:
    return ('<t:ExtendedProperty><t:ExtendedFieldURI PropertySetId="%s" PropertyName="%s" PropertyType="String"/>'
            '<t:Value>%s</t:Value></t:ExtendedProperty>' % (MARKER_SET, name, value))


def marker_uri(name="ExchangeEwsSendMarker") -> str:
    return '<t:ExtendedFieldURI PropertySetId="%s" PropertyName="%s" PropertyType="String"/>' % (MARKER_SET, name)


def item_ids(*pairs) -> str:
    return "".join('<t:ItemId Id="%s" ChangeKey="%s"/>' % pair for pair in pairs)


def get_items(env: Env, ids, properties="", mailbox=ALICE):
    return messages(env.call("GetItem", """
        <m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape>
          <t:AdditionalProperties><t:FieldURI FieldURI="item:IsDraft"/>%s</t:AdditionalProperties></m:ItemShape>
          <m:ItemIds>%s</m:ItemIds></m:GetItem>""" % (properties, item_ids(*ids)), mailbox))
