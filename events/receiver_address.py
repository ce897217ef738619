"""Where webhook deliveries may go: public addresses only (a guard against server-side request forgery).

Whoever registers a webhook chooses where the service POSTs. Without a guard a
token holder could make the clock reach the loopback interface, the private
network or a cloud metadata endpoint (169.254.169.254). A receiver's host must
therefore resolve only to global unicast addresses; TIMELINE_WEBHOOK_ALLOW_PRIVATE=1
lifts this for deployments that deliver inside their own network (and for tests,
whose receiver listens on 127.0.0.1).

The check runs when a webhook is registered or its url changed, and again at
each delivery on the addresses actually connected to (DNS can change between
the two, or be made to answer differently).
"""
from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Mapping
from urllib.parse import urlsplit

ALLOW_PRIVATE = "TIMELINE_WEBHOOK_ALLOW_PRIVATE"


class RefusedAddress(OSError):
    """A receiver's host is, or resolves to, an address deliveries must not reach."""


def private_allowed(env: Mapping[str, str] | None = None) -> bool:
    """Whether TIMELINE_WEBHOOK_ALLOW_PRIVATE is set to a true value (1, true, yes)."""
    value = (os.environ if env is None else env).get(ALLOW_PRIVATE, "")
    return value.strip().lower() in ("1", "true", "yes")


def why_not_public(address: str) -> str | None:
    """Why an IP address is not a public one (loopback, private, link-local, …), or None if it is public."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    for label, flag in (("loopback", ip.is_loopback), ("private", ip.is_private), ("link-local", ip.is_link_local),
                        ("multicast", ip.is_multicast), ("unspecified", ip.is_unspecified),
                        ("reserved", ip.is_reserved)):
        if flag:
            return f"a {label} address"
    if not ip.is_global:
        return "not a public address"
    return None


def resolve(host: str, port: int | None = None) -> list[tuple]:
    """getaddrinfo for a TCP connection to host: [(family, type, proto, canonname, sockaddr)]."""
    return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)


def check_resolved(host: str, infos: list[tuple]) -> None:
    """Raise RefusedAddress if any address the host resolved to is not public."""
    for info in infos:
        address = info[4][0]
        reason = why_not_public(address)
        if reason:
            shown = f"{host} is" if host == address else f"{host} resolves to {address}, which is"
            raise RefusedAddress(f"refused: {shown} {reason}; webhook receivers must be public "
                                 f"(set {ALLOW_PRIVATE}=1 to deliver inside your own network)")


def check_url(url: str) -> None:
    """Raise RefusedAddress if the url's host is, or resolves to, a non-public address.

    A host that does not resolve now is accepted: a receiver may be registered
    before its DNS is in place, or from a machine that cannot look names up, and
    nothing is sent to it until it resolves, each delivery checking again (`connect`).
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        infos = resolve(host, parts.port)
    except (OSError, UnicodeError):
        return
    check_resolved(host, infos)


def connect(address: tuple[str, int], timeout, source_address=None) -> socket.socket:
    """socket.create_connection, but only to public addresses: each resolved address is checked before use,
    so what is checked is what is connected to (no second lookup for DNS to answer differently)."""
    host, port = address
    infos = resolve(host, port)
    check_resolved(host, infos)
    error: OSError | None = None
    for family, kind, proto, _, sockaddr in infos:
        sock = socket.socket(family, kind, proto)
        try:
            if timeout is not socket._GLOBAL_DEFAULT_TIMEOUT:
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            error = exc
            sock.close()
    raise error or OSError(f"no address for {host}")
