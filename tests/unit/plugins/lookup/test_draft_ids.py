# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.exchange.ews.plugins.lookup.draft_ids import draft_result
from ansible_collections.exchange.ews.plugins.module_utils.services.find_item import FoundItem


def test_draft_result_is_what_send_item_accepts():
    item = FoundItem("AAMk1", "CQA1", {"Subject": "Report", "DisplayTo": "Bob Smith; dora@example.org",
                                       "DateTimeCreated": "2024-05-01T08:00:00Z",
                                       "LastModifiedTime": "2024-05-01T08:05:12Z"}, {})
    item.fields["IsDraft"] = "true"
    assert draft_result(item) == {
        "id": "AAMk1", "change_key": "CQA1", "subject": "Report", "to": ["Bob Smith", "dora@example.org"],
        "created": "2024-05-01T08:00:00Z", "last_modified": "2024-05-01T08:05:12Z", "is_draft": True,
        "send_state": None, "mailbox": None}


def test_draft_result_says_what_send_item_may_skip_reading():
    item = FoundItem("AAMk1", "CQA1", {"IsDraft": "true"}, {"ExchangeEwsSendState": "pending:abc:1700000000"})
    assert draft_result(item, mailbox="alice@example.com")["send_state"] == "pending"
    assert draft_result(item, mailbox="alice@example.com")["mailbox"] == "alice@example.com"
    assert draft_result(FoundItem("AAMk2", "CQA2", {"IsDraft": "false"}, {}))["is_draft"] is False


def test_missing_properties_become_empty_values():
    result = draft_result(FoundItem("AAMk2", "CQA2", {}, {}))
    assert result["subject"] == "" and result["to"] == []


def test_server_text_in_results_is_redacted():
    item = FoundItem("AAMk3", "CQA3", {"Subject": "pw is Hunter2-Xy; ok", "DisplayTo": "HUNTER2-XY; Bob"}, {})
    result = draft_result(item, secrets=("Hunter2-Xy",))
    assert result["subject"] == "pw is ********; ok" and result["to"] == ["********", "Bob"]
