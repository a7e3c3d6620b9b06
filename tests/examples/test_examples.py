"""Every YAML example of the documentation runs as written, against a sandbox.

docs_examples.py reads the examples where users read them: every ```yaml block of
README.md and docs/, and the EXAMPLES of every module and lookup. Each runs with
ansible-playbook against a sandbox (HTTPS, NTLM) whose users are the identities the
examples name (EXAMPLE\\svc-mailer, the account the README configures, and the
principals, delegates and shared mailboxes around it), after the drafts and files
it needs are seeded; it must pass and deliver exactly the messages EXPECTED names.

* A task list runs in a play that configures the connection as the README does:
  the README play's module_defaults, the ews_* variables given with -e.
* A play runs as it stands, the group_vars block before it as its group_vars/all.yml
  and the variables the examples use given with -e (overriding its placeholders,
  such as https://mail.example.com); a play that names no ews_* variable takes the
  connection from the EWS_* environment, as an AWX credential hands it over.
* The sandbox's CA is trusted through EWS_CA_PATH, for every run.
* The examples that prepare a draft and send it run again and then under
  --check --diff, and still deliver once; the check run writes nothing.
* The examples as they run pass ansible-lint's production profile.

    tests/quality/venv.sh && build/venv-quality/bin/python -m pytest tests/examples
"""

import base64
import json
import os
import subprocess
import sys
import textwrap
from collections import Counter
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path

import pytest
import yaml
from lxml import etree

from ews_sandbox.config import load_directory
from ews_sandbox.testing import Sandbox, SmtpSink

from ansible_collections.exchange.ews.plugins.module_utils import message_fields
from ansible_collections.exchange.ews.plugins.module_utils.ews_schema import T
from ansible_collections.exchange.ews.plugins.module_utils.services.common import folder_id
from ansible_collections.exchange.ews.plugins.module_utils.services.create_item import CreateItem
from ansible_collections.exchange.ews.tests.unit.utils.sandbox_clients import client_for
from ansible_collections.exchange.ews.tests.utils.playbook_run import PlaybookRun

import docs_examples
from conftest import COLLECTIONS, ROOT

ANSIBLE_PLAYBOOK = str(Path(sys.executable).parent / "ansible-playbook")
ANSIBLE_LINT = str(Path(sys.executable).parent / "ansible-lint")
BLOCKS = docs_examples.blocks(ROOT)
EXAMPLES, PROBLEMS = docs_examples.examples(BLOCKS)
DRAFT_THEN_SEND = [example for example in EXAMPLES if example.drafts_then_sends]

ACCOUNT = "svc-mailer@example.com"     # EXAMPLE\svc-mailer, the account the README configures
PRINCIPAL = "boss@example.com"         # principal_mailbox; EXAMPLE\assistant is the delegate_username
USERS = {
    "svc-mailer": {"impersonation": True},                            # send_item: impersonate alice
    "boss": {"delegates": {"assistant@example.com": ["read", "create", "send"]}},
    "assistant": {},
    "manager": {"delegates": {ACCOUNT: ["read", "create", "send"]}},  # message: on behalf of manager@
    "it-notices": {"delegates": {ACCOUNT: ["send_as"]}},              # message: from it-notices@
    "alice": {},
}
WEEK = "2024-W19"
READ_ONLY_OPERATIONS = {"FindItem", "GetItem", "GetFolder", "GetAttachment"}
APPROVED = ("Approved",)

