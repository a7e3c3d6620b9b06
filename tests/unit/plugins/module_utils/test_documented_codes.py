# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The user guide's troubleshooting table covers every ResponseCode the collection itself produces, the codes of
Microsoft Graph it acts on by name, and the identity platform's refusals (AADSTS) it explains."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os
import re

from ansible_collections.exchange.ews.plugins.module_utils import errors, exactly_once, messages, oauth

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..")
GUIDE = os.path.join(ROOT, "docs", "user-guide.md")
# A code of the collection's own, written in the source: NAME_CODE = "Ews..." or response_code="Ews...".
CODE_IN_SOURCE = re.compile(r'(?:_CODE\s*=\s*|response_code\s*=\s*)"(Ews\w+)"')
# A Graph error code the Graph modules act on by name.
GRAPH_CODE = re.compile(r'"((?:Error|Ews)[A-Z]\w+|Authorization_\w+|AccessDenied)"')


def produced_codes():
    """Codes of the collection's own making: the names of the shared error classes (a failure without an
    Exchange ResponseCode reports its class name; errors defined elsewhere always carry a response_code), the
    ``*_CODE`` constants of the protocols, every ``Ews...`` code the source of a plugin names as a constant or
    a literal ``response_code``, and the Graph error codes the Graph modules act on by name (Graph's other
    codes reach the user as they come, like Exchange's)."""
    # A SOAP fault always carries Exchange's own ResponseCode.
    names = {value.__name__ for value in vars(errors).values()
             if isinstance(value, type) and issubclass(value, errors.EwsError) and not issubclass(value, errors.EwsFault)}
    for module in (exactly_once, messages):
        names.update(value for name, value in vars(module).items() if name.endswith("_CODE")
                     and re.match(r"^(Ews|Error)\w+$", str(value)))
    for path in glob.glob(os.path.join(ROOT, "plugins", "**", "*.py"), recursive=True):
        with open(path, encoding="utf-8") as stream:
            text = stream.read()
        names.update(CODE_IN_SOURCE.findall(text))
        if os.path.basename(path).startswith("graph_"):
            names.update(GRAPH_CODE.findall(text))
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
