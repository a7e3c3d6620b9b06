# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""FindItem against the EWS sandbox: one round trip per page of matches, paging to the end."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.exchange.ews.plugins.module_utils import restrictions as r
from ansible_collections.exchange.ews.plugins.module_utils.errors import EwsConfigError, EwsError
from ansible_collections.exchange.ews.plugins.module_utils.services.common import folder_id
from ansible_collections.exchange.ews.plugins.module_utils.services.find_item import FindItem, TooManyMatches
from ansible_collections.exchange.ews.tests.unit.utils.sandbox_clients import client_for

ALICE = "alice@sandbox.test"
SUBJECT = r.field_uri("item:Subject")


@pytest.fixture(scope="module")
def sandbox(sandbox):
    """The shared fixture's sandbox, with 3 needles among 600 drafts (more than two pages)."""
    sandbox.admin.seed(ALICE, count=600, subject="bulk")
    sandbox.admin.seed(ALICE, count=3, subject="needle", to=["bob@sandbox.test"])
    return sandbox


def find_item_requests(sandbox, since):
    return [entry for entry in sandbox.admin.requests(since=since) if entry["operation"] == "FindItem"]


def last_seq(sandbox):
    entries = sandbox.admin.requests(since=0)
    return entries[-1]["seq"] if entries else 0


def test_three_matches_cost_one_round_trip(sandbox):
    since = last_seq(sandbox)
    with client_for(sandbox) as client:
        result = FindItem(client).find(folder_id("drafts"), [SUBJECT, r.field_uri("item:DisplayTo")],
                                       r.is_equal_to(SUBJECT, "needle"))
    assert len(result.items) == 3 and result.total == 3 and result.requests == 1
    assert {item.fields["Subject"] for item in result.items} == {"needle"}
    assert all(item.id and item.change_key for item in result.items)
    assert len(find_item_requests(sandbox, since)) == 1


def test_pages_until_the_last_item(sandbox):
    with client_for(sandbox) as client:
        result = FindItem(client).find(folder_id("drafts"), [SUBJECT], r.is_equal_to(SUBJECT, "bulk"),
                                       r.field_orders((r.field_uri("item:DateTimeCreated"), "Ascending")))
    assert result.total == 600 and result.requests == 3
    assert len({item.id for item in result.items}) == 600


def test_max_items_stops_early(sandbox):
    with client_for(sandbox) as client:
        result = FindItem(client).find(folder_id("drafts"), [SUBJECT], r.is_equal_to(SUBJECT, "bulk"),
                                       max_items=260)
    assert len(result.items) == 260 and result.requests == 2


def test_delegate_searches_the_principals_drafts(sandbox):
    with client_for(sandbox, "bob") as client:
        result = FindItem(client).find(folder_id("drafts", ALICE), [SUBJECT], r.is_equal_to(SUBJECT, "needle"))
    assert len(result.items) == 3


def test_no_rights_names_the_response_code(sandbox):
    with client_for(sandbox, "carol") as client:
        with pytest.raises(EwsError) as caught:
            FindItem(client).find(folder_id("drafts", ALICE), [SUBJECT])
    assert caught.value.response_code == "ErrorAccessDenied"
    assert "Passw0rd" not in str(caught.value)


def test_unknown_folder_name_is_refused_before_any_request():
    with pytest.raises(EwsConfigError, match="saved_item_folder: 'Sent Items' is neither a distinguished folder"):
        folder_id("Sent Items", where="saved_item_folder")
    assert folder_id("AAMkADk=") == {"FolderId": {"Id": "AAMkADk="}}
    assert folder_id("SentItems") == {"DistinguishedFolderId": {"Id": "sentitems"}}


def test_several_folders_in_one_request_each_item_knows_its_folder(sandbox):
    sandbox.admin.seed(ALICE, count=2, subject="in inbox", folder="inbox")
    since = last_seq(sandbox)
    drafts, inbox, sent = folder_id("drafts"), folder_id("inbox", ALICE), folder_id("sentitems")
    with client_for(sandbox) as client:
        result = FindItem(client).find(parent_folders=[drafts, inbox, sent], additional_properties=[SUBJECT],
                                       restriction=r.or_(r.is_equal_to(SUBJECT, "needle"),
                                                         r.is_equal_to(SUBJECT, "in inbox")))
    assert [(item.folder, item.fields["Subject"]) for item in result.items] == \
        [(drafts, "needle")] * 3 + [(inbox, "in inbox")] * 2
    assert result.total == 5 and result.requests == 1
    assert len(find_item_requests(sandbox, since)) == 1


def test_several_folders_page_each_to_its_end(sandbox):
    with client_for(sandbox) as client:
        result = FindItem(client).find(parent_folders=[folder_id("inbox"), folder_id("drafts")],
                                       additional_properties=[SUBJECT], restriction=r.is_equal_to(SUBJECT, "bulk"),
                                       page_size=100)
    # The inbox is done after its first (empty) page; the drafts take 6 more pages alone.
    assert len({item.id for item in result.items}) == 600 and result.requests == 6


def test_more_matches_than_the_limit_fail_after_one_request(sandbox):
    since = last_seq(sandbox)
    with client_for(sandbox) as client:
        with pytest.raises(TooManyMatches) as caught:
            FindItem(client).find(folder_id("drafts"), [SUBJECT], r.is_equal_to(SUBJECT, "bulk"), limit=500)
    assert caught.value.matches == 600 and caught.value.limit == 500
    assert "600 items match, more than the limit of 500" in str(caught.value)
    assert len(find_item_requests(sandbox, since)) == 1
