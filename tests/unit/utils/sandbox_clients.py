# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Clients for the demo users and apps of a running sandbox: EwsClients (real HTTPS, real NTLM) and
GraphClients (real HTTPS, tokens from the sandbox's identity platform through msal)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import requests
from lxml import etree
from requests_ntlm import HttpNtlmAuth

from ansible_collections.exchange.ews.plugins.module_utils import message_fields
from ansible_collections.exchange.ews.plugins.module_utils.client import EwsClient
from ansible_collections.exchange.ews.plugins.module_utils.connection import ConnectionSettings
from ansible_collections.exchange.ews.plugins.module_utils.ews_schema import MESSAGES_NS, NSMAP, TYPES_NS
from ansible_collections.exchange.ews.plugins.module_utils.graph_client import GraphClient
from ansible_collections.exchange.ews.plugins.module_utils.oauth import token_source
from ansible_collections.exchange.ews.plugins.module_utils.services.update_item import UpdateItem

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
MOVE_ITEM = """<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="%s" xmlns:t="%s" xmlns:m="%s">
  <soap:Header><t:RequestServerVersion Version="Exchange2013_SP1"/></soap:Header>
  <soap:Body>
    <m:MoveItem>
      <m:ToFolderId><t:DistinguishedFolderId Id="%%(folder)s"/></m:ToFolderId>
      <m:ItemIds><t:ItemId Id="%%(item_id)s"/></m:ItemIds>
    </m:MoveItem>
  </soap:Body>
</soap:Envelope>""" % (SOAP, TYPES_NS, MESSAGES_NS)


def client_for(sandbox, login="alice", retry_policy=None, **options):
    """A client logged in as the sandbox user ``login``; ``options`` override connection parameters."""
    user = sandbox.users[login]
    params = {"url": sandbox.url, "username": user.login, "password": user.password, "ca_path": sandbox.ca_path}
    params.update(options)
    return EwsClient(ConnectionSettings.from_params(params), retry_policy=retry_policy)


def edit_as_user(sandbox, item_id, subject="edited by a user", login="alice", retry_policy=None):
    """A user's edit of the subject (Outlook saves with AlwaysOverwrite): a new ChangeKey. Raises EwsError."""
    with client_for(sandbox, login, retry_policy=retry_policy) as client:
        UpdateItem(client).update(item_id, None, [message_fields.text("Subject", subject)],
                                  conflict_resolution="AlwaysOverwrite")


def move_as_user(sandbox, item_id, folder, login="alice"):
    """Move an item the way a user or an inbox rule does (MoveItem, which the collection never sends).

    Returns the new ItemId.
    """
    user = sandbox.users[login]
    with requests.Session() as session:
        session.trust_env = False
        response = session.post(sandbox.url, data=(MOVE_ITEM % {"folder": folder, "item_id": item_id}).encode(),
                                headers={"Content-Type": "text/xml; charset=utf-8"}, verify=sandbox.ca_path,
                                auth=HttpNtlmAuth(user.login, user.password))
    response.raise_for_status()
    message = etree.fromstring(response.content).find(".//m:MoveItemResponseMessage", NSMAP)
    assert message.get("ResponseClass") == "Success", response.text
    return message.find("m:Items/*/t:ItemId", NSMAP).get("Id")


def graph_params(sandbox, app="exchange-ews-demo", mailbox="alice", certificate=False, **options):
    """Connection options for Microsoft Graph on the sandbox as the app registration ``app``, acting on the
    demo user ``mailbox``'s mailbox; with ``certificate``, the app's certificate (key and certificate in one PEM
    text) instead of its secret."""
    registration = sandbox.apps[app]
    params = {"api": "graph", "tenant_id": registration.tenant, "client_id": registration.client_id,
              "authority": sandbox.authority_host, "graph_url": sandbox.graph_url, "ca_path": sandbox.ca_path,
              "impersonate": sandbox.users[mailbox].smtp if mailbox else None}
    if certificate:
        cert, key = sandbox.demo_certificate
        params["client_certificate"] = key.read_text() + cert.read_text()
    else:
        params["client_secret"] = registration.secrets[0]
    params.update(options)
    return params


def graph_client_for(sandbox, app="exchange-ews-demo", mailbox="alice", retry_policy=None, **options):
    """A GraphClient for ``graph_params``, with its own token source."""
    settings = ConnectionSettings.from_params(graph_params(sandbox, app, mailbox, **options))
    return GraphClient(settings, token_source=token_source(settings), retry_policy=retry_policy)
