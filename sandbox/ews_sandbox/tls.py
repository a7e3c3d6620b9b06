"""Throwaway CA and server certificate, kept in the data folder so clients keep trusting them across restarts."""

from __future__ import annotations

import hashlib
import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path

import trustme
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from .files import private_dir, private_file, write_private

CA_CERT = "ca.pem"
CA_KEY = "ca-key.pem"
SERVER_CERT = "server.pem"
SERVER_KEY = "server-key.pem"

DEFAULT_NAMES = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class TlsMaterial:
    ca_path: Path
    cert_path: Path
    key_path: Path
    cert_der: bytes

    def channel_binding_data(self) -> bytes:
        """RFC 5929 tls-server-end-point application data, as requests-ntlm computes it (SHA-256 of the DER)."""
        return b"tls-server-end-point:" + hashlib.sha256(self.cert_der).digest()

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.cert_path, self.key_path)
        return context


def ensure_material(data_dir: Path, host: str) -> TlsMaterial:
    """Load the CA and server certificate from ``data_dir``, creating what is missing.

    The CA is created once. The server certificate is re-issued (by the same CA)
    only when it does not cover ``host`` (the name or address clients use) and the
    loopback names, so a restart on the same host serves the very same certificate.
    """
    private_dir(data_dir)
    ca_path, ca_key_path = data_dir / CA_CERT, data_dir / CA_KEY
    cert_path, key_path = data_dir / SERVER_CERT, data_dir / SERVER_KEY
    names = tuple(dict.fromkeys(DEFAULT_NAMES + (host,)))

    if ca_path.exists() and ca_key_path.exists():
        ca = trustme.CA.from_pem(ca_path.read_bytes(), private_file(ca_key_path).read_bytes())
    else:
        ca = trustme.CA(organization_name="EWS sandbox")
        write_private(ca_key_path, ca.private_key_pem.bytes())
        ca_path.write_bytes(ca.cert_pem.bytes())
        cert_path.unlink(missing_ok=True)

    if not (cert_path.exists() and key_path.exists() and _covers(cert_path.read_bytes(), names)):
        leaf = ca.issue_cert(*names, common_name=names[0])
        cert_chain = b"".join(blob.bytes() for blob in leaf.cert_chain_pems)
        write_private(key_path, leaf.private_key_pem.bytes())
        cert_path.write_bytes(cert_chain)
    private_file(key_path)

    leaf_cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    return TlsMaterial(ca_path.resolve(), cert_path.resolve(), key_path.resolve(), leaf_cert.public_bytes(Encoding.DER))


def _covers(cert_pem: bytes, names: tuple[str, ...]) -> bool:
    cert = x509.load_pem_x509_certificate(cert_pem)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    dns = {n.lower() for n in san.get_values_for_type(x509.DNSName)}
    ips = set(san.get_values_for_type(x509.IPAddress))
    for name in names:
        try:
            if ipaddress.ip_address(name) not in ips:
                return False
        except ValueError:
            if name.lower() not in dns:
                return False
    return True

