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
