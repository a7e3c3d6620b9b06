# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The draft module's comparison and request building (the EWS round trips are covered by the integration target)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from lxml import etree

from ansible_collections.exchange.ews.plugins.module_utils import drafts

PARAMS = dict(key="k", subject="Report", body="Hi", body_type="html", to=["Bob@Example.org", "a@example.org"],
              cc=[], bcc=None, importance="high", categories=["weekly", "ansible"], mailbox=None)


def names(elements):
    return [etree.QName(element).localname for element in elements]


def test_desired_state_manages_only_given_options_and_normalises_lists():
    desired = drafts.desired_state(PARAMS)
    assert set(desired) == {"subject", "body_sha256", "to", "cc", "importance", "categories"}
    assert desired["to"] == ["a@example.org", "bob@example.org"]
    assert desired["categories"] == ["ansible", "weekly"]
    assert desired["body_sha256"] == drafts.body_digest("html", "Hi") != drafts.body_digest("text", "Hi")


def test_new_draft_keeps_schema_order_and_carries_key_and_digest():
    message = drafts.new_draft(PARAMS, sorted(drafts.desired_state(PARAMS)))
    assert names(message) == ["ItemClass", "Subject", "Body", "Categories", "Importance", "ExtendedProperty",
                              "ExtendedProperty", "ToRecipients"]
    assert message.findtext("{*}Body") == "Hi" and message.find("{*}Body").get("BodyType") == "HTML"
    assert message.findtext("{*}Importance") == "High"
    assert [prop.find("{*}ExtendedFieldURI").get("PropertyName") for prop in message.iterfind("{*}ExtendedProperty")] \
        == ["ExchangeEwsDraftKey", "ExchangeEwsDraftBodyDigest"]
    assert message.find("{*}CcRecipients") is None  # an empty list is simply not set on a new draft


def test_field_changes_set_values_and_delete_emptied_lists():
    set_fields, delete_uris = drafts.field_changes(PARAMS, ["body_sha256", "cc", "to"])
    assert names(set_fields) == ["Body", "ExtendedProperty", "ToRecipients"]
    assert delete_uris == ["message:CcRecipients"]