# The project around a playbook: templates/ and files/ beside it, and the files the examples attach.
TEMPLATES = {
    "figures.csv.j2": "week,sent\n{{ week }},42\n",
    "report.html.j2": "<p>The figures of {{ week }} are attached.</p>\n",
    "notice.html.j2": "<p>The mail service restarts at 22:00.</p>\n",
    "inventory.csv.j2": "host\n{{ inventory_hostname }}\n",
    "newsletter.html.j2": "<h1>Newsletter {{ issue }}</h1>\n",
}
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
FILES = {"logo.png": PNG, "diagram.png.b64": base64.b64encode(PNG)}
ATTACHED = {f"figures-{WEEK}.csv": b"week,sent\n19,42\n", "logo.png": PNG, f"week-{WEEK}.csv": b"day,sent\nMon,7\n",
            f"summary-{WEEK}.pdf": b"%PDF-1.4\n", "board-pack-2024-Q2.pdf": b"%PDF-1.4\n", "C-1001.pdf": b"%PDF-1.4\n",
            "batch-7.zip": b"PK\x05\x06" + bytes(18)}


def password(login: str) -> str:
    return f"Passw0rd-{login}"


def example_variables(sandbox: Sandbox, attached: Path) -> dict:
    """The variables the examples use, given with -e."""
    return {
        "ews_url": sandbox.url, "ews_username": "EXAMPLE\\svc-mailer", "ews_password": password("svc-mailer"),
        "principal_mailbox": PRINCIPAL, "delegate_username": "EXAMPLE\\assistant",
        "delegate_password": password("assistant"),
        "week": WEEK, "report_week": WEEK, "quarter": "2024-Q2", "change_id": "4711", "contract_id": "C-1001",
        "monday": "2024-05-13", "issue": "42", "batch": "7",
        "reports_dir": str(attached), "contracts_dir": str(attached), "scans_dir": str(attached),
    }


@dataclass(frozen=True)
class Draft:
    """A draft as a user leaves it in Outlook: ``to`` may carry a display name (``Bob Smith <bob@...>``)."""
    subject: str
    mailbox: str = ACCOUNT
    to: str = "team@example.com"
    categories: tuple[str, ...] = ()


@dataclass
class Expected:
    """What an example finds and does: the drafts seeded before it, the variables holding seeded drafts
    ({"id", "change_key"}, a list of them for a tuple), the subjects it delivers (each entry once; nothing
    else may be delivered) and text its output shows."""
    delivers: tuple[str, ...]
    drafts: tuple[Draft, ...] = ()
    draft_variables: dict = field(default_factory=dict)
    shows: tuple[str, ...] = ()


APPROVED_DRAFTS = (Draft("Travel request Lisbon", categories=APPROVED), Draft("Travel request Oslo", categories=APPROVED),
                   Draft("Travel request Rome"))
EXPECTED = {
    "README.md: Weekly report and approved drafts": Expected(
        drafts=APPROVED_DRAFTS, delivers=(f"Weekly report {WEEK}", "Travel request Lisbon", "Travel request Oslo")),
    "docs/awx.md: Send the approved drafts": Expected(
        drafts=APPROVED_DRAFTS, delivers=("Travel request Lisbon", "Travel request Oslo")),
    "docs/exchange-online.md: Send the weekly report over the API ews_api names": Expected(
        delivers=(f"Weekly report {WEEK}",)),
    "docs/send-a-report.md: Weekly report": Expected(delivers=(f"Weekly report {WEEK}",)),
    "docs/send-a-report.md: Prepare the report for review (never sent)": Expected(delivers=(f"Weekly report {WEEK}",)),
    "docs/user-guide.md: Drafts of the weekly report": Expected(
        drafts=(Draft("Weekly report"),), delivers=("Weekly report",)),
    "docs/user-guide.md: Send exactly the one approved board pack, or stop": Expected(
        drafts=(Draft("Board pack", categories=APPROVED), Draft("Board pack")), delivers=("Board pack",)),
    "docs/user-guide.md: Send this week's report, once": Expected(delivers=(f"Weekly report {WEEK}",)),
    "docs/user-guide.md: Prepare tomorrow's change notice (never sent)": Expected(
        delivers=("Change 4711: maintenance window tonight",)),
    "docs/user-guide.md: Send the principal's approved board pack as their delegate": Expected(
        drafts=(Draft("Board pack", PRINCIPAL, categories=APPROVED), Draft("Board pack", PRINCIPAL)),
        delivers=("Board pack",)),
    "plugins/modules/message.py: EXAMPLES": Expected(
        delivers=(f"Weekly report {WEEK}", "Host inventory", "Maintenance tonight", "Board pack 2024-Q2",
                  "Your contract", "Monday briefing", "Newsletter 42", "Scans")),
    "plugins/modules/send_item.py: EXAMPLES": Expected(
        drafts=(Draft("Weekly report"), Draft("Invoice", PRINCIPAL), Draft("Welcome", "alice@example.com")),
        draft_variables={"purchase_order": Draft("Purchase order 1001"), "reviewed_draft": Draft("Purchase order 1002"),
                         "draft_ids": (Draft("Nightly status"), Draft("Nightly status"))},
        delivers=("Weekly report", "Purchase order 1001", "Purchase order 1002", "Invoice", "Welcome",
                  "Nightly status", "Nightly status"),
        shows=('"status": "missing"',)),
    "plugins/lookup/draft_ids.py: EXAMPLES": Expected(
        drafts=(Draft("Weekly report"), Draft("Weekly report"), Draft("TICKET-4711: the printer is on fire", PRINCIPAL),
                Draft("Quote", to="Bob Smith <bob.smith@example.com>", categories=("ansible",)),
                Draft("Quote, revised", to="Bob Smith <bob.smith@example.com>", categories=("ansible",))),
        delivers=("Weekly report", "Weekly report"),
        shows=('"msg": "Quote (', '"msg": "Quote, revised (', '"msg": "2 drafts"')),
}


