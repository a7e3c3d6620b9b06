# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turn the draft_ids lookup's filter options into one FindItem restriction.

All filters are evaluated by Exchange in a single restriction so that a search
among many drafts costs one FindItem round trip per page of *matches*, never a
download of the folder.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.exchange.ews.plugins.module_utils import properties
from ansible_collections.exchange.ews.plugins.module_utils import restrictions as r
from ansible_collections.exchange.ews.plugins.module_utils.validation import parse_time, validate_xml_text

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
