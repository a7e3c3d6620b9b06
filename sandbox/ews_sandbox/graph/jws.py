"""Compact JWS (RFC 7515) signed with RSA: RS256 (PKCS#1 v1.5) and PS256 (PSS), as the identity platform uses them.

Only what the sandbox needs: it signs its own access tokens and verifies the client assertions apps sign with
their certificates' keys. Any failure to verify is a JwsError; callers turn it into the service's own error.
"""

from __future__ import annotations

import base64
import binascii
import json

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

ALGORITHMS = ("RS256", "PS256")


class JwsError(ValueError):
    """The token is not a well-formed, correctly signed JWS."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise JwsError("not base64url") from exc


def _padding(algorithm: str):
    if algorithm == "PS256":
        return padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)
    return padding.PKCS1v15()


def sign(header: dict, claims: dict, key: rsa.RSAPrivateKey) -> str:
    algorithm = header["alg"]
    signing_input = b64url(json.dumps(header, separators=(",", ":")).encode()) + "." + b64url(
        json.dumps(claims, separators=(",", ":")).encode())
    signature = key.sign(signing_input.encode("ascii"), _padding(algorithm), hashes.SHA256())
    return signing_input + "." + b64url(signature)


def parse(token: str) -> tuple[dict, dict, bytes, bytes]:
    """(header, claims, signing input, signature) of a compact JWS, unverified."""
    parts = token.split(".")
    if len(parts) != 3:
        raise JwsError("not a compact JWS")
    try:
        header = json.loads(b64url_decode(parts[0]))
        claims = json.loads(b64url_decode(parts[1]))
    except ValueError as exc:
        raise JwsError("header or claims are not JSON") from exc
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise JwsError("header or claims are not JSON objects")
    return header, claims, (parts[0] + "." + parts[1]).encode("ascii"), b64url_decode(parts[2])


def verify(token: str, key: rsa.RSAPublicKey) -> tuple[dict, dict]:
    """(header, claims) of ``token`` once its RS256 or PS256 signature checks out with ``key``."""
    header, claims, signing_input, signature = parse(token)
    algorithm = header.get("alg")
    if algorithm not in ALGORITHMS:
        raise JwsError(f"algorithm {algorithm!r} is not accepted")
    try:
        key.verify(signature, signing_input, _padding(algorithm), hashes.SHA256())
    except InvalidSignature as exc:
        raise JwsError("bad signature") from exc
    return header, claims
