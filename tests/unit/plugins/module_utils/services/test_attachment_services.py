# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""CreateAttachment and DeleteAttachment against the EWS sandbox: every attachment write changes the ChangeKey."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.exchange.ews.plugins.module_utils import message_fields as f
from ansible_collections.exchange.ews.plugins.module_utils.errors import EwsError
from ansible_collections.exchange.ews.plugins.module_utils.responses import first_item
from ansible_collections.exchange.ews.plugins.module_utils.services.common import folder_id
from ansible_collections.exchange.ews.plugins.module_utils.services.create_attachment import CreateAttachment
from ansible_collections.exchange.ews.plugins.module_utils.services.create_item import CreateItem
from ansible_collections.exchange.ews.plugins.module_utils.services.delete_attachment import DeleteAttachment
from ansible_collections.exchange.ews.plugins.module_utils.services.get_item import GetItem
from ansible_collections.exchange.ews.tests.unit.utils.sandbox_clients import client_for

ALICE = "alice@sandbox.test"


def attachments_of(client, identifier):
    """(ChangeKey, [(AttachmentId, Name, ContentId or None)]) as GetItem describes them."""
    item = first_item(GetItem(client).call([identifier], field_uris=["item:Attachments"])[0])
    return item.find("{*}ItemId").get("ChangeKey"), [
        (a.find("{*}AttachmentId").get("Id"), a.findtext("{*}Name"), a.findtext("{*}ContentId"))
        for a in item.iterfind("{*}Attachments/{*}FileAttachment")]


def test_add_and_delete_return_the_items_current_change_key(sandbox):
    with client_for(sandbox) as client:
        (identifier, created_key), = CreateItem(client).save_drafts(
            [f.message([f.text("Subject", "attachments"),
                        f.attachments([f.file_attachment("a.csv", "text/csv", b"a,b\n1,2\n")])])],
            folder_id("drafts"))
        after_add = CreateAttachment(client).add(identifier, created_key, [
            f.file_attachment("b.txt", "text/plain", b"b"),
            f.file_attachment("logo.png", "image/png", b"\x89PNG", content_id="logo@example")])
        current, listed = attachments_of(client, identifier)
        assert after_add == current != created_key
        assert [(name, content_id) for _id, name, content_id in listed] == [
            ("a.csv", None), ("b.txt", None), ("logo.png", "logo@example")]

        after_delete = DeleteAttachment(client).delete([listed[0][0], listed[1][0]])
        current, remaining = attachments_of(client, identifier)
        assert after_delete == current != after_add
        assert [name for _id, name, _cid in remaining] == ["logo.png"]
        assert DeleteAttachment(client).delete([listed[0][0]]) is None    # already gone


def test_a_stale_change_key_adds_nothing_and_names_the_attachment(sandbox):
    with client_for(sandbox) as client:
        (identifier, created_key), = CreateItem(client).save_drafts(
            [f.message([f.text("Subject", "stale")])], folder_id("drafts"))
        CreateAttachment(client).add(identifier, created_key, [f.file_attachment("first.txt", "text/plain", b"1")])
        with pytest.raises(EwsError) as stale:
            CreateAttachment(client).add(identifier, created_key, [f.file_attachment("late.txt", "text/plain", b"2")])
        assert [name for _id, name, _cid in attachments_of(client, identifier)[1]] == ["first.txt"]
    assert stale.value.response_code == "ErrorStaleObject"
    assert "attachment 'late.txt'" in str(stale.value) and stale.value.item_id == identifier


def test_a_delegate_without_rights_is_refused(sandbox):
    with client_for(sandbox) as alice:
        (identifier, change_key), = CreateItem(alice).save_drafts([f.message([f.text("Subject", "x")])],
                                                                  folder_id("drafts"))
    with client_for(sandbox, "carol") as carol:
        with pytest.raises(EwsError) as denied:
            CreateAttachment(carol).add(identifier, change_key, [f.file_attachment("x.txt", "text/plain", b"x")])
    assert denied.value.response_code == "ErrorAccessDenied"
