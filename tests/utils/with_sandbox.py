"""Run a command with a fresh EWS sandbox beside it.

The command sees the sandbox through the collection's own environment variables
(EWS_URL, EWS_CA_PATH, EWS_USERNAME, EWS_PASSWORD: the demo principal alice) and
EWS_ADMIN_URL. With --integration-config, the same facts, every demo user's
credentials and the demo app registration for Microsoft Graph are also written as
the variables ansible-test's integration targets read.

    python tests/utils/with_sandbox.py [--integration-config FILE] -- COMMAND [ARGS...]
"""

import argparse
import os
import subprocess
import sys

import yaml

from ews_sandbox.testing import Sandbox


def integration_variables(sandbox):
    app, scoped = sandbox.apps["exchange-ews-demo"], sandbox.apps["exchange-ews-scoped"]
    return {
        "ews_url": sandbox.url,
        "ews_ca_path": sandbox.ca_path,
        "ews_admin_url": sandbox.admin_url,
        "ews_users": {
            login: {"username": user.login, "password": user.password, "smtp": user.smtp}
            for login, user in sandbox.users.items()
        },
        # Microsoft Graph: the demo app registration (every mailbox, Mail.ReadWrite and Mail.Send), and the one
        # RBAC for Applications limits to alice's and team's mailboxes.
        "ews_graph": {"graph_url": sandbox.graph_url, "authority": sandbox.authority_host, "tenant_id": app.tenant,
                      "client_id": app.client_id, "client_secret": app.secrets[0],
                      "scoped": {"client_id": scoped.client_id, "client_secret": scoped.secrets[0],
                                 "mailboxes": sorted(scoped.mailboxes)}},
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--integration-config", help="write ansible-test integration variables to this file")
    parser.add_argument("command", nargs="+", help="the command to run (after --)")
    args = parser.parse_args()

    with Sandbox() as sandbox:
        principal = sandbox.users["alice"]
        env = dict(
            os.environ,
            EWS_URL=sandbox.url,
            EWS_CA_PATH=sandbox.ca_path,
            EWS_ADMIN_URL=sandbox.admin_url,
            EWS_USERNAME=principal.login,
            EWS_PASSWORD=principal.password,
        )
        if args.integration_config:
            with open(args.integration_config, "w", encoding="utf-8") as stream:
                yaml.safe_dump(integration_variables(sandbox), stream)
        return subprocess.call(args.command, env=env)


if __name__ == "__main__":
    sys.exit(main())
