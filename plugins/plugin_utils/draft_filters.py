# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turn the draft_ids lookup's filter options into one FindItem restriction, or one Graph ``$filter``.

All filters are evaluated by Exchange in a single restriction so that a search
among many drafts costs one FindItem round trip per page of *matches*, never a
download of the folder. Microsoft Graph evaluates every filter but ``to``:
it cannot filter messages on their recipients (``$search`` can find them, but
by word prefixes, and not together with ``$filter``), so ``to`` is applied to
the matches of the other filters here (``to_line_matches``), over at most
``TO_SCAN_LIMIT`` of them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.exchange.ews.plugins.module_utils import properties
from ansible_collections.exchange.ews.plugins.module_utils import restrictions as r
from ansible_collections.exchange.ews.plugins.module_utils.validation import parse_time, validate_xml_text

# Graph: the extended property of the send state, and the most matches of the other filters that `to` is
# applied to (pages of 1,000: at most 10 requests).
GRAPH_STATE_ID = "String {%s} Name %s" % (properties.PROPERTY_SET_ID, properties.STATE)
TO_SCAN_LIMIT = 10000
# The earliest time Exchange stores: a condition every message meets, for Graph's $orderby rule below.
EARLIEST = "1601-01-01T00:00:00Z"
# sort option value -> Graph $orderby; Graph requires a $filter to name the $orderby properties first, in order.
GRAPH_SORTS = {
    "newest_first": (("createdDateTime", "desc"),),
    "oldest_first": (("createdDateTime", "asc"),),
    "last_modified": (("lastModifiedDateTime", "desc"), ("createdDateTime", "desc")),
    "subject": (("subject", "asc"), ("createdDateTime", "desc")),
}

# sort option value -> (FieldURI, direction); creation time breaks ties so that
# paging over items with equal keys stays stable.
SORT_CHOICES = {
    "newest_first": (("item:DateTimeCreated", "Descending"),),
    "oldest_first": (("item:DateTimeCreated", "Ascending"),),
    "last_modified": (("item:LastModifiedTime", "Descending"), ("item:DateTimeCreated", "Descending")),
    "subject": (("item:Subject", "Ascending"), ("item:DateTimeCreated", "Descending")),
}


def draft_restriction(subject=None, subject_contains=None, to=None, created_after=None,
                      created_before=None, categories=None, now=None, sendable_only=True):
    """The search expression for the given filters, or None when none is set and ``sendable_only`` is false.

    With ``sendable_only`` (the lookup's default), only drafts that no
    send_item run has stamped as sent match: items that are not drafts
    (sent or received messages, a draft Exchange left behind after a
    delegate's send) and drafts stamped ``sent:`` would never be sent again.

    ``to`` matches a substring of the item's To line (``item:DisplayTo``):
    FindItem can neither return nor restrict on ``ToRecipients``. Every entry
    of ``categories`` must be present on the item. Raises ``EwsConfigError``
    naming the option for a value no request can carry or a time that is not
    one (``validation.parse_time``).
    """
    for name, value in (("subject", subject), ("subject_contains", subject_contains), ("to", to),
                        ("categories", categories)):
        validate_xml_text(value, name)
    conditions = []
    if subject is not None:
        conditions.append(r.is_equal_to(r.field_uri("item:Subject"), subject))
    if subject_contains:
        conditions.append(r.contains(r.field_uri("item:Subject"), subject_contains))
    if to:
        conditions.append(r.contains(r.field_uri("item:DisplayTo"), to))
    if created_after:
        conditions.append(r.is_greater_than_or_equal_to(r.field_uri("item:DateTimeCreated"),
                                                        parse_time(created_after, "created_after", now)))
    if created_before:
        conditions.append(r.is_less_than(r.field_uri("item:DateTimeCreated"),
                                         parse_time(created_before, "created_before", now)))
    for category in categories or ():
        conditions.append(r.is_equal_to(r.field_uri("item:Categories"), category))
    if sendable_only:
        conditions.append(r.is_equal_to(r.field_uri("item:IsDraft"), True))
        conditions.append(r.not_(r.contains(r.extended_field_uri(properties.STATE_PATH), properties.SENT + ":",
                                            mode="Prefixed", comparison="Exact")))
    return r.and_(*conditions)


def draft_field_orders(sort):
    """The ``t:FieldOrder`` elements for a ``sort`` option value."""
    return r.field_orders(*[(r.field_uri(uri), direction) for uri, direction in SORT_CHOICES[sort]])


def _literal(text):
    """An OData string literal (a quote doubled)."""
    return "'%s'" % text.replace("'", "''")


def _utc(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def graph_query(sort, subject=None, subject_contains=None, created_after=None, created_before=None, categories=None,
                now=None, sendable_only=True):
    """``(filter, orderby)`` of a Graph message list for the filters ``draft_restriction`` takes (``to`` aside).

    Graph serves an ``$orderby`` together with a ``$filter`` only when the filter names the ordered properties
    first, in the same order ("InefficientFilter" otherwise): each ordered property leads the filter, with a
    condition every message meets where the task gives none (a subject at least empty, created since 1601).
    """
    for name, value in (("subject", subject), ("subject_contains", subject_contains), ("categories", categories)):
        validate_xml_text(value, name)
    leading = {"subject": "subject eq %s" % _literal(subject) if subject is not None else "subject ge ''",
               "lastModifiedDateTime": "lastModifiedDateTime ge %s" % EARLIEST,
               "createdDateTime": "createdDateTime ge %s" % (
                   _utc(parse_time(created_after, "created_after", now)) if created_after else EARLIEST)}
    ordered = [name for name, _direction in GRAPH_SORTS[sort]]
    conditions = [leading[name] for name in ordered]
    if subject is not None and "subject" not in ordered:
        conditions.append(leading["subject"])
    if created_after and "createdDateTime" not in ordered:
        conditions.append(leading["createdDateTime"])
    if subject_contains:
        conditions.append("contains(subject, %s)" % _literal(subject_contains))
    if created_before:
        conditions.append("createdDateTime lt %s" % _utc(parse_time(created_before, "created_before", now)))
    for category in categories or ():
        conditions.append("categories/any(c: c eq %s)" % _literal(category))
    if sendable_only:
        conditions.append("isDraft eq true")
        conditions.append("not singleValueExtendedProperties/any(ep: ep/id eq %s and startswith(ep/value, %s))"
                          % (_literal(GRAPH_STATE_ID), _literal(properties.SENT + ":")))
    return " and ".join(conditions), ",".join("%s %s" % pair for pair in GRAPH_SORTS[sort])


def to_line_matches(names, text):
    """Whether the To line (recipients' names, as EWS's DisplayTo joins them) contains ``text``, ignoring case."""
    return text.lower() in "; ".join(names).lower()
