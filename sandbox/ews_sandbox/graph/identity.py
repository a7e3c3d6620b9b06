"""The Microsoft identity platform, as far as the client-credentials flow needs it: instance and tenant discovery,
the token endpoint (client secret or certificate assertion), the signing keys, and the verification of the access
tokens it issued when Graph receives them.

Paths, under the sandbox's root (the authority is ``https://<host>:<port>/<tenant>``):

* ``GET /common/discovery/instance?authorization_endpoint=...`` (msal's instance discovery),
* ``GET /<tenant>/v2.0/.well-known/openid-configuration``, ``GET /<tenant>/discovery/v2.0/keys``,
* ``POST /<tenant>/oauth2/v2.0/token``.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ..files import private_file, write_private
from . import jws
from .apps import App, Apps
from .settings import GraphSettings

GRAPH_AUDIENCES = ("https://graph.microsoft.com", "00000003-0000-0000-c000-000000000000")
GRAPH_DEFAULT_SCOPE = "https://graph.microsoft.com/.default"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
SIGNING_KEY = "graph-signing-key.pem"

TOKEN_PATH = re.compile(r"^/(?P<tenant>[^/]+)/oauth2/v2\.0/token$", re.IGNORECASE)
OPENID_PATH = re.compile(r"^/(?P<tenant>[^/]+)/v2\.0/\.well-known/openid-configuration$", re.IGNORECASE)
KEYS_PATH = re.compile(r"^/(?P<tenant>[^/]+)/discovery/v2\.0/keys$", re.IGNORECASE)
INSTANCE_PATH = "/common/discovery/instance"


class IdentityError(Exception):
    """An OAuth2 error answer: ``error`` (invalid_client...), the AADSTS number and its description."""

    def __init__(self, status: int, error: str, number: int, description: str):
        super().__init__(description)
        self.status, self.error, self.number, self.description = status, error, number, description

    def body(self, base: str) -> dict:
        trace_id, correlation_id = str(uuid.uuid4()), str(uuid.uuid4())
        timestamp = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())
        return {"error": self.error,
                "error_description": f"AADSTS{self.number}: {self.description}\r\nTrace ID: {trace_id}\r\n"
                                     f"Correlation ID: {correlation_id}\r\nTimestamp: {timestamp}",
                "error_codes": [self.number], "timestamp": timestamp, "trace_id": trace_id,
                "correlation_id": correlation_id, "error_uri": f"{base}/error?code={self.number}"}


class TokenRejected(Exception):
    """Graph refuses the bearer token: 401 InvalidAuthenticationToken with this message."""


@dataclass(frozen=True)
class Caller:
    """Who a verified access token stands for."""
    app: App
    roles: frozenset[str]


def is_identity_path(path: str) -> bool:
    return path == INSTANCE_PATH or any(p.match(path) for p in (TOKEN_PATH, OPENID_PATH, KEYS_PATH))


class Identity:
    """Issues and verifies the sandbox's access tokens; its RSA signing key is kept in the data folder."""

    def __init__(self, data_dir: Path, apps: Apps, settings: GraphSettings):
        self.apps = apps
        self.settings = settings
        key_path = data_dir / SIGNING_KEY
        if key_path.exists():
            self._key = serialization.load_pem_private_key(private_file(key_path).read_bytes(), password=None)
        else:
            self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            write_private(key_path, self._key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        numbers = self._key.public_key().public_numbers()
        modulus = numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")
        self._jwk = {"kty": "RSA", "use": "sig", "n": jws.b64url(modulus), "e": jws.b64url(numbers.e.to_bytes(3, "big"))}
        self._jwk["kid"] = self._jwk["x5t"] = jws.b64url(uuid.uuid5(uuid.NAMESPACE_URL, self._jwk["n"]).bytes)

    # -- the identity platform's endpoints ------------------------------------------------

    def answer(self, method: str, path: str, query: str, form: bytes, base: str) -> tuple[int, dict]:
        """(status, JSON) for a request to one of the identity paths; ``base`` is ``https://<host>:<port>``."""
        try:
            if path == INSTANCE_PATH:
                _allow(method, "GET")
                return 200, self._instance_discovery(parse_qs(query), base)
            match = OPENID_PATH.match(path)
            if match:
                _allow(method, "GET")
                return 200, self._openid_configuration(self._tenant(match["tenant"]), base)
            match = KEYS_PATH.match(path)
            if match:
                _allow(method, "GET")
                self._tenant(match["tenant"])
                return 200, {"keys": [self._jwk]}
            match = TOKEN_PATH.match(path)
            _allow(method, "POST")
            form_fields = parse_qs(form.decode("utf-8", "replace"))
            return 200, self._token_request(self._tenant(match["tenant"]), base, form_fields)
        except IdentityError as error:
            return error.status, error.body(base)

    def _tenant(self, tenant: str) -> str:
        try:
            canonical = str(uuid.UUID(tenant))
        except ValueError:
            canonical = tenant
        if canonical not in self.apps.tenants:
            raise IdentityError(400, "invalid_request", 90002, f"Tenant '{tenant}' not found. Check to make sure you "
                                "have the correct tenant ID and are signing into the correct cloud.")
        return canonical

    def _instance_discovery(self, query: dict, base: str) -> dict:
        endpoint = query.get("authorization_endpoint", [""])[0]
        parts = urlsplit(endpoint)
        tenant = parts.path.strip("/").split("/")[0]
        # msal names the authority's host without its port: the sandbox knows its own host name.
        host = urlsplit(base).hostname
        if parts.scheme != "https" or (parts.hostname or "").lower() != (host or "").lower() or not tenant:
            raise IdentityError(400, "invalid_instance", 50049, "Unknown or invalid instance.")
        return {"tenant_discovery_endpoint": f"{base}/{tenant}/v2.0/.well-known/openid-configuration",
                "api-version": "1.1",
                "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}]}

    def _openid_configuration(self, tenant: str, base: str) -> dict:
        return {"issuer": f"{base}/{tenant}/v2.0",
                "authorization_endpoint": f"{base}/{tenant}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/{tenant}/oauth2/v2.0/token",
                "jwks_uri": f"{base}/{tenant}/discovery/v2.0/keys",
                "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "subject_types_supported": ["pairwise"], "id_token_signing_alg_values_supported": ["RS256"],
                "tenant_region_scope": "EU", "cloud_instance_name": "microsoftonline.com"}

    def _token_request(self, tenant: str, base: str, form: dict) -> dict:
        field = {name: values[0] for name, values in form.items()}
        if "grant_type" not in field:
            raise IdentityError(400, "invalid_request", 900144,
                                "The request body must contain the following parameter: 'grant_type'.")
        if field["grant_type"] != "client_credentials":
            raise IdentityError(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type "
                                f"'{field['grant_type']}'; the sandbox serves the client credentials flow only.")
        app = self.apps.by_client_id(field.get("client_id", ""))
        if app is None or app.tenant != tenant:
            raise IdentityError(400, "unauthorized_client", 700016, f"Application with identifier "
                                f"'{field.get('client_id', '')}' was not found in the directory '{tenant}'.")
        scope = field.get("scope", "")
        if scope != GRAPH_DEFAULT_SCOPE:
            raise IdentityError(400, "invalid_scope", 1002012, f"The provided value for scope {scope} is not valid. "
                                "Client credential flows must have a scope value with /.default suffixed to the "
                                "resource identifier (application ID URI).")
        method = self._authenticate_client(app, field, f"{base}/{tenant}/oauth2/v2.0/token")
        lifetime = self.settings.token_lifetime_s
        return {"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime,
                "access_token": self.issue(app, method)}

    def _authenticate_client(self, app: App, field: dict, token_endpoint: str) -> str:
        """"1" (secret) or "2" (certificate), the token's appidacr; IdentityError for a bad credential."""
        if "client_secret" in field:
            if field["client_secret"] not in app.secrets:
                raise IdentityError(401, "invalid_client", 7000215, "Invalid client secret provided. Ensure the "
                                    "secret being sent in the request is the client secret value, not the client "
                                    f"secret ID, for a secret added to app '{app.client_id}'.")
            return "1"
        if "client_assertion" not in field:
            raise IdentityError(401, "invalid_client", 7000218, "The request body must contain the following "
                                "parameter: 'client_assertion' or 'client_secret'.")
        if field.get("client_assertion_type") != ASSERTION_TYPE:
            raise IdentityError(400, "invalid_request", 50027, "client_assertion_type must be " + ASSERTION_TYPE + ".")
        try:
            header, _, _, _ = jws.parse(field["client_assertion"])
        except jws.JwsError:
            raise IdentityError(401, "invalid_client", 50027, "JWT token is invalid or is malformed.") from None
        certificate = app.certificate(header.get("x5t"), header.get("x5t#S256"))
        if certificate is None:
            raise IdentityError(401, "invalid_client", 700027, "The certificate with identifier used to sign the "
                                f"client assertion is not registered on application '{app.client_id}'.")
        try:
            _, claims = jws.verify(field["client_assertion"], certificate.public_key)
        except jws.JwsError:
            raise IdentityError(401, "invalid_client", 700027,
                                "Client assertion failed signature validation.") from None
        if claims.get("iss") != app.client_id or claims.get("sub") != app.client_id:
            raise IdentityError(401, "invalid_client", 700021, "Client assertion application identifier doesn't "
                                "match 'client_id' parameter.")
        if claims.get("aud") != token_endpoint:
            raise IdentityError(401, "invalid_client", 700023, "Client assertion audience claim does not match "
                                f"Realm issuer: '{token_endpoint}'.")
        now = time.time()
        if not isinstance(claims.get("exp"), (int, float)) or claims["exp"] <= now or claims.get("nbf", 0) > now:
            raise IdentityError(401, "invalid_client", 700024, "Client assertion is not within its valid time range.")
        return "2"

    # -- access tokens --------------------------------------------------------------------

    def issue(self, app: App, authentication_method: str) -> str:
        now = int(time.time())
        issuer = f"https://sts.windows.net/{app.tenant}/"
        claims = {"aud": GRAPH_AUDIENCES[0], "iss": issuer, "iat": now, "nbf": now,
                  "exp": now + self.settings.token_lifetime_s,
                  "app_displayname": app.name, "appid": app.client_id, "appidacr": authentication_method, "idp": issuer,
                  "idtyp": "app", "oid": app.object_id, "roles": sorted(app.roles), "sub": app.object_id,
                  "tid": app.tenant, "uti": jws.b64url(uuid.uuid4().bytes), "ver": "1.0"}
        header = {"typ": "JWT", "alg": "RS256", "x5t": self._jwk["kid"], "kid": self._jwk["kid"]}
        return jws.sign(header, claims, self._key)

    def verify(self, token: str) -> Caller:
        """The app a Graph request's bearer token stands for; TokenRejected with Graph's message otherwise."""
        if not token:
            raise TokenRejected("Access token is empty.")
        try:
            _, claims = jws.verify(token, self._key.public_key())
        except jws.JwsError:
            raise TokenRejected("Access token validation failure.") from None
        if claims.get("aud") not in GRAPH_AUDIENCES:
            raise TokenRejected("Access token validation failure. Invalid audience.")
        now = time.time()
        if not isinstance(claims.get("exp"), (int, float)) or claims["exp"] <= now or claims.get("nbf", 0) > now:
            raise TokenRejected("Lifetime validation failed, the token is expired.")
        app = self.apps.by_client_id(claims.get("appid", ""))
        if app is None or app.tenant != claims.get("tid"):
            raise TokenRejected("Access token validation failure.")
        return Caller(app, frozenset(claims.get("roles") or ()))


def _allow(method: str, allowed: str) -> None:
    if method != allowed:
        raise IdentityError(405, "invalid_request", 900561, f"The endpoint only accepts {allowed} requests.")
