# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""EwsClients for the demo users of a running EWS sandbox (real HTTPS, real NTLM)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.exchange.ews.plugins.module_utils.client import EwsClient
from ansible_collections.exchange.ews.plugins.module_utils.connection import ConnectionSettings


def client_for(sandbox, login="alice", retry_policy=None, **options):
    """A client logged in as the sandbox user ``login``; ``options`` override connection parameters."""
    user = sandbox.users[login]
    params = {"url": sandbox.url, "username": user.login, "password": user.password, "ca_path": sandbox.ca_path}
    params.update(options)
    return EwsClient(ConnectionSettings.from_params(params), retry_policy=retry_policy)
