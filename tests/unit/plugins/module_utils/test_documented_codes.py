# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The user guide's troubleshooting table covers every ResponseCode the collection itself produces."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from ansible_collections.exchange.ews.plugins.module_utils import errors, exactly_once, messages
# Every module that defines an error of its own, so that its subclasses are found.
from ansible_collections.exchange.ews.plugins.module_utils.services import find_item  # noqa: F401 pylint: disable=unused-import

MODULE_UTILS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "plugins", "module_utils")

GUIDE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "docs", "user-guide.md")


def produced_codes():
    """Codes of the collection's own making: error class names (a failure without an Exchange ResponseCode
    reports its class name), the ``*_CODE`` constants of the protocols, and every ``Ews...`` code a module of
    module_utils names as a literal ``response_code``."""
    classes = [errors.EwsError]
    for cls in classes:
        classes.extend(cls.__subclasses__())
    # A SOAP fault always carries Exchange's own ResponseCode, a MessageError the code it is raised with.
    names = {cls.__name__ for cls in classes if not issubclass(cls, (errors.EwsFault, messages.MessageError))}
    for module in (exactly_once, messages):
        names.update(value for name, value in vars(module).items() if name.endswith("_CODE")
                     and re.match(r"^(Ews|Error)\w+$", str(value)))
    for name in os.listdir(MODULE_UTILS):
        if name.endswith(".py"):
            with open(os.path.join(MODULE_UTILS, name), encoding="utf-8") as stream:
                names.update(re.findall(r'response_code="(Ews\w+)"', stream.read()))
    return names


def test_every_code_the_collection_produces_is_in_the_troubleshooting_table():
    with open(GUIDE, encoding="utf-8") as stream:
        guide = stream.read()
    table = guide[guide.index("## Troubleshooting"):]
    table = table[:table.index("\n## ")]
    documented = set(re.findall(r"^\| `(\w+)`", table, re.M))
    missing = sorted(produced_codes() - documented)
    assert not missing, "docs/user-guide.md's troubleshooting table lacks %s" % ", ".join(missing)
