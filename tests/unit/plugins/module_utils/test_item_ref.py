# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""send_item's item_ids entries: strings, or dicts as the draft_ids lookup returns them."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.exchange.ews.plugins.module_utils.errors import EwsConfigError
from ansible_collections.exchange.ews.plugins.module_utils.exactly_once import ItemRef


def test_string_and_lookup_dict():
    assert ItemRef.from_raw(" AAMk= ", 0).id == "AAMk="
    ref = ItemRef.from_raw({"id": "AAMk=", "change_key": "CQA=", "subject": "Weekly", "to": ["Bob"]}, 1)
    assert (ref.id, ref.change_key) == ("AAMk=", "CQA=")


@pytest.mark.parametrize("entry", [None, 42, "", "   ", {"change_key": "CQA="}, {"id": 5}, {"id": "A", "change_key": 7},
                                   ["AAMk="]])
def test_bad_entries_are_named(entry):
    with pytest.raises(EwsConfigError) as info:
        ItemRef.from_raw(entry, 3)
    assert "item_ids[3]" in str(info.value)
