"""The users file: who may log in, with which secrets, and who may act on whose mailbox."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .context import RIGHTS
from .files import private_dir, write_private

# NetBIOS domain accepted in DOMAIN\login for every user. Each user's own domains are accepted too:
# the DNS domain of the SMTP address (DOMAIN\login and login@domain) and its first label, which is what
# Active Directory usually names the NetBIOS domain (EXAMPLE\login for login@example.com).
NETBIOS_DOMAIN = "SANDBOX"

DEMO_USERS_YAML = """\
# Demo users of the EWS sandbox (generated; edit freely, the sandbox reads it at start).
users:
  - login: alice                 # the principal
    password: Passw0rd-alice
    smtp: alice@sandbox.test
    tokens: [alice-token]
    impersonation: false
    delegates:                   # rights others have on THIS mailbox: read, create, send (on behalf), send_as
      bob@sandbox.test: [read, create, send]
  - login: bob                   # delegate of alice
    password: Passw0rd-bob
    smtp: bob@sandbox.test
    tokens: [bob-token]
  - login: svc                   # ApplicationImpersonation role
    password: Passw0rd-svc
    smtp: svc@sandbox.test
    tokens: [svc-token]
    impersonation: true
  - login: carol                 # no rights on anyone's mailbox
    password: Passw0rd-carol
    smtp: carol@sandbox.test
    tokens: [carol-token]
  - login: team                  # a shared mailbox bob may send as (From team, no trace of bob)
    password: Passw0rd-team
    smtp: team@sandbox.test
    tokens: [team-token]
    delegates:
      bob@sandbox.test: [send_as]
"""

_FIELDS = {"login", "password", "smtp", "tokens", "impersonation", "delegates"}


class UsersFileError(ValueError):
    """The users file cannot be used; the message names the file, the line and the field."""


@dataclass(frozen=True)
class User:
    login: str
    password: str
    smtp: str
    tokens: tuple[str, ...] = ()
    impersonation: bool = False
    # rights others have on this user's mailbox: {delegate smtp (lower case): frozenset of rights}
    delegates: dict[str, frozenset[str]] = field(default_factory=dict, hash=False, compare=False)

    @property
    def domain(self) -> str:
        return self.smtp.rsplit("@", 1)[1]

    @property
    def logon_domains(self) -> tuple[str, ...]:
        """The domains accepted in ``DOMAIN\\login``: the sandbox's, the SMTP domain's first label, the SMTP domain."""
        return tuple(dict.fromkeys((NETBIOS_DOMAIN, self.domain.split(".", 1)[0].upper(), self.domain)))


class Directory:
    """Lookups over the users of one sandbox; immutable after construction, so safe across threads."""

    def __init__(self, users: list[User]):
        self.users = list(users)
        self._by_login = {u.login.lower(): u for u in users}
        self._by_smtp = {u.smtp.lower(): u for u in users}
        self._by_token = {t: u for u in users for t in u.tokens}

    def by_login(self, name: str) -> User | None:
        """Match ``login``, ``DOMAIN\\login`` or ``login@domain`` case-insensitively."""
        name = name.strip().lower()
        if "\\" in name:
            domain, name = name.split("\\", 1)
            user = self._by_login.get(name)
            return user if user and domain in (d.lower() for d in user.logon_domains) else None
        if "@" in name:
            local, domain = name.rsplit("@", 1)
            user = self._by_login.get(local)
            if user and domain == user.domain.lower():
                return user
            return self._by_smtp.get(name)
        return self._by_login.get(name)

    def by_smtp(self, smtp: str) -> User | None:
        return self._by_smtp.get(smtp.strip().lower())

    def by_token(self, token: str) -> User | None:
        return self._by_token.get(token)

    def rights_of(self, user_smtp: str, on: str) -> set[str]:
        """Delegate rights ``user_smtp`` has on the mailbox of ``on`` (all of them on their own mailbox)."""
        if user_smtp.lower() == on.lower():
            return set(RIGHTS)
        owner = self.by_smtp(on)
        if owner is None:
            return set()
        return set(owner.delegates.get(user_smtp.lower(), ()))

    def may_impersonate(self, user: User) -> bool:
        return user.impersonation

    def ntlm_credential_lines(self) -> list[str]:
        """Lines ``DOMAIN:USER:PASSWORD`` for pyspnego's NTLM_USER_FILE.

        pyspnego matches the domain the client sends exactly (case-insensitively),
        so every accepted spelling of a user gets its own line.
        """
        lines = []
        for u in self.users:
            lines.append(f":{u.login}:{u.password}")
            for domain in u.logon_domains:
                lines.append(f"{domain}:{u.login}:{u.password}")
                lines.append(f":{u.login}@{domain}:{u.password}")
        return lines


def write_demo_users(path: Path) -> None:
    private_dir(path.parent)
    write_private(path, DEMO_USERS_YAML)


def load_directory(path: Path) -> Directory:
    """Read and check the users file; raise UsersFileError naming the problem, the line and the field."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsersFileError(f"{path}: cannot read the users file: {exc.strerror}") from exc
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise UsersFileError(f"{path}: not valid YAML: {exc}") from exc

    def fail(node, message: str):
        line = node.start_mark.line + 1 if node is not None else 1
        raise UsersFileError(f"{path}, line {line}: {message}")

    if not isinstance(root, yaml.MappingNode):
        fail(root, "expected a mapping with a 'users' list")
    users_node = _mapping(root).get("users")
    if not isinstance(users_node, yaml.SequenceNode) or not users_node.value:
        fail(users_node or root, "'users' must be a non-empty list")

    users: list[User] = []
    for entry in users_node.value:
        users.append(_parse_user(entry, fail))

    seen_login: dict[str, yaml.Node] = {}
    seen_smtp: dict[str, yaml.Node] = {}
    for entry, user in zip(users_node.value, users):
        if user.login.lower() in seen_login:
            fail(entry, f"duplicate login {user.login!r}")
        if user.smtp.lower() in seen_smtp:
            fail(entry, f"duplicate smtp {user.smtp!r}")
        seen_login[user.login.lower()] = entry
        seen_smtp[user.smtp.lower()] = entry
    tokens = [t for u in users for t in u.tokens]
    if len(tokens) != len(set(tokens)):
        fail(users_node, "a bearer token is listed for more than one user")
    return Directory(users)


