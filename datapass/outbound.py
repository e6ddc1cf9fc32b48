"""Calls to addresses that users typed (webhooks), without reaching our own network.

A URL is checked and its host name resolved **once** (``resolve``): every address must be
public (unless ``WEBHOOK_ALLOW_PRIVATE_NETWORKS``, outside production only), the port 443,
80 or one of ``WEBHOOK_ALLOWED_PORTS``. The POST then connects to that checked address
(``post``): there is no second resolution for a DNS rebinding to slip into; TLS still sends
the host name (SNI) and verifies the certificate against it. Redirects are never followed.

The resolver is ``WEBHOOK_RESOLVER`` in the configuration when set (a function
``(host, port) -> [address, …]``; tests use it to give local names), else the system's.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import certifi
import urllib3

from datapass.errors import UserError

DEFAULT_PORTS = {"https": 443, "http": 80}
Resolver = Callable[[str, int], list[str]]


class UrlRefused(UserError, ValueError):
    """A URL refused (scheme, port, internal address, unknown name, malformed)."""


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (``address``) and what to ask for (``host``, ``path``)."""

    scheme: str
    host: str
    port: int
    path: str
    address: str
    internal: bool  # a private address, allowed by WEBHOOK_ALLOW_PRIVATE_NETWORKS

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    return [info[4][0] for info in infos]


def is_internal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Loopback, private, link-local, shared, reserved, unspecified, multicast, documentation…
    and IPv6 forms of any of those."""
    mapped = getattr(address, "ipv4_mapped", None) or getattr(address, "sixtofour", None)
    if mapped is not None and is_internal(mapped):
        return True
    return not address.is_global or address.is_multicast


def parse(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path with query) of a well-formed http(s) URL, else UrlRefused."""
    parts = urlsplit((url or "").strip())
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise UrlRefused(
            "Saisissez une adresse complète, par exemple https://api.exemple.fr/webhook."
        )
    if parts.username is not None or parts.password is not None:
        raise UrlRefused("L’adresse ne doit pas contenir d’identifiants.")
    try:
        port = parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError as error:  # out of range or not a number
        raise UrlRefused("Le port de cette adresse n’est pas valide.") from error
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return parts.scheme, parts.hostname, port, path


def resolve(url: str, config: Mapping) -> Target:
    """The checked target of ``url`` (resolved now, once), or ``UrlRefused``."""
    scheme, host, port, path = parse(url)
    production = config["DATAPASS_ENV"] == "production"
    if production and scheme != "https":
        raise UrlRefused("En production, l’adresse doit commencer par https://.")
    allowed_ports = {*DEFAULT_PORTS.values(), *config.get("WEBHOOK_ALLOWED_PORTS", ())}
    if port not in allowed_ports:
        raise UrlRefused("Ce port n’est pas autorisé : utilisez le port 443 (https) ou 80 (http).")
    resolver: Resolver = config.get("WEBHOOK_RESOLVER") or system_resolver
    try:
        addresses = [ipaddress.ip_address(found) for found in resolver(host, port)]
    except (OSError, UnicodeError, ValueError) as error:  # UnicodeError: label too long
        raise UrlRefused("Ce nom de domaine n’existe pas.") from error
    if not addresses:
        raise UrlRefused("Ce nom de domaine n’existe pas.")
    internal = any(is_internal(address) for address in addresses)
    if internal and (production or not config.get("WEBHOOK_ALLOW_PRIVATE_NETWORKS")):
        raise UrlRefused(
            "Cette adresse mène à un réseau interne (boucle locale, réseau privé ou réservé) : "
            "elle est refusée."
        )
    return Target(scheme, host, port, path, str(addresses[0]), internal)


def error_name(error: Exception) -> str:
    """A short name for a failed call, as the attempt log shows it."""
    if isinstance(error, urllib3.exceptions.ConnectTimeoutError):
        return "ConnectTimeout"
    if isinstance(error, urllib3.exceptions.TimeoutError):
        return "ReadTimeout"
    if isinstance(error, urllib3.exceptions.SSLError):
        return "SSLError"
    return "ConnectionError"


@dataclass(frozen=True)
class Answer:
    status: int
    text: str  # the first ``limit`` characters of the body


def post(
    target: Target,
    body: bytes,
    headers: Mapping[str, str],
    *,
    timeout: float,
    ca_bundle: str = "",
    limit: int = 10_000,
) -> Answer:
    """POST ``body`` to the checked address of ``target``; raises ``urllib3``'s errors (and
    ``OSError``). ``ca_bundle``: the certificates trusted for https (default: certifi's)."""
    options = {"timeout": urllib3.Timeout(total=timeout), "retries": False, "maxsize": 1}
    if target.scheme == "https":
        pool: urllib3.HTTPConnectionPool = urllib3.HTTPSConnectionPool(
            target.address,
            target.port,
            server_hostname=target.host,
            assert_hostname=target.host,
            cert_reqs="CERT_REQUIRED",
            ca_certs=ca_bundle or certifi.where(),
            **options,
        )
    else:
        pool = urllib3.HTTPConnectionPool(target.address, target.port, **options)
    with pool:
        response = pool.urlopen(
            "POST",
            target.path,
            body=body,
            headers={**headers, "Host": target.host_header},
            redirect=False,
            assert_same_host=False,
            preload_content=False,
        )
        try:
            raw = response.read(limit * 4, decode_content=True)
        finally:
            response.close()
    return Answer(response.status, raw.decode("utf-8", errors="replace")[:limit])
