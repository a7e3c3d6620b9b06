# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Builders for FindItem ``Restriction`` and ``SortOrder`` elements.

Every builder returns a new lxml element in the EWS types namespace, ready to
be placed under ``m:Restriction``; path arguments are copied (lxml would move
them otherwise), so one path can serve several expressions. Restrictions are built as XML rather than as
zeep objects because the schema models search expressions as an abstract
element with a substitution group, which zeep cannot serialise.

Exchange evaluates the whole tree server-side, so callers combine every
filter into one expression instead of filtering results in Python.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import datetime

try:
    from lxml import etree
except ImportError:  # pragma: no cover - reported by the plugin that imports us
    etree = None

from ansible_collections.exchange.ews.plugins.module_utils.ews_schema import T, TYPES_NS

CONTAINMENT_MODES = ("FullString", "Prefixed", "Substring", "PrefixOnWords", "ExactPhrase")
CONTAINMENT_COMPARISONS = ("Exact", "IgnoreCase", "IgnoreNonSpacingCharacters", "Loose",
                           "IgnoreCaseAndNonSpacingCharacters", "LooseAndIgnoreCase",
                           "LooseAndIgnoreNonSpace", "LooseAndIgnoreCaseAndIgnoreNonSpace")
SORT_DIRECTIONS = ("Ascending", "Descending")


def _element(name, **attributes):
    # Declaring the usual "t" prefix keeps requests readable in logs and captures.
    return etree.Element(T + name, attributes, nsmap={"t": TYPES_NS})


def field_uri(uri):
    """A property path for a schema property, for example ``item:Subject``."""
    return _element("FieldURI", FieldURI=uri)


def extended_field_uri(path):
    """A property path for an extended property, from its ``ExtendedFieldURI`` attributes.

    ``path`` is a dict such as ``properties.path(name)`` returns
    (``PropertySetId``, ``PropertyName``, ``PropertyType``).
    """
    return _element("ExtendedFieldURI", **path)


def constant_text(value):
    """The text Exchange expects in ``t:Constant/@Value`` for a Python value.

    Datetimes become xs:dateTime in UTC (naive ones are taken as UTC), booleans
    ``true``/``false``; everything else is converted with ``str``.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return value.replace(microsecond=0).isoformat() + "Z"
    return str(value)


def _comparison(operator, path, value):
    expression = _element(operator)
    expression.append(copy.deepcopy(path))
    operand = etree.SubElement(expression, T + "FieldURIOrConstant")
    etree.SubElement(operand, T + "Constant", Value=constant_text(value))
    return expression


def is_equal_to(path, value):
    return _comparison("IsEqualTo", path, value)


def is_greater_than_or_equal_to(path, value):
    return _comparison("IsGreaterThanOrEqualTo", path, value)


def is_less_than(path, value):
    return _comparison("IsLessThan", path, value)


def contains(path, value, mode="Substring", comparison="IgnoreCase"):
    """Text containment; ``mode`` and ``comparison`` are the EWS attribute values."""
    if mode not in CONTAINMENT_MODES:
        raise ValueError("unknown ContainmentMode %r" % (mode,))
    if comparison not in CONTAINMENT_COMPARISONS:
        raise ValueError("unknown ContainmentComparison %r" % (comparison,))
    expression = _element("Contains", ContainmentMode=mode, ContainmentComparison=comparison)
    expression.append(copy.deepcopy(path))
    etree.SubElement(expression, T + "Constant", Value=constant_text(value))
    return expression


def _combine(operator, expressions):
    # None stands for "no condition", so callers can pass optional filters straight in.
    # The schema requires at least one operand, and a single operand needs no wrapper.
    operands = [expression for expression in expressions if expression is not None]
    if not operands:
        return None
    if len(operands) == 1:
        return operands[0]
    combined = _element(operator)
    combined.extend(operands)
    return combined


def and_(*expressions):
    """All of ``expressions``; ``None`` operands are ignored, no operands gives ``None``."""
    return _combine("And", expressions)


def or_(*expressions):
    """Any of ``expressions``; ``None`` operands are ignored, no operands gives ``None``."""
    return _combine("Or", expressions)


def not_(expression):
    negated = _element("Not")
    negated.append(expression)
    return negated


def field_orders(*orders):
    """``t:FieldOrder`` elements for ``SortOrder`` from ``(path, "Ascending" | "Descending")`` pairs.

    The first pair is the most significant key.
    """
    elements = []
    for path, direction in orders:
        if direction not in SORT_DIRECTIONS:
            raise ValueError("unknown sort direction %r" % (direction,))
        field_order = _element("FieldOrder", Order=direction)
        field_order.append(copy.deepcopy(path))
        elements.append(field_order)
    return elements
