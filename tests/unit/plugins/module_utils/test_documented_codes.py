# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The user guide's troubleshooting table covers every ResponseCode the collection itself produces, the codes of
Microsoft Graph it acts on by name, and the identity platform's refusals (AADSTS) it explains."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from ansible_collections.exchange.ews.plugins.module_utils import errors, exactly_once, messages, oauth
# Every module that defines an error of its own, so that its subclasses are found.
from ansible_collections.exchange.ews.plugins.module_utils import graph_channel, graph_messages  # noqa: F401 pylint: disable=unused-import
from ansible_collections.exchange.ews.plugins.module_utils.services import find_item  # noqa: F401 pylint: disable=unused-import

MODULE_UTILS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "plugins", "module_utils")

GUIDE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "docs", "user-guide.md")


def produced_codes():
    """Codes of the collection's own making: error class names (a failure without an Exchange ResponseCode
    reports its class name), the ``*_CODE`` constants of the protocols, and every ``Ews...`` code a module of
    module_utils names as a literal ``response_code``; and the Graph error codes the Graph modules act on by name
    (Graph's other codes reach the user as they come, like Exchange's)."""
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
                text = stream.read()
            names.update(re.findall(r'response_code="(Ews\w+)"', text))
            if name.startswith("graph_"):
                names.update(re.findall(r'"((?:Error|Ews)[A-Z]\w+|Authorization_\w+|AccessDenied)"', text))
    return names


def troubleshooting_table():
    with open(GUIDE, encoding="utf-8") as stream:
        guide = stream.read()
    table = guide[guide.index("## Troubleshooting"):]
    return table[:table.index("\n## ")]


def test_every_code_the_collection_produces_is_in_the_troubleshooting_table():
    # Every code in a row's first cell (a row may name the EWS and the Graph code of one cause).
    documented = set(code for cell in re.findall(r"^\| ([^|]+)\|", troubleshooting_table(), re.M)
                     for code in re.findall(r"`(\w+)`", cell))
    missing = sorted(produced_codes() - documented)
    assert not missing, "docs/user-guide.md's troubleshooting table lacks %s" % ", ".join(missing)


def test_every_token_refusal_the_collection_explains_is_in_the_troubleshooting_table():
    table = troubleshooting_table()
    missing = sorted("AADSTS%d" % number for number in oauth.HINTS if "AADSTS%d" % number not in table)
    assert oauth.HINTS and not missing, "docs/user-guide.md's troubleshooting table lacks %s" % ", ".join(missing)
