# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

import pytest
from lxml import etree

from ansible_collections.exchange.ews.plugins.module_utils.restrictions import TYPES_NS
from ansible_collections.exchange.ews.plugins.plugin_utils import draft_filters as f

NS = {"t": TYPES_NS}
UTC = datetime.timezone.utc
NOW = datetime.datetime(2024, 5, 10, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize("text, expected", [
    ("-1d", datetime.datetime(2024, 5, 9, 12, 0, 0, tzinfo=UTC)),
    ("-90m", datetime.datetime(2024, 5, 10, 10, 30, 0, tzinfo=UTC)),
    ("-2w", datetime.datetime(2024, 4, 26, 12, 0, 0, tzinfo=UTC)),
    ("2024-05-01", datetime.datetime(2024, 5, 1, tzinfo=UTC)),
    ("2024-05-01T08:00:00Z", datetime.datetime(2024, 5, 1, 8, tzinfo=UTC)),
    ("2024-05-01T10:00:00+02:00", datetime.datetime(2024, 5, 1, 8, tzinfo=UTC)),
])
def test_parse_time(text, expected):
    assert f.parse_time(text, NOW) == expected


@pytest.mark.parametrize("text", ["yesterday", "1d", "-1y", "2024-13-01"])
def test_parse_time_rejects_with_accepted_forms(text):
    with pytest.raises(ValueError, match="relative age"):
        f.parse_time(text, NOW)


def test_no_filters_means_no_restriction():
    assert f.draft_restriction() is None


def test_all_filters_become_one_and():
    expression = f.draft_restriction(subject="Report", subject_contains="port", to="bob",
                                     created_after="-1d", created_before="2024-05-11",
                                     categories=["ansible", "weekly"], now=NOW)
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
    expression = f.draft_restriction(subject="Report")
    assert etree.QName(expression).localname == "IsEqualTo"


def test_sort_orders():
    for sort in f.SORT_CHOICES:
        assert f.draft_field_orders(sort)
    newest = f.draft_field_orders("newest_first")
    assert [order.get("Order") for order in newest] == ["Descending"]
