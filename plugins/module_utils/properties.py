# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The extended properties of the exactly-once protocol (see docs/exactly-once.md).

``ExchangeEwsSendMarker`` holds ``sha256(ItemId)``: who a draft *was*, so its
saved copy can be found after the send changed its id. ``ExchangeEwsSendState``
holds ``pending:<run token>:<unix time>``, ``sent:<run token>:<unix time>`` or
``released:<run token>:<unix time>``.
Both live in the collection's own property set.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib

from ansible_collections.exchange.ews.plugins.module_utils.validation import ews_form

PROPERTY_SET_ID = "2d0c7b1e-7f5c-4c8e-9a39-65d2b8a0f0e1"
MARKER = "ExchangeEwsSendMarker"
STATE = "ExchangeEwsSendState"

PENDING = "pending"
SENT = "sent"
# Written when SendItem refused a draft this run had claimed: frees it at once
# for the next run instead of making it wait for pending_timeout.
RELEASED = "released"
KINDS = (PENDING, SENT, RELEASED)


def path(name):
    """The ``ExtendedFieldURI`` of one of our properties, as zeep keyword values."""
    return {"PropertySetId": PROPERTY_SET_ID, "PropertyName": name, "PropertyType": "String"}


MARKER_PATH = path(MARKER)
STATE_PATH = path(STATE)


def marker_for(item_id):
    """The marker value of a draft: hex sha256 of its ItemId (ids can be long; this is fixed-size).

    Of the id in EWS's alphabet, so that a draft's marker is the same whether a run names it by its EWS id or by
    its Graph id (the same bytes, URL-safe): runs of both backends recognise each other's stamps.
    """
    return hashlib.sha256(ews_form(item_id).encode("utf-8")).hexdigest()


def state_value(kind, run_token, when):
    """``pending:<run>:<t>`` / ``sent:<run>:<t>``; ``when`` is a unix time."""
    return "%s:%s:%d" % (kind, run_token, int(when))


class SendState:
    """A parsed ``ExchangeEwsSendState`` value: ``kind`` (pending/sent), ``run_token``, ``since`` (unix time)."""

    __slots__ = ("kind", "run_token", "since")

    def __init__(self, kind, run_token, since):
        self.kind = kind
        self.run_token = run_token
        self.since = since

    @classmethod
    def parse(cls, value):
        """The state in ``value``, or None when absent or not ours (a foreign value is ignored)."""
        if not value:
            return None
        parts = value.split(":")
        if len(parts) != 3 or parts[0] not in KINDS:
            return None
        try:
            since = int(parts[2])
        except ValueError:
            return None
        return cls(parts[0], parts[1], since)

    def __repr__(self):
        return "SendState(%s, %s, %d)" % (self.kind, self.run_token, self.since)
