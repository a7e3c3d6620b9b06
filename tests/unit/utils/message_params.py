# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The message module's parameters, as Ansible hands them to it, for tests that call its core directly."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.exchange.ews.plugins.module_utils import messages


def params(**options):
    """The module's parameters: its defaults, then ``options``."""
    values = dict((name, spec.get("default")) for name, spec in messages.ARGUMENT_SPEC.items())
    values.update(options)
    return values
