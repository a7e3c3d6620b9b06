"""A runbook as AWX runs it: ansible-runner, credentials from the credential type.

The credential type under test is meta/awx-credential-type.yml itself: its
injectors are rendered here the way AWX renders them (a sandboxed Jinja
environment; inputs a credential does not carry are undefined, booleans false;
each ``file`` template written to a private file whose path is
``tower.filename.<label>``), and the resulting environment is handed to
ansible-runner, the engine AWX runs jobs with, to run playbooks/demo.yml against
a sandbox started here.

    tests/quality/venv.sh && build/venv-quality/bin/python -m pytest tests/runner
"""

import importlib.util
import json
import os
import stat
import sys
import tempfile
from pathlib import Path

import ansible_runner
import pytest
import yaml
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ews_sandbox.testing import Sandbox

ROOT = Path(__file__).resolve().parents[2]
CREDENTIAL_TYPE = ROOT / "meta" / "awx-credential-type.yml"


def connection_options():
    """The connection options as documented once (doc_fragments/connection.py): each option's choices and default
    (DOCUMENTATION) and the environment variable it falls back to (PLUGINS)."""
    spec = importlib.util.spec_from_file_location("connection_fragment", ROOT / "plugins" / "doc_fragments"
                                                  / "connection.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    options = yaml.safe_load(module.ModuleDocFragment.DOCUMENTATION)["options"]
    for name, sources in yaml.safe_load(module.ModuleDocFragment.PLUGINS)["options"].items():
        options[name]["env"] = [entry["name"] for entry in sources.get("env", [])]
    return options


class Namespace:
    """AWX's ``tower`` namespace: attributes set as the files are written."""


def render_injectors(credential_type, inputs, private_dir):
    """Environment variables AWX would export for a credential with these inputs."""
    fields = credential_type["inputs"]["fields"]
    tower = Namespace()
    namespace = {"tower": tower}
    for name, value in inputs.items():
        if isinstance(value, bool) or len(value):
            namespace[name] = value
    for field in fields:
        if field["type"] == "boolean" and field["id"] not in inputs:
            namespace[field["id"]] = False
    jinja = ImmutableSandboxedEnvironment()
    injectors = credential_type["injectors"]
    env_dir = Path(private_dir) / "env"
    env_dir.mkdir(parents=True, exist_ok=True)
    for label, template in injectors.get("file", {}).items():
        handle, path = tempfile.mkstemp(dir=env_dir)
        with os.fdopen(handle, "w") as stream:
            stream.write(jinja.from_string(template).render(**namespace))
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
        if "." not in label:
            tower.filename = path
        else:
            if not hasattr(tower, "filename"):
                tower.filename = Namespace()
            setattr(tower.filename, label.split(".", 1)[1], path)
    return {name: jinja.from_string(template).render(**namespace)
            for name, template in injectors.get("env", {}).items()}


@pytest.fixture(scope="module")
def credential_type():
    with open(CREDENTIAL_TYPE, encoding="utf-8") as stream:
        return yaml.safe_load(stream)


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox() as running:
        yield running


@pytest.fixture
def collections_path(tmp_path):
    link = tmp_path / "collections" / "ansible_collections" / "exchange" / "ews"
    link.parent.mkdir(parents=True)
    link.symlink_to(ROOT)
    return str(tmp_path / "collections")


def test_credential_type_is_well_formed(credential_type):
    """What AWX validates when the type is created, and what the collection reads."""
    fields = credential_type["inputs"]["fields"]
    ids = [field["id"] for field in fields]
    assert len(ids) == len(set(ids))
    assert set(credential_type["inputs"].get("required", [])) <= set(ids)
    assert credential_type["kind"] == "cloud"
    for field in fields:
        assert field["type"] in ("string", "boolean"), field
        assert field.get("label"), field
    assert {f["id"] for f in fields if f.get("secret")} == {"password", "access_token", "client_secret",
                                                            "client_certificate"}
    by_id = dict((field["id"], field) for field in fields)
    assert by_id["auth"]["choices"] == ["ntlm", "basic", "oauth2"]
    assert by_id["client_certificate"].get("multiline")
    # The choices are the connection options' own, and each variable is the env fallback of the option it sets.
    options = connection_options()
    for name in ("api", "auth", "cloud"):
        assert by_id[name]["choices"] == options[name]["choices"], name
        assert by_id[name]["default"] == options[name]["default"], name
    env = credential_type["injectors"]["env"]
    assert not [name for name in env if name.startswith("ANSIBLE_")]
    assert set(env) <= set(variable for option in options.values() for variable in option["env"])
    assert set(env) == {"EWS_URL", "EWS_AUTH", "EWS_USERNAME", "EWS_PASSWORD", "EWS_ACCESS_TOKEN",
                        "EWS_VALIDATE_CERTS", "EWS_CA_PATH", "EWS_IMPERSONATE", "EWS_API", "EWS_TENANT_ID",
                        "EWS_CLIENT_ID", "EWS_CLIENT_SECRET", "EWS_CLIENT_CERTIFICATE",
                        "EWS_CLIENT_CERTIFICATE_THUMBPRINT", "EWS_CLOUD"}


def test_injectors_pass_awx_validation(credential_type):
    """AWX renders each injector with every input set and StrictUndefined when the type is saved."""
    from jinja2 import StrictUndefined

    tower = Namespace()
    tower.filename = Namespace()
    for label in credential_type["injectors"].get("file", {}):
        assert label.startswith("template."), "use template.<label> file injectors only"
        setattr(tower.filename, label.split(".", 1)[1], "EXAMPLE_FILENAME")
    namespace = {field["id"]: "EXAMPLE" for field in credential_type["inputs"]["fields"]}
    namespace["tower"] = tower
    jinja = ImmutableSandboxedEnvironment(undefined=StrictUndefined)
    for kind, injector in credential_type["injectors"].items():
        assert kind in ("env", "file", "extra_vars")
        for template in injector.values():
            jinja.from_string(template).render(**namespace)


def test_minimal_credential_keeps_tls_verification(credential_type, tmp_path):
    """Only the required input given (as through the API): safe defaults, no CA file path."""
    env = render_injectors(credential_type, {"url": "https://mail.example.com/EWS/Exchange.asmx"}, tmp_path)
    assert env["EWS_URL"] == "https://mail.example.com/EWS/Exchange.asmx"
    assert env["EWS_AUTH"] == "ntlm"
    assert env["EWS_VALIDATE_CERTS"] == "true"
    assert env["EWS_CA_PATH"] == ""
    assert env["EWS_PASSWORD"] == ""
    assert (env["EWS_API"], env["EWS_CLOUD"], env["EWS_CLIENT_CERTIFICATE"]) == ("ews", "global", "")


def test_ca_data_becomes_a_private_file(credential_type, tmp_path):
    pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    env = render_injectors(credential_type, {"url": "https://x/EWS/Exchange.asmx", "ca_data": pem}, tmp_path)
    path = Path(env["EWS_CA_PATH"])
    assert path.read_text() == pem
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def delivered(sandbox):
    """The delivery log once every submitted message has left the Outbox (sending is asynchronous)."""
    sandbox.admin.wait_for_outbox()
    return sandbox.admin.deliveries()


def run_job(credential_type, collections_path, private_dir, inputs, playbook, extravars, cmdline=None,
            extra_env=None):
    """One AWX-style job: the credential's injected environment (and ``extra_env``), ansible-runner, a local
    inventory."""
    env = render_injectors(credential_type, inputs, private_dir)
    env.update(extra_env or {})
    env["ANSIBLE_COLLECTIONS_PATH"] = collections_path
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    options = {"cmdline": cmdline} if cmdline else {}
    return ansible_runner.run(
        private_data_dir=str(private_dir),
        project_dir=str(ROOT / "playbooks"),
        playbook=playbook,
        # As in an AWX inventory: no interpreter set; the runbooks use the one running Ansible.
        inventory="localhost ansible_connection=local",
        envvars=env,
        extravars=extravars,
        quiet=True,
        **options,
    ), env


def run_job_only(*args, **kwargs):
    """run_job for tests that do not look at the injected environment."""
    return run_job(*args, **kwargs)[0]


def run_demo(credential_type, sandbox, collections_path, tmp_path, inputs, extra_env=None):
    return run_job(credential_type, collections_path, tmp_path / "job", inputs, "demo.yml",
                   {"demo_to": sandbox.users["bob"].smtp}, extra_env=extra_env)


def alice_inputs(sandbox):
    alice = sandbox.users["alice"]
    return {"url": sandbox.url, "username": alice.login, "password": alice.password,
            "ca_data": Path(sandbox.ca_path).read_text()}


def test_demo_runs_as_an_awx_job(credential_type, sandbox, collections_path, tmp_path):
    alice = sandbox.users["alice"]
    inputs = {
        "url": sandbox.url,
        "auth": "ntlm",
        "username": alice.login,
        "password": alice.password,
        "ca_data": Path(sandbox.ca_path).read_text(),
        "skip_cert_validation": False,
    }
    before = len(delivered(sandbox))
    runner, env = run_demo(credential_type, sandbox, collections_path, tmp_path, inputs)
    stdout = runner.stdout.read()
    assert runner.status == "successful", stdout
    assert runner.rc == 0
    # The CA came through the injected file, not the sandbox's own path.
    assert env["EWS_CA_PATH"] != sandbox.ca_path
    assert Path(env["EWS_CA_PATH"]).read_text() == inputs["ca_data"]
    # One message delivered, by the first send; the second changed nothing.
    deliveries = delivered(sandbox)[before:]
    assert len(deliveries) == 1, deliveries
    assert "exchange.ews demo" in deliveries[0]["subject"]
    assert runner.stats["changed"].get("localhost", 0) >= 2
    # The password never reaches the job output or the event data AWX stores.
    events = json.dumps(list(runner.events), default=str)
    assert alice.password not in stdout
    assert alice.password not in events


def test_wrong_password_fails_cleanly(credential_type, sandbox, collections_path, tmp_path):
    alice = sandbox.users["alice"]
    inputs = {"url": sandbox.url, "username": alice.login, "password": "not-" + alice.password,
              "ca_data": Path(sandbox.ca_path).read_text()}
    before = len(delivered(sandbox))
    runner = run_demo(credential_type, sandbox, collections_path, tmp_path, inputs)[0]
    stdout = runner.stdout.read()
    assert runner.status == "failed", stdout
    assert "401" in stdout
    assert inputs["password"] not in stdout
    assert delivered(sandbox)[before:] == []


def test_check_job_type_sends_nothing(credential_type, sandbox, collections_path, tmp_path):
    """A job template launched as job type Check (ansible-playbook --check) only reports."""
    inputs = alice_inputs(sandbox)
    bob = sandbox.users["bob"].smtp
    for n in (1, 2):
        extravars = {"report_key": "runner-approved-%d" % n, "report_subject": "Runner approved %d" % n,
                     "report_to": bob, "report_categories": ["Approved"]}
        prepared = run_job_only(credential_type, collections_path, tmp_path / ("prepare%d" % n), inputs,
                                "prepare_draft.yml", extravars)
        assert prepared.status == "successful", prepared.stdout.read()
    before = len(delivered(sandbox))
    extravars = {"approved_subject_contains": "Runner approved"}

    checked = run_job_only(credential_type, collections_path, tmp_path / "check", inputs,
                           "send_approved_drafts.yml", extravars, cmdline="--check")
    stdout = checked.stdout.read()
    assert checked.status == "successful", stdout
    sends = [event["event_data"]["res"] for event in checked.events
             if event.get("event") == "runner_on_ok" and event["event_data"].get("task") == "Send them"]
    assert [result["status"] for result in sends[0]["results"]] == ["would_send", "would_send"]
    assert delivered(sandbox)[before:] == []

    sent = run_job_only(credential_type, collections_path, tmp_path / "run", inputs,
                        "send_approved_drafts.yml", extravars)
    assert sent.status == "successful", sent.stdout.read()
    assert len(delivered(sandbox)[before:]) == 2


def graph_inputs(sandbox, certificate=False):
    """The demo app registration as an AWX credential: api graph, acting on alice's mailbox."""
    app = sandbox.apps["exchange-ews-demo"]
    inputs = {"api": "graph", "tenant_id": app.tenant, "client_id": app.client_id, "cloud": "global",
              "impersonate": sandbox.users["alice"].smtp, "ca_data": Path(sandbox.ca_path).read_text()}
    if certificate:
        cert, key = sandbox.demo_certificate
        inputs["client_certificate"] = key.read_text() + cert.read_text()
    else:
        inputs["client_secret"] = app.secrets[0]
    return inputs


@pytest.mark.parametrize("certificate", [False, True], ids=["secret", "certificate"])
def test_demo_runs_on_graph_as_an_awx_job(credential_type, sandbox, collections_path, tmp_path, certificate):
    """The same runbook over Microsoft Graph, with nothing changed but the credential."""
    inputs = graph_inputs(sandbox, certificate)
    since = sandbox.admin.requests()[-1]["seq"] if sandbox.admin.requests() else 0
    before = len(delivered(sandbox))
    # The sandbox stands in for the global cloud's identity platform and Graph: its roots come in the authority
    # and graph_url options' variables, which a real credential leaves to the cloud input.
    runner, env = run_demo(credential_type, sandbox, collections_path, tmp_path, inputs, extra_env={
        "EWS_AUTHORITY": sandbox.authority_host, "EWS_GRAPH_URL": sandbox.graph_url})
    stdout = runner.stdout.read()
    assert runner.status == "successful", stdout
    if certificate:
        # The PEM came through a private file, as the CA did.
        path = Path(env["EWS_CLIENT_CERTIFICATE"])
        assert path.read_text() == inputs["client_certificate"]
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    deliveries = delivered(sandbox)[before:]
    assert len(deliveries) == 1, deliveries
    assert deliveries[0]["from"] == sandbox.users["alice"].smtp
    operations = set(entry["operation"] for entry in sandbox.admin.requests(since=since))
    assert "Token" in operations and "SendItem" not in operations, operations
    events = json.dumps(list(runner.events), default=str)
    for secret in [inputs.get("client_secret")] + (inputs.get("client_certificate") or "").splitlines()[1:-1]:
        if secret:
            assert secret not in stdout and secret not in events
