# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

import pytest
from lxml import etree

from ansible_collections.exchange.ews.plugins.module_utils.errors import EwsConfigError
from ansible_collections.exchange.ews.plugins.module_utils.restrictions import TYPES_NS
from ansible_collections.exchange.ews.plugins.plugin_utils import draft_filters as f

NS = {"t": TYPES_NS}
UTC = datetime.timezone.utc
NOW = datetime.datetime(2024, 5, 10, 12, 0, 0, tzinfo=UTC)


def test_a_bad_time_names_its_option():
    with pytest.raises(EwsConfigError, match="created_before: 'tomorrow' is neither"):
        f.draft_restriction(created_before="tomorrow", now=NOW)


def test_text_no_request_can_carry_names_its_option():
    with pytest.raises(EwsConfigError, match=r"categories\[1\] contains U\+0001"):
        f.draft_restriction(categories=["ok", "bad\x01"])


def test_no_filters_means_no_restriction():
    assert f.draft_restriction(sendable_only=False) is None


def test_by_default_only_drafts_no_run_stamped_as_sent_match():
    expression = f.draft_restriction()
    assert etree.QName(expression).localname == "And"
    is_draft, not_sent = expression
    assert (etree.QName(is_draft).localname, is_draft[0].get("FieldURI")) == ("IsEqualTo", "item:IsDraft")
    assert is_draft.find("t:FieldURIOrConstant/t:Constant", NS).get("Value") == "true"
    contains = not_sent.find("t:Contains", NS)
    assert etree.QName(not_sent).localname == "Not" and contains.get("ContainmentMode") == "Prefixed"
    assert contains[0].get("PropertyName") == "ExchangeEwsSendState"
    assert contains.find("t:Constant", NS).get("Value") == "sent:"


def test_all_filters_become_one_and():
    expression = f.draft_restriction(subject="Report", subject_contains="port", to="bob",
                                     created_after="-1d", created_before="2024-05-11",
                                     categories=["ansible", "weekly"], now=NOW, sendable_only=False)
    assert etree.QName(expression).localname == "And"
    operators = [(etree.QName(child).localname, child[0].get("FieldURI")) for child in expression]
    assert operators == [
        ("IsEqualTo", "item:Subject"),
        ("Contains", "item:Subject"),
        ("Contains", "item:DisplayTo"),
        ("IsGreaterThanOrEqualTo", "item:DateTimeCreated"),
        ("IsLessThan", "item:DateTimeCreated"),
        ("IsEqualTo", "item:Categories"),
        ("IsEqualTo", "item:Categories"),
    ]
    assert expression[3].find("t:FieldURIOrConstant/t:Constant", NS).get("Value") == "2024-05-09T12:00:00Z"


def test_single_filter_is_not_wrapped():
    expression = f.draft_restriction(subject="Report", sendable_only=False)
    assert etree.QName(expression).localname == "IsEqualTo"


def test_sort_orders():
    for sort in f.SORT_CHOICES:
        assert f.draft_field_orders(sort)
    newest = f.draft_field_orders("newest_first")
    assert [order.get("Order") for order in newest] == ["Descending"]
