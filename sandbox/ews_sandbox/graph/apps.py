"""App registrations (the users file's ``apps`` list): who may get a token, with which credential, for what.

An app has a client id and a tenant, client secrets and/or certificates (PEM files next to the users file), the
Graph application permissions it was granted (``roles``), and optionally the mailboxes it is limited to, as
RBAC for Applications or an application access policy limits an app in Exchange Online.
"""

from __future__ import annotations

import datetime
import hashlib
import uuid
from dataclasses import dataclass
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from ..config import Directory, UsersFileError, _mapping, _scalar, _string_list, checked_mapping
from ..files import write_private
from .jws import b64url

ROLES = ("Mail.ReadWrite", "Mail.Send")
_FIELDS = {"name", "client_id", "tenant", "secrets", "certificates", "roles", "mailboxes"}

DEMO_TENANT = "5a1db0c5-7e57-4e57-9a1d-b0c5e57e0001"
DEMO_CERTIFICATE = "demo-app-cert.pem"
DEMO_CERTIFICATE_KEY = "demo-app-key.pem"
# Appended to the demo users file (config.DEMO_USERS_YAML): the demo app registrations.
DEMO_APPS_YAML = f"""\
apps:                            # Microsoft Graph app registrations (client-credentials flow)
  - name: exchange-ews-demo      # every mailbox; a secret and a certificate
    client_id: 0e7c2d3a-5a1d-4b0c-8e57-000000000001
    tenant: {DEMO_TENANT}
    secrets: [demo-app-secret]
    certificates: [{DEMO_CERTIFICATE}]     # its private key: {DEMO_CERTIFICATE_KEY}
    roles: [Mail.ReadWrite, Mail.Send]
  - name: exchange-ews-scoped    # limited to alice's and team's mailboxes (RBAC for Applications)
    client_id: 0e7c2d3a-5a1d-4b0c-8e57-000000000002
    tenant: {DEMO_TENANT}
    secrets: [scoped-app-secret]
    roles: [Mail.ReadWrite, Mail.Send]
    mailboxes: [alice@sandbox.test, team@sandbox.test]
  - name: exchange-ews-readwrite # may not send
    client_id: 0e7c2d3a-5a1d-4b0c-8e57-000000000003
    tenant: {DEMO_TENANT}
    secrets: [readwrite-app-secret]
    roles: [Mail.ReadWrite]
"""


@dataclass(frozen=True)
class Certificate:
    path: Path
    public_key: rsa.RSAPublicKey
    sha1_thumbprint: str      # base64url of the SHA-1 of the DER certificate (the assertion's x5t)
    sha256_thumbprint: str    # base64url of its SHA-256 (x5t#S256)


@dataclass(frozen=True)
class App:
    name: str
    client_id: str
    tenant: str
    secrets: tuple[str, ...]
    certificates: tuple[Certificate, ...]
    roles: frozenset[str]
    mailboxes: frozenset[str] | None     # lower-case SMTP addresses it may reach; None: every mailbox

    @property
    def object_id(self) -> str:
        """Its service principal's object id (the token's oid): stable, derived from the client id."""
        return str(uuid.uuid5(uuid.NAMESPACE_URL, "sandbox-app:" + self.client_id))

    def may_reach(self, mailbox: str) -> bool:
        return self.mailboxes is None or mailbox.lower() in self.mailboxes

    def certificate(self, sha1_thumbprint: str | None, sha256_thumbprint: str | None) -> Certificate | None:
        """The certificate an assertion's x5t#S256 (else its x5t) names; base64url with or without padding."""
        sha1_thumbprint = sha1_thumbprint.rstrip("=") if isinstance(sha1_thumbprint, str) else None
        sha256_thumbprint = sha256_thumbprint.rstrip("=") if isinstance(sha256_thumbprint, str) else None
        for certificate in self.certificates:
            if sha256_thumbprint is not None and certificate.sha256_thumbprint == sha256_thumbprint:
                return certificate
            if sha256_thumbprint is None and certificate.sha1_thumbprint == sha1_thumbprint:
                return certificate
        return None


