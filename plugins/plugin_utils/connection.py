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

from ansible_collections.exchange.ews.plugins.module_utils.connection import ConnectionSettings
from ansible_collections.exchange.ews.plugins.module_utils.connection_options import CONNECTION_ARGUMENT_SPEC


def connection_settings(plugin):
    """``ConnectionSettings`` from a lookup whose options include the connection options.

    Values found through ``vars:`` entries reach the plugin untemplated (for
    example ``ews_url: "{{ lookup('env', 'EWS_URL') }}"``), so they are
    templated here. Raises ``EwsConfigError`` (never echoing a secret) when
    they are unusable.
    """
    params = {}
    for name in CONNECTION_ARGUMENT_SPEC:
        value = plugin.get_option(name)
        params[name] = plugin._templar.template(value) if isinstance(value, str) else value
    return ConnectionSettings.from_params(params)
