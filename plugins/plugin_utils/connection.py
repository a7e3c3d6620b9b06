# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection settings for controller-side plugins (the lookups).

Lookups resolve the connection options documented by the
``exchange.ews.connection`` fragment through Ansible's option system (the
lookup's arguments, ``vars:`` and ``env:`` entries); this turns them into the
same ``ConnectionSettings`` the modules build from ``module.params``.

The collection never templates a value Ansible would not: environment values
and the lookup's arguments (which Jinja already evaluated) are data, so a
password like ``Pw-{{ 6*7 }}`` or ``{#`` is sent as written and a
``{{ lookup('pipe', ...) }}`` in ``EWS_PASSWORD`` never runs. Play variables
(``ews_password: "{{ vault_pw }}"``) are templated, as Ansible templates play
variables wherever they are used, because its option system does not do it
for lookups (verified on ansible-core 2.19 and 2.21).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible import constants as C
from ansible.errors import AnsibleLookupError

from ansible_collections.exchange.ews.plugins.module_utils.connection import ConnectionSettings
from ansible_collections.exchange.ews.plugins.module_utils.connection_options import CONNECTION_ARGUMENT_SPEC


def option_value(plugin, name, variables, direct):
    """Option ``name`` of ``plugin`` as its source gave it, for strict conversion by the caller.

    Ansible's option system converts lookup options leniently (a boolean it
    does not recognise, such as ``ture``, becomes false), so the value is
    read again from where Ansible's configuration finds it, with the same
    inputs as the lookup's ``set_options``: the lookup's arguments
    (``direct``), a play variable (templated, see the module docstring) or
    the environment; a default is taken as Ansible has it. (The configuration
    is asked directly: ``get_option_and_origin`` of older ansible-core
    releases ignores those inputs and reports the wrong source.)
    """
    value, origin = C.config.get_config_value_and_origin(name, plugin_type=plugin.plugin_type,
                                                         plugin_name=plugin._load_name, variables=variables,
                                                         direct=direct)
    source, key = ((origin or "").split(": ", 1) + [""])[:2]
    if origin == "Direct":
        return direct.get(name, value)
    if source == "var":
        return _template_play_variable(plugin, name, key, (variables or {}).get(key, value))
    if source == "env":
        return os.environ.get(key, value)
    return value


def _template_play_variable(plugin, name, variable, value):
    if not isinstance(value, str):
        return value
    try:
        return plugin._templar.template(value)
    except Exception as error:  # pylint: disable=broad-exception-caught
        # Only the error's type: its text may quote the value, and the value may be a secret.
        raise AnsibleLookupError(
            "option %s: the variable %s could not be templated (%s). A value that holds {{, {%% or {# "
            "literally must be marked !unsafe" % (name, variable, type(error).__name__)) from None


def connection_settings(plugin, variables, direct):
    """``ConnectionSettings`` from a lookup whose options include the connection options.

    ``variables`` and ``direct`` are what the lookup's ``run`` received.
    Raises ``EwsConfigError`` (never echoing a secret) when they are unusable.
    """
    params = dict((name, option_value(plugin, name, variables, direct)) for name in CONNECTION_ARGUMENT_SPEC)
    return ConnectionSettings.from_params(params)
