# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``EwsModule``: the ``AnsibleModule`` every exchange.ews module is built on.

    module = EwsModule(argument_spec=dict(key=dict(type="str", required=True, no_log=False)),
                       supports_check_mode=True)
    with module.reporting_failures(), module.client() as client:
        result = do_the_work(client, module.params)
    module.exit_json(**result)

What it owns, so that modules only parse their own options and present results:

* the argument spec: the connection options (``CONNECTION_ARGUMENT_SPEC``,
  documented by the ``exchange.ews.connection`` fragment) merged with the
  module's own;
* the dependency check: zeep, requests-ntlm for ``auth=ntlm``, msal for
  app credentials (``missing_required_lib``);
* checks before any request: the connection settings (``module.connection``,
  a ``ConnectionSettings``) and every text option for characters XML cannot
  carry;
* ``client()``: a new client for those settings at each call (so it also
  serves as a ``client_factory`` for work over several connections): an
  ``EwsClient``, or a ``GraphClient`` for ``api=graph``; all of a run's
  clients share one token source (app credentials: one token per run, in
  memory). The settings' warnings (no certificate check, plain HTTP) go
  through ``module.warn`` on every run;
* failures: ``fail_from(error, **partial_results)`` fails with ``msg``,
  ``response_code`` and ``http_status`` (when known) plus whatever the
  module already settled; ``reporting_failures()`` turns any exception into
  that, so a module never ends in a traceback;
* secrets: every form of every credential (``errors.secret_forms``), and of
  every token the run obtains, joins Ansible's ``no_log`` values, so no
  result, warning or failure shows one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.exchange.ews.plugins.module_utils.connection import ConnectionSettings
from ansible_collections.exchange.ews.plugins.module_utils.connection_options import CONNECTION_ARGUMENT_SPEC
from ansible_collections.exchange.ews.plugins.module_utils.errors import EwsError, excerpt, redact
from ansible_collections.exchange.ews.plugins.module_utils.graph_client import GraphClient
from ansible_collections.exchange.ews.plugins.module_utils.oauth import (
    msal_import_error,
    needs_msal,
    token_source,
)
from ansible_collections.exchange.ews.plugins.module_utils.transport import (
    HAS_REQUESTS_NTLM,
    HAS_ZEEP,
    REQUESTS_NTLM_IMPORT_ERROR,
    ZEEP_IMPORT_ERROR,
)
from ansible_collections.exchange.ews.plugins.module_utils.validation import validate_xml_text

if HAS_ZEEP:
    from ansible_collections.exchange.ews.plugins.module_utils.client import EwsClient


class EwsModule(AnsibleModule):
    """See the module docstring. ``argument_spec`` holds the module's own options only."""

    def __init__(self, argument_spec, **kwargs):
        merged = dict(CONNECTION_ARGUMENT_SPEC)
        merged.update(argument_spec)
        super(EwsModule, self).__init__(argument_spec=merged, **kwargs)
        self.connection = None
        self._tokens = None
        if not HAS_ZEEP:
            self.fail_json(msg=missing_required_lib("zeep"), exception=str(ZEEP_IMPORT_ERROR))
        if self.params["api"] == "ews" and self.params["auth"] == "ntlm" and not HAS_REQUESTS_NTLM:
            self.fail_json(msg=missing_required_lib("requests-ntlm"), exception=str(REQUESTS_NTLM_IMPORT_ERROR))
        with self.reporting_failures():
            self.connection = ConnectionSettings.from_params(self.params)
            self.no_log_values.update(self.connection.secrets)
            for name, spec in merged.items():
                if not spec.get("no_log"):
                    validate_xml_text(self.params.get(name), name)
        msal_error = msal_import_error() if needs_msal(self.connection) else None
        if msal_error is not None:
            self.fail_json(msg=missing_required_lib("msal", reason="app credentials (client_id)"),
                           exception=str(msal_error))
        self._tokens = token_source(self.connection)

    @property
    def api(self):
        return self.connection.api

    def client(self):
        """A new client (a context manager) for ``module.connection``: ``EwsClient`` or, for ``api=graph``,
        ``GraphClient``; shows the settings' warnings."""
        for warning in self.connection.warnings:
            self.warn(warning)
        if self.connection.api == "graph":
            return GraphClient(self.connection, token_source=self._tokens)
        return EwsClient(self.connection, token_source=self._tokens)

    def exit_json(self, **kwargs):
        self.no_log_values.update(self.connection.secrets if getattr(self, "connection", None) is not None else ())
        super(EwsModule, self).exit_json(**kwargs)

    def fail_json(self, msg, **kwargs):
        self.no_log_values.update(self.connection.secrets if getattr(self, "connection", None) is not None else ())
        super(EwsModule, self).fail_json(msg=msg, **kwargs)

    def fail_from(self, error, **partial_results):
        """``fail_json`` for ``error``: its message, ResponseCode and HTTP status, and ``partial_results``.

        Any exception is accepted; one that is not an ``EwsError`` is a bug or
        a library failure, reported by type and a short, redacted excerpt.
        """
        secrets = self.connection.secrets if self.connection is not None else ()
        if isinstance(error, EwsError):
            message = str(error)
            partial_results["response_code"] = error.response_code
            if error.http_status:
                partial_results["http_status"] = error.http_status
        else:
            message = "unexpected %s: %s" % (type(error).__name__, excerpt(str(error), secrets))
        self.fail_json(msg=redact(message, secrets), **partial_results)

    @contextlib.contextmanager
    def reporting_failures(self):
        """Any exception raised inside becomes ``fail_from(exception)`` (``exit_json`` still exits)."""
        try:
            yield
        except Exception as error:  # pylint: disable=broad-exception-caught
            # Every failure, expected or not, ends as a clean task failure: never a traceback.
            self.fail_from(error)
