# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

import pytest
from lxml import etree

from ansible_collections.exchange.ews.plugins.module_utils import restrictions as r

NS = {"t": r.TYPES_NS}
SUBJECT = r.field_uri("item:Subject")


def test_is_equal_to_renders_field_and_constant():
    element = r.is_equal_to(SUBJECT, "Quarterly report")
    assert element.tag == "{%s}IsEqualTo" % r.TYPES_NS
    assert element.find("t:FieldURI", NS).get("FieldURI") == "item:Subject"
    assert element.find("t:FieldURIOrConstant/t:Constant", NS).get("Value") == "Quarterly report"


def test_paths_are_copied_so_one_path_serves_several_expressions():
    first = r.is_equal_to(SUBJECT, "a")
    second = r.is_equal_to(SUBJECT, "b")
    assert first.find("t:FieldURI", NS) is not None
    assert second.find("t:FieldURI", NS) is not None
    assert SUBJECT.getparent() is None


def test_contains_sets_containment_attributes():
    element = r.contains(r.field_uri("item:DisplayTo"), "bob", mode="Substring", comparison="IgnoreCase")
    assert element.get("ContainmentMode") == "Substring"
    assert element.get("ContainmentComparison") == "IgnoreCase"
    assert element.find("t:Constant", NS).get("Value") == "bob"


def test_contains_rejects_unknown_mode():
    with pytest.raises(ValueError):
        r.contains(SUBJECT, "x", mode="Fuzzy")


def test_datetimes_become_utc_xs_datetime():
    local = datetime.datetime(2024, 5, 1, 12, 30, 15, 999, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))
    element = r.is_greater_than_or_equal_to(r.field_uri("item:DateTimeCreated"), local)
    assert element.find("t:FieldURIOrConstant/t:Constant", NS).get("Value") == "2024-05-01T10:30:15Z"
    naive = r.is_less_than(r.field_uri("item:DateTimeCreated"), datetime.datetime(2024, 5, 1))
    assert naive.find("t:FieldURIOrConstant/t:Constant", NS).get("Value") == "2024-05-01T00:00:00Z"


def test_and_or_drop_none_and_unwrap_single_operands():
    single = r.is_equal_to(SUBJECT, "a")
    assert r.and_(None, single, None) is single
    assert r.or_() is None
    both = r.and_(r.is_equal_to(SUBJECT, "a"), r.not_(r.is_equal_to(SUBJECT, "b")))
    assert [etree.QName(child).localname for child in both] == ["IsEqualTo", "Not"]
    assert both.find("t:Not/t:IsEqualTo", NS) is not None


def test_extended_property_path():
    path = r.extended_field_uri({"PropertySetId": "2d0c7b1e-7f5c-4c8e-9a39-65d2b8a0f0e1",
                                 "PropertyName": "ExchangeEwsDraftKey", "PropertyType": "String"})
    expression = r.or_(r.is_equal_to(path, "k1"), r.is_equal_to(path, "k2"))
    uris = expression.findall("t:IsEqualTo/t:ExtendedFieldURI", NS)
    assert [uri.get("PropertyName") for uri in uris] == ["ExchangeEwsDraftKey"] * 2
    assert uris[0].get("PropertyType") == "String"


def test_field_orders():
    orders = r.field_orders((r.field_uri("item:DateTimeCreated"), "Descending"), (SUBJECT, "Ascending"))
    assert [order.get("Order") for order in orders] == ["Descending", "Ascending"]
    assert orders[0].tag == "{%s}FieldOrder" % r.TYPES_NS
    assert orders[0].find("t:FieldURI", NS).get("FieldURI") == "item:DateTimeCreated"
    with pytest.raises(ValueError):
        r.field_orders((SUBJECT, "Sideways"))