class Apps:
    """The registered apps by client id; immutable after loading."""

    def __init__(self, apps: list[App]):
        self.apps = list(apps)
        self._by_client_id = {app.client_id.lower(): app for app in apps}
        self.tenants = frozenset(app.tenant for app in apps)

    def by_client_id(self, client_id: str) -> App | None:
        return self._by_client_id.get((client_id or "").strip().lower())


def load_apps(path: Path, directory: Directory) -> Apps:
    """The ``apps`` of the users file ``path`` (none if it has no such list); UsersFileError names what is wrong."""
    root = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)

    def fail(node, message: str):
        raise UsersFileError(f"{path}, line {node.start_mark.line + 1}: {message}")

    apps_node = _mapping(root).get("apps") if isinstance(root, yaml.MappingNode) else None
    if apps_node is None or apps_node.tag.endswith(":null"):
        return Apps([])
    if not isinstance(apps_node, yaml.SequenceNode):
        fail(apps_node, "'apps' must be a list of app registrations")
    apps = [_parse_app(entry, path.parent, directory, fail) for entry in apps_node.value]
    seen: set[str] = set()
    for entry, app in zip(apps_node.value, apps):
        if app.client_id.lower() in seen:
            fail(entry, f"duplicate client_id {app.client_id!r}")
        seen.add(app.client_id.lower())
    return Apps(apps)


def _guid(node, name: str, fail) -> str:
    value = _scalar(node, name, fail)
    try:
        return str(uuid.UUID(value))
    except ValueError:
        fail(node, f"field '{name}' must be a GUID, not {value!r}")


def _parse_app(entry, folder: Path, directory: Directory, fail) -> App:
    fields = checked_mapping(entry, _FIELDS, ("name", "client_id", "tenant"), "app", fail)
    secrets = _string_list(fields["secrets"], "secrets", fail) if "secrets" in fields else []
    certificate_names = _string_list(fields["certificates"], "certificates", fail) if "certificates" in fields else []
    if not secrets and not certificate_names:
        fail(entry, "an app needs 'secrets' or 'certificates' to authenticate with")
    roles = _string_list(fields["roles"], "roles", fail) if "roles" in fields else []
    unknown = [role for role in roles if role not in ROLES]
    if unknown:
        fail(fields["roles"], f"unknown role(s) {unknown} (allowed: {', '.join(ROLES)})")
    mailboxes = None
    if "mailboxes" in fields:
        mailboxes = frozenset(address.lower() for address in _string_list(fields["mailboxes"], "mailboxes", fail))
        strangers = sorted(address for address in mailboxes if directory.by_smtp(address) is None)
        if strangers:
            fail(fields["mailboxes"], f"field 'mailboxes': no such user(s) {strangers}")
    certificates = tuple(_load_certificate(folder / name, fields["certificates"], fail) for name in certificate_names)
    return App(name=_scalar(fields["name"], "name", fail), client_id=_guid(fields["client_id"], "client_id", fail),
               tenant=_guid(fields["tenant"], "tenant", fail), secrets=tuple(secrets), certificates=certificates,
               roles=frozenset(roles), mailboxes=mailboxes)


def _load_certificate(path: Path, node, fail) -> Certificate:
    try:
        certificate = x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError) as exc:
        fail(node, f"certificate {path}: {exc}")
    public_key = certificate.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        fail(node, f"certificate {path}: the identity platform takes RSA keys only")
    der = certificate.public_bytes(serialization.Encoding.DER)
    return Certificate(path, public_key, b64url(hashlib.sha1(der).digest()), b64url(hashlib.sha256(der).digest()))


def add_demo_apps(users_file: Path) -> None:
    """Append the demo app registrations to a freshly written demo users file, with the demo certificate
    (self-signed) and its private key (0600) beside it."""
    folder = users_file.parent
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "exchange-ews-demo")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
                   .not_valid_after(now + datetime.timedelta(days=3650)).sign(key, hashes.SHA256()))
    write_private(folder / DEMO_CERTIFICATE_KEY, key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    (folder / DEMO_CERTIFICATE).write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    with users_file.open("a", encoding="utf-8") as users:
        users.write(DEMO_APPS_YAML)