def seed(sandbox: Sandbox, draft: Draft) -> dict:
    """Save ``draft`` in its mailbox's Drafts as its owner; its {"id", "change_key"}, as draft_ids returns them."""
    name, address = parseaddr(draft.to)
    recipients = message_fields.mailboxes("ToRecipients", [address])
    if name:
        etree.SubElement(recipients[0], T + "Name").text = name
        recipients[0].insert(0, recipients[0][-1])  # Name comes before EmailAddress
    fields = [message_fields.text("Subject", draft.subject), recipients]
    if draft.categories:
        fields.append(message_fields.strings("Categories", draft.categories))
    with client_for(sandbox, draft.mailbox.split("@")[0]) as client:
        [(item_id, change_key)] = CreateItem(client).save_drafts([message_fields.message(fields)], folder_id("drafts"))
    return {"id": item_id, "change_key": change_key}


def write_example(example: docs_examples.Example, project: Path) -> None:
    """``project``/example.yml as the example runs: a play as it stands (with its group_vars), a task list inside
    a play that configures the connection as the README does."""
    if example.group_vars:
        (project / "group_vars").mkdir()
        (project / "group_vars" / "all.yml").write_text(example.group_vars.text, encoding="utf-8")
    if example.block.kind == "playbook":
        text = example.block.text
    else:
        connection = json.dumps(docs_examples.readme_module_defaults(BLOCKS))
        text = (f"- name: {json.dumps('Example of ' + example.id)}\n  hosts: localhost\n  gather_facts: false\n"
                f"  module_defaults: {connection}\n  tasks:\n" + textwrap.indent(example.block.text, "    "))
    (project / "example.yml").write_text(text, encoding="utf-8")


