# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""CreateItem, UpdateItem.update and DeleteItem against the EWS sandbox."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.exchange.ews.plugins.module_utils import message_fields as f
from ansible_collections.exchange.ews.plugins.module_utils import restrictions as r
from ansible_collections.exchange.ews.plugins.module_utils.errors import EwsError
from ansible_collections.exchange.ews.plugins.module_utils.services.create_item import CreateItem
from ansible_collections.exchange.ews.plugins.module_utils.services.delete_item import DeleteItem
from ansible_collections.exchange.ews.plugins.module_utils.services.common import folder_id
from ansible_collections.exchange.ews.plugins.module_utils.services.find_item import FindItem
from ansible_collections.exchange.ews.plugins.module_utils.services.update_item import UpdateItem
from ansible_collections.exchange.ews.tests.unit.utils.sandbox_clients import client_for

ALICE = "alice@sandbox.test"
SUBJECT = r.field_uri("item:Subject")


def subjects(client, folder):
    return sorted(item.fields.get("Subject") for item in FindItem(client).find(folder, [SUBJECT]).items)


def test_delegate_creates_updates_and_deletes_in_the_principals_drafts(sandbox):
    drafts = folder_id("drafts", ALICE)
    with client_for(sandbox, "bob") as client:
        (identifier, change_key), = CreateItem(client).save_drafts(
            [f.message([f.mailboxes("ToRecipients", [ALICE]), f.text("Subject", "from bob"),
                        f.text("ItemClass", "IPM.Note")])],
            drafts)
        assert subjects(client, drafts) == ["from bob"]

        new_id, new_change_key = UpdateItem(client).update(
            identifier, change_key, [f.text("Subject", "renamed")], ["message:ToRecipients"])
        assert new_change_key and new_change_key != change_key
        assert subjects(client, drafts) == ["renamed"]

        with pytest.raises(EwsError) as stale:
            UpdateItem(client).update(identifier, change_key, [f.text("Subject", "late")])
        assert stale.value.response_code == "ErrorIrresolvableConflict"

        assert DeleteItem(client).delete([(new_id, new_change_key)]) == []
        assert subjects(client, drafts) == []
        assert DeleteItem(client).delete([(new_id, None)]) == [new_id]


def test_create_without_rights_names_the_response_code(sandbox):
    with client_for(sandbox, "carol") as client:
        with pytest.raises(EwsError) as denied:
            CreateItem(client).save_drafts([f.message([f.text("Subject", "x")])], folder_id("drafts", ALICE))
    assert denied.value.response_code == "ErrorAccessDenied"


def test_a_batch_of_extended_property_changes_holds_each_change_as_it_would_be_alone():
    # Changes of one shape are copied from the first (services/update_item.py): each must still carry its own id,
    # change key (or none) and values, whatever the shapes around it.
    from lxml import etree

    class Recorder:
        def __init__(self):
            self.requests = []

        def call(self, operation, request):
            self.requests.append(request)
            return [None] * len(request[0])

    marker = {"PropertySetId": "2d0c7b1e-7f5c-4c8e-9a39-65d2b8a0f0e1", "PropertyName": "Marker",
              "PropertyType": "String"}
    state = dict(marker, PropertyName="State")
    changes = [("id1", "ck1", [(marker, "m1"), (state, "s1")]),
               ("id2", None, [(marker, "m2"), (state, "s2")]),
               ("id3", "ck3", [(state, "s3")]),
               ("id4", "ck4", [(marker, "m4"), (state, "s4")]),
               ("id5", "ck5", [(state, "s5"), (marker, "m5")]),
               ("id6", "", [(state, "s6")]),
               ("id7", "ck7", [(marker, "m&<7>"), (state, "s7")])]
    recorder = Recorder()
    UpdateItem(recorder).set_extended_properties(changes)
    for change in changes:
        UpdateItem(recorder).set_extended_properties([change])
    batch, alone = recorder.requests[0], recorder.requests[1:]
    assert [etree.tostring(c) for c in batch[0]] == [etree.tostring(request[0][0]) for request in alone]
    assert batch[0][1][0].get("ChangeKey") is None and batch[0][5][0].get("ChangeKey") is None
