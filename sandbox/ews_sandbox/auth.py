"""HTTP authentication the way IIS does it in front of Exchange: NTLM / Negotiate per connection, Basic, Bearer."""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import spnego
from spnego.channel_bindings import GssChannelBindings
from spnego._ntlm_raw.messages import Authenticate, AvId, NTClientChallengeV2
from spnego._spnego import unpack_token

from .config import Directory, User
from .files import write_private

log = logging.getLogger(__name__)

NTLM_SIGNATURE = b"NTLMSSP\x00"
NTLM_AUTHENTICATE = 3
NTLM_USER_FILE = "ntlm-users.txt"


@dataclass
class ConnectionAuth:
    """Authentication state of one TCP connection: an NTLM handshake in progress, or the user it proved."""

    user: User | None = None
    handshake: object | None = None  # spnego acceptor between the Negotiate and Authenticate messages


@dataclass(frozen=True)
class AuthResult:
    user: User | None
    # a WWW-Authenticate value continuing a handshake ("NTLM <challenge>"), None for a plain refusal
    continuation: str | None = None
    # the WWW-Authenticate value closing a SPNEGO handshake, sent with the successful answer (as IIS does)
    final: str | None = None
    bearer_rejected: bool = False


class Authenticator:
    def __init__(self, directory: Directory, data_dir: Path, channel_binding_data: bytes | None, realm: str):
        self.directory = directory
        self.channel_binding_data = channel_binding_data
        self.realm = realm
        # pyspnego's NTLM acceptor reads its credentials from NTLM_USER_FILE when it needs them.
        user_file = data_dir / NTLM_USER_FILE
        write_private(user_file, "\n".join(directory.ntlm_credential_lines()) + "\n")
        os.environ["NTLM_USER_FILE"] = str(user_file)

    def challenge_headers(self, bearer_rejected: bool = False) -> list[tuple[str, str]]:
        """The WWW-Authenticate headers of a 401, in IIS's order."""
        bearer = 'Bearer realm="%s"' % self.realm
        if bearer_rejected:
            bearer += ', error="invalid_token"'
        return [
            ("WWW-Authenticate", "Negotiate"),
            ("WWW-Authenticate", "NTLM"),
            ("WWW-Authenticate", 'Basic realm="%s"' % self.realm),
            ("WWW-Authenticate", bearer),
        ]

    def authenticate(self, conn: ConnectionAuth, header: str | None) -> AuthResult:
        """Authenticate one request. A connection that completed NTLM stays authenticated, like IIS."""
        if not header:
            return AuthResult(conn.user)
        scheme, _, credentials = header.strip().partition(" ")
        scheme = scheme.lower()
        credentials = credentials.strip()
        if scheme == "basic":
            return AuthResult(self._basic(credentials))
        if scheme == "bearer":
            user = self.directory.by_token(credentials)
            return AuthResult(user, bearer_rejected=user is None)
        if scheme in ("ntlm", "negotiate"):
            return self._ntlm_step(conn, scheme, credentials)
        return AuthResult(None)

    def _basic(self, credentials: str) -> User | None:
        try:
            login, _, password = base64.b64decode(credentials, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        user = self.directory.by_login(login)
        if user and hmac.compare_digest(user.password.encode(), password.encode()):
            return user
        return None

    def _ntlm_step(self, conn: ConnectionAuth, scheme: str, credentials: str) -> AuthResult:
        try:
            token = base64.b64decode(credentials, validate=True)
        except binascii.Error:
            return self._fail(conn, "undecodable token")
        ntlm_message = _ntlm_message(token)
        is_authenticate = len(ntlm_message) >= 12 and ntlm_message[8] == NTLM_AUTHENTICATE
        if not is_authenticate:
            # A Negotiate message starts a new handshake, also over one left half-way.
            conn.user = None
            conn.handshake = spnego.server(protocol="ntlm" if token.startswith(NTLM_SIGNATURE) else "negotiate")
        elif conn.handshake is None:
            return self._fail(conn, "Authenticate message without a handshake on this connection")
        # IIS's Extended Protection "when supported": verify channel bindings only if the client sent some
        # (pyspnego's acceptor refuses a client without bindings when it is given some).
        bindings = None
        if self.channel_binding_data is not None and is_authenticate and _carries_bindings(ntlm_message):
            bindings = GssChannelBindings(application_data=self.channel_binding_data)
        try:
            out_token = conn.handshake.step(token, channel_bindings=bindings)
        except Exception as exc:  # any failure of a handshake is a plain 401, as with IIS
            return self._fail(conn, str(exc))
        if not conn.handshake.complete:
            return AuthResult(None, continuation=f"{scheme_title(scheme)} {base64.b64encode(out_token or b'').decode()}")
        principal = conn.handshake.client_principal or ""
        conn.handshake = None
        conn.user = self.directory.by_login(principal)
        if conn.user is None:
            return self._fail(conn, f"no sandbox user for {principal!r}")
        final = f"{scheme_title(scheme)} {base64.b64encode(out_token).decode()}" if out_token else None
        return AuthResult(conn.user, final=final)

    @staticmethod
    def _fail(conn: ConnectionAuth, reason: str) -> AuthResult:
        log.info("NTLM authentication failed: %s", reason)
        conn.user = None
        conn.handshake = None
        return AuthResult(None)


def scheme_title(scheme: str) -> str:
    return "NTLM" if scheme == "ntlm" else "Negotiate"


def _ntlm_message(token: bytes) -> bytes:
    """The NTLM message of a raw NTLM token or of a SPNEGO-wrapped one; b"" for anything else (Kerberos)."""
    if token.startswith(NTLM_SIGNATURE):
        return token
    try:
        message = unpack_token(token)
    except Exception:  # not SPNEGO either: the acceptor will refuse it
        return b""
    inner = getattr(message, "response_token", None) or getattr(message, "mech_token", None) or b""
    return inner if inner.startswith(NTLM_SIGNATURE) else b""


def _carries_bindings(authenticate_token: bytes) -> bool:
    """Whether an NTLMv2 Authenticate message holds a non-zero channel-bindings hash."""
    try:
        response = Authenticate.unpack(authenticate_token).nt_challenge_response or b""
        if len(response) <= 24:  # NTLMv1 has no room for bindings
            return False
        bindings = NTClientChallengeV2.unpack(response[16:]).av_pairs.get(AvId.channel_bindings)
    except Exception:  # malformed: let the acceptor reject it with its own error
        return False
    return bool(bindings) and bindings != b"\x00" * 16