class Playbook:
    """``example`` written into ``project`` (``write_example``), the variables in a file for -e."""

    def __init__(self, example: docs_examples.Example, project: Path, sandbox: Sandbox, variables: dict):
        self.example = example
        self.project = project
        self.environment = {name: value for name, value in os.environ.items()
                            if not name.startswith("EWS_") and name != "PYTHONPATH"}
        self.environment.update(ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_NOCOLOR="1",
                                ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
                                ANSIBLE_RETRY_FILES_ENABLED="false", EWS_CA_PATH=sandbox.ca_path)
        if example.connection_from_environment:
            self.environment.update(EWS_URL=variables["ews_url"], EWS_USERNAME=variables["ews_username"],
                                    EWS_PASSWORD=variables["ews_password"])
            variables = {name: value for name, value in variables.items() if not name.startswith("ews_")}
        (project / "extra-vars.json").write_text(json.dumps(variables), encoding="utf-8")
        write_example(example, project)

    def run(self, *options: str) -> PlaybookRun:
        completed = subprocess.run([ANSIBLE_PLAYBOOK, "example.yml", "-e", "@extra-vars.json", *options],
                                   cwd=self.project, env=self.environment, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, timeout=600, check=False)
        run = PlaybookRun(completed.returncode, completed.stdout.decode("utf-8", "replace"))
        assert run.rc == 0, f"{self.example.block.where} {' '.join(options)} failed:\n{run.output[-8000:]}"
        return run


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    users_file = tmp_path_factory.mktemp("users") / "users.yml"
    users = [{"login": login, "password": password(login), "smtp": f"{login}@example.com", **extra}
             for login, extra in USERS.items()]
    users_file.write_text(yaml.safe_dump({"users": users}), encoding="utf-8")
    # Mail to outside addresses goes to an SMTP sink, so that every delivery really is delivered.
    with SmtpSink() as sink, Sandbox(users_file=users_file, smarthost=sink.address) as running:
        yield running


def prepare(example: docs_examples.Example, sandbox: Sandbox, project: Path) -> tuple[Playbook, Expected]:
    """An empty sandbox holding the example's drafts, and the example written into ``project`` with its files."""
    expected = EXPECTED.get(example.id)
    assert expected, (f"{example.block.where}: no EXPECTED entry named {example.id!r} in tests/examples/test_examples.py "
                      f"(the drafts it needs, the subjects it delivers), or a <!-- example: not run: REASON --> marker")
    sandbox.admin.reset()
    for draft in expected.drafts:
        seed(sandbox, draft)
    for folder, files in (("templates", TEMPLATES), ("files", FILES), ("attached", ATTACHED)):
        (project / folder).mkdir()
        for name, content in files.items():
            path = project / folder / name
            path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content, encoding="utf-8")
    variables = example_variables(sandbox, project / "attached")
    for name, drafts in expected.draft_variables.items():
        variables[name] = [seed(sandbox, draft) for draft in drafts] if isinstance(drafts, tuple) else seed(sandbox, drafts)
    return Playbook(example, project, sandbox, variables), expected


def delivered(sandbox: Sandbox) -> Counter:
    """The subjects delivered, once everything sent has left the Outbox; each delivery reached its recipients."""
    sandbox.admin.wait_for_outbox()
    deliveries = sandbox.admin.deliveries()
    assert [entry for entry in deliveries if entry["undelivered"]] == []
    return Counter(entry["subject"] for entry in deliveries)


def last_request(sandbox: Sandbox) -> int:
    entries = sandbox.admin.requests(since=0)
    return entries[-1]["seq"] if entries else 0


def writes_since(sandbox: Sandbox, since: int) -> list[str]:
    """The EWS operations since request ``since`` that change a mailbox (CreateItem, SendItem, DeleteItem...)."""
    return [entry["operation"] for entry in sandbox.admin.requests(since=since)
            if entry["operation"] and entry["operation"] not in READ_ONLY_OPERATIONS]


def check_first_run(run: PlaybookRun, sandbox: Sandbox, expected: Expected) -> None:
    assert delivered(sandbox) == Counter(expected.delivers)
    for text in expected.shows:
        assert text in run.output


def test_every_block_runs_or_is_marked_with_a_reason():
    assert PROBLEMS == []
    assert [block.where for block in BLOCKS if block.not_run == ""] == []