def _mapping(node: yaml.MappingNode) -> dict[str, yaml.Node]:
    return {key.value: value for key, value in node.value if isinstance(key, yaml.ScalarNode)}


def _scalar(node, name: str, fail) -> str:
    if not isinstance(node, yaml.ScalarNode) or not node.value.strip():
        fail(node, f"field '{name}' must be a non-empty string")
    return node.value.strip()


def _string_list(node, name: str, fail) -> list[str]:
    if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null"):
        return []
    if not isinstance(node, yaml.SequenceNode):
        fail(node, f"field '{name}' must be a list")
    return [_scalar(item, name, fail) for item in node.value]


def checked_mapping(entry, known: set[str], required: tuple[str, ...], what: str, fail) -> dict[str, yaml.Node]:
    """The fields of a users-file entry (a user, an app), refused unless a mapping of ``known`` fields with the
    ``required`` ones; ``what`` says what it is in the error ("each user must be a mapping with ...")."""
    if not isinstance(entry, yaml.MappingNode):
        fail(entry, f"each {what} must be a mapping with {', '.join(required)}")
    fields = _mapping(entry)
    for key_node, _ in entry.value:
        if key_node.value not in known:
            fail(key_node, f"unknown field '{key_node.value}' (expected one of {', '.join(sorted(known))})")
    for name in required:
        if name not in fields:
            fail(entry, f"missing field '{name}'")
    return fields


def _parse_user(entry, fail) -> User:
    fields = checked_mapping(entry, _FIELDS, ("login", "password", "smtp"), "user", fail)
    login = _scalar(fields["login"], "login", fail)
    if "\\" in login or "@" in login or ":" in login:
        fail(fields["login"], "field 'login' must be a bare name (no DOMAIN\\, @ or :)")
    password = _scalar(fields["password"], "password", fail)
    if ":" in password or "\n" in password:
        fail(fields["password"], "field 'password' must not contain ':' or a line break (NTLM credential file format)")
    smtp = _scalar(fields["smtp"], "smtp", fail)
    if smtp.count("@") != 1 or smtp.startswith("@") or smtp.endswith("@"):
        fail(fields["smtp"], f"field 'smtp' is not an e-mail address: {smtp!r}")

    tokens = _string_list(fields["tokens"], "tokens", fail) if "tokens" in fields else []

    impersonation = False
    if "impersonation" in fields:
        node = fields["impersonation"]
        if not (isinstance(node, yaml.ScalarNode) and node.tag.endswith(":bool")):
            fail(node, "field 'impersonation' must be true or false")
        impersonation = node.value.lower() in ("true", "yes", "on")

    delegates: dict[str, frozenset[str]] = {}
    if "delegates" in fields and not fields["delegates"].tag.endswith(":null"):
        node = fields["delegates"]
        if not isinstance(node, yaml.MappingNode):
            fail(node, "field 'delegates' must map a delegate's smtp to a list of rights")
        for delegate_node, rights_node in node.value:
            delegate = _scalar(delegate_node, "delegates", fail).lower()
            rights = _string_list(rights_node, f"delegates.{delegate}", fail)
            unknown = [r for r in rights if r not in RIGHTS]
            if unknown:
                fail(rights_node, f"field 'delegates.{delegate}': unknown right(s) {unknown} (allowed: {', '.join(RIGHTS)})")
            delegates[delegate] = frozenset(rights)

    return User(login=login, password=password, smtp=smtp, tokens=tuple(tokens),
                impersonation=impersonation, delegates=delegates)
