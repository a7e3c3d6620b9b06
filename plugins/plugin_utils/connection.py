# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection settings for controller-side plugins (the lookups).

Lookups resolve the connection options documented by the
``exchange.ews.connection`` fragment through Ansible's option system (task
keywords, ``env:`` and ``vars:`` entries); this turns them into the same
``ConnectionSettings`` the modules build from ``module.params``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.exchange.ews.plugins.module_utils.connection import (
    CONNECTION_ARGUMENT_SPEC,
    ConnectionSettings,
)


def connection_settings(plugin):
    """``ConnectionSettings`` from a plugin whose options include the connection options.

    Raises ``EwsConfigError`` (never echoing a secret) when they are unusable.
    """
    return ConnectionSettings.from_params({name: plugin.get_option(name) for name in CONNECTION_ARGUMENT_SPEC})