def test_marked_blocks_cannot_run_against_the_sandbox(tmp_path):
    """A marker is no way out of running a block that could run: a marked play or task list calls modules of a
    collection the sandbox run does not have (AWX configuration as code), a marked users file is loaded here
    instead, and any other marked block (an execution environment definition, a credential type) is no play and
    not the group_vars of the play after it."""
    for index, block in enumerate(BLOCKS):
        if block.not_run is None:
            continue
        if block.kind in ("playbook", "tasks"):
            assert block.collections - set(docs_examples.SANDBOX_COLLECTIONS), f"{block.where} can run: unmark it"
        elif block.kind == "vars" and "users" in block.data:
            users_file = tmp_path / "users.yml"
            users_file.write_text(block.text, encoding="utf-8")
            assert load_directory(users_file).users, block.where
        elif block.kind == "vars" and index + 1 < len(BLOCKS):
            play = BLOCKS[index + 1]
            assert not (play.source == block.source and play.kind == "playbook" and play.not_run is None), (
                f"{block.where} is the group_vars of the play at {play.where}: unmark it")


def test_plugin_examples_say_how_the_connection_is_configured():
    for block in BLOCKS:
        if block.source.endswith(".py"):
            first_line = block.text.strip().splitlines()[0]
            assert first_line.startswith("# ") and "README" in first_line, block.where


def test_every_example_has_its_expectations():
    assert sorted(EXPECTED) == sorted(example.id for example in EXAMPLES)


def test_the_docs_have_a_draft_then_send_example():
    assert DRAFT_THEN_SEND


def test_examples_pass_ansible_lint_production(tmp_path):
    """The examples as they run (the files the runs use, written by write_example) pass ansible-lint's production
    profile, as the collection and its runbooks do (tests/quality/lint.sh): users copy them into their playbooks.
    One ansible-lint run for all of them."""
    playbooks = []
    for index, example in enumerate(EXAMPLES):
        project = tmp_path / f"example-{index:02d}"
        project.mkdir()
        write_example(example, project)
        playbooks.append(str(project.relative_to(tmp_path) / "example.yml"))
    (tmp_path / ".ansible-lint").write_text(
        yaml.safe_dump({"profile": "production", "offline": True, "kinds": [{"playbook": "*/example.yml"}]}),
        encoding="utf-8")
    environment = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), NO_COLOR="1")
    completed = subprocess.run([ANSIBLE_LINT, "--nocolor", "-c", ".ansible-lint", *playbooks], cwd=tmp_path,
                               env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600,
                               check=False)
    output = completed.stdout.decode("utf-8", "replace")
    for index, example in enumerate(EXAMPLES):  # say which example each finding is about
        output = output.replace(f"example-{index:02d}/example.yml", f"example-{index:02d}/example.yml ({example.id})")
    assert completed.returncode == 0, output


@pytest.mark.parametrize("example", [example for example in EXAMPLES if example not in DRAFT_THEN_SEND],
                         ids=lambda example: example.id)
def test_example_runs_as_written(example, sandbox, tmp_path):
    playbook, expected = prepare(example, sandbox, tmp_path)
    check_first_run(playbook.run(), sandbox, expected)


@pytest.mark.parametrize("example", DRAFT_THEN_SEND, ids=lambda example: example.id)
def test_draft_then_send_example_passes_twice_and_under_check_diff_sending_once(example, sandbox, tmp_path):
    """For real, again, then under --check --diff (what the job's next run would do): every run passes, only the
    first changes anything or delivers, and the check run writes nothing to the mailbox.

    The check run comes after a real one: the documented key-only send ("tomorrow's job") needs the draft that
    today's job prepared, and a check run prepares none."""
    playbook, expected = prepare(example, sandbox, tmp_path)
    check_first_run(playbook.run(), sandbox, expected)
    again = playbook.run()
    assert again.recap["changed"] == 0, again.output
    assert delivered(sandbox) == Counter(expected.delivers)
    since = last_request(sandbox)
    preview = playbook.run("--check", "--diff")
    assert preview.recap["changed"] == 0, preview.output
    assert writes_since(sandbox, since) == [], preview.output
    assert delivered(sandbox) == Counter(expected.delivers)
