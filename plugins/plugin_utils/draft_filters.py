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

import datetime
import re

from ansible_collections.exchange.ews.plugins.module_utils import restrictions as r

# sort option value -> (FieldURI, direction); creation time breaks ties so that
# paging over items with equal keys stays stable.
SORT_CHOICES = {
    "newest_first": (("item:DateTimeCreated", "Descending"),),
    "oldest_first": (("item:DateTimeCreated", "Ascending"),),
    "last_modified": (("item:LastModifiedTime", "Descending"), ("item:DateTimeCreated", "Descending")),
    "subject": (("item:Subject", "Ascending"), ("item:DateTimeCreated", "Descending")),
}

_RELATIVE_TIME = re.compile(r"^-(\d+)([smhdw])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_time(value, now=None):
    """A timezone-aware UTC datetime from an ISO 8601 string or a relative age.

    Relative ages count back from ``now`` (default: the controller's clock):
    ``-30m``, ``-12h``, ``-1d``, ``-2w`` (units s, m, h, d, w). ISO 8601 values
    may be dates (midnight UTC) or date-times; without an offset they are UTC.
    Raises ValueError with a message naming the accepted forms.
    """
    text = str(value).strip()
    relative = _RELATIVE_TIME.match(text)
    if relative:
        now = now or datetime.datetime.now(datetime.timezone.utc)
        return now - datetime.timedelta(seconds=int(relative.group(1)) * _UNIT_SECONDS[relative.group(2)])
    try:
        # Python < 3.11 fromisoformat does not know the "Z" suffix.
        parsed = datetime.datetime.fromisoformat(re.sub(r"[zZ]$", "+00:00", text))
    except ValueError:
        raise ValueError("%r is neither an ISO 8601 date/time (2024-05-01, 2024-05-01T08:00:00Z) "
                         "nor a relative age (-30m, -12h, -1d, -2w)" % (text,))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed.astimezone(datetime.timezone.utc)


def draft_restriction(subject=None, subject_contains=None, to=None, created_after=None,
                      created_before=None, categories=None, now=None):
    """The search expression for the given filters, or None when none is set.

    ``to`` matches a substring of the item's To line (``item:DisplayTo``):
    FindItem can neither return nor restrict on ``ToRecipients``. Every entry
    of ``categories`` must be present on the item.
    """
    conditions = []
    if subject is not None:
        conditions.append(r.is_equal_to(r.field_uri("item:Subject"), subject))
    if subject_contains:
        conditions.append(r.contains(r.field_uri("item:Subject"), subject_contains))
    if to:
        conditions.append(r.contains(r.field_uri("item:DisplayTo"), to))
    if created_after:
        conditions.append(r.is_greater_than_or_equal_to(r.field_uri("item:DateTimeCreated"),
                                                        parse_time(created_after, now)))
    if created_before:
        conditions.append(r.is_less_than(r.field_uri("item:DateTimeCreated"), parse_time(created_before, now)))
    for category in categories or ():
        conditions.append(r.is_equal_to(r.field_uri("item:Categories"), category))
    return r.and_(*conditions)


def draft_field_orders(sort):
    """The ``t:FieldOrder`` elements for a ``sort`` option value."""
    return r.field_orders(*[(r.field_uri(uri), direction) for uri, direction in SORT_CHOICES[sort]])
