"""Which addresses a host name stands for: loopback or not, and the one clients should be told to use."""

from __future__ import annotations

import ipaddress
import socket

WILDCARDS = ("0.0.0.0", "::", "")


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback address literals (``[::1]`` and ``...%lo`` forms included)."""
    host = host.strip().strip("[]").split("%")[0].lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def listens_on_loopback_only(bind_host: str) -> bool:
    """True when a server bound to ``bind_host`` cannot be reached from another machine."""
    if bind_host in WILDCARDS:
        return False
    try:
        resolved = {info[4][0] for info in socket.getaddrinfo(bind_host, None)}
    except socket.gaierror:
        return False
    return bool(resolved) and all(is_loopback(address) for address in resolved)


def public_host(bind_host: str) -> str:
    """The host name or address a client should use: the bind host, or for a wildcard the address this
    machine reaches the network from (its host name when it has no route)."""
    if bind_host not in WILDCARDS:
        return bind_host
    family, probe = (socket.AF_INET6, "2001:db8::1") if bind_host == "::" else (socket.AF_INET, "192.0.2.1")
    with socket.socket(family, socket.SOCK_DGRAM) as udp:
        try:
            udp.connect((probe, 9))   # documentation addresses: no packet is sent, the route picks the interface
            address = udp.getsockname()[0]
        except OSError:
            return socket.getfqdn()
    return socket.getfqdn() if is_loopback(address) else address


def loopback_host(bind_host: str) -> str:
    """The host a local client reaches a server bound to ``bind_host`` at."""
    if bind_host in WILDCARDS:
        return "::1" if bind_host == "::" else "127.0.0.1"
    return bind_host


def url_host(host: str) -> str:
    """``host`` as it goes into a URL (IPv6 literals in brackets)."""
    return f"[{host}]" if ":" in host else host
