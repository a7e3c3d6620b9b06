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


def test_graph_names_the_sorted_properties_first_as_it_requires():
    query, order_by = f.graph_query("newest_first", subject="Report", created_after="-1d", now=NOW)
    assert order_by == "createdDateTime desc"
    assert query.startswith("createdDateTime ge 2024-05-09T12:00:00Z and subject eq 'Report' and isDraft eq true")
    query, order_by = f.graph_query("subject", subject_contains="port", sendable_only=False)
    assert order_by == "subject asc,createdDateTime desc"
    assert query == ("subject ge '' and createdDateTime ge 1601-01-01T00:00:00Z and contains(subject, 'port')")
    query, order_by = f.graph_query("last_modified", sendable_only=False)
    assert query == "lastModifiedDateTime ge 1601-01-01T00:00:00Z and createdDateTime ge 1601-01-01T00:00:00Z"


def test_graph_filters_every_option_but_to_and_quotes_literals():
    query, _order_by = f.graph_query("oldest_first", subject="Bob's report", created_before="2024-05-11",
                                     categories=["a'b", "weekly"], now=NOW)
    assert "subject eq 'Bob''s report'" in query
    assert "createdDateTime lt 2024-05-11T00:00:00Z" in query
    assert "categories/any(c: c eq 'a''b') and categories/any(c: c eq 'weekly')" in query
    assert query.endswith("not singleValueExtendedProperties/any(ep: ep/id eq 'String "
                          "{2d0c7b1e-7f5c-4c8e-9a39-65d2b8a0f0e1} Name ExchangeEwsSendState' and "
                          "startswith(ep/value, 'sent:'))")


def test_to_is_matched_on_the_to_line_as_ews_displays_it():
    assert f.to_line_matches(["Bob Smith", "dora@example.org"], "smith; DORA")
    assert not f.to_line_matches(["Bob Smith"], "carol")
