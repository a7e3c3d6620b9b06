# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""For tests that call the message module's core directly: its parameters as Ansible hands them over, and
what the sandbox delivered."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.exchange.ews.plugins.module_utils import messages


def params(**options):
    """The module's parameters: its defaults, then ``options``."""
    values = dict((name, spec.get("default")) for name, spec in messages.ARGUMENT_SPEC.items())
    values.update(options)
    return values


def delivered(admin, subject):
    """The sandbox's deliveries of ``subject``, once its Outbox is empty."""
    admin.wait_for_outbox()
    return [entry for entry in admin.deliveries() if entry["subject"] == subject]
