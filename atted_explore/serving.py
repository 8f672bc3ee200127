"""Where the Explorer listens and whom it lets in: addresses, the printed URL, allowed page origins.

Pure logic (no server here), so ``atted-explore serve`` and its tests share it:

* the default ``localhost`` and any loopback address (``127.0.0.1``, ``::1``)
  keep the app on this machine; IPv6 literals are given bare or in brackets
  (``::1``, ``[::1]``) and printed in brackets (``http://[::1]:5006``);
* every interface is reached only when asked for by name: ``0.0.0.0`` (IPv4)
  or ``::`` (IPv6); an empty address is refused rather than silently meaning
  all interfaces (what the underlying server would do with it);
* the browser's page origin is checked on the websocket: the bound name, the
  loopback names, and each ``--allow-origin HOST[:PORT]`` (a reverse proxy's
  public name) are allowed; ``*`` is refused.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from .errors import InputError

#: addresses that listen on every interface of one IP family.
ALL_INTERFACES = {"0.0.0.0": "IPv4", "::": "IPv6"}
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
HOST_NAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")


def url_host(host: str) -> str:
    """``host`` as it appears in a URL: IPv6 literals in brackets."""
    return f"[{host}]" if ":" in host else host


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def bind_address(address: str) -> str:
    """The address to bind (brackets removed); InputError for an empty or malformed one."""
    given = address
    address = address.strip()
    if not address:
        raise InputError(
            f"--address {given!r}: empty; expected localhost (the default), a host name or IP address of this "
            "machine, or 0.0.0.0 / :: to listen on every interface on purpose"
        )
    if address.startswith("[") and address.endswith("]"):
        inner = address[1:-1]
        if not isinstance(_ip(inner), ipaddress.IPv6Address):
            raise InputError(f"--address {given!r}: brackets hold IPv6 addresses only (e.g. [::1])")
        return str(_ip(inner))
    ip = _ip(address)
    if ip is not None:
        return str(ip)
    if ":" in address:
        raise InputError(f"--address {given!r}: expected an address without a port; give the port with --port")
    if not HOST_NAME.match(address):
        raise InputError(f"--address {given!r}: not a host name or IP address")
    return address


def origin_host(value: str) -> str:
    """An ``--allow-origin`` value as the server compares it: ``host`` or ``host:port`` (IPv6 in brackets).

    A URL (``https://proxy.example.org``) is reduced to its host and port.
    """
    given = value
    value = value.strip()
    if "*" in value:
        raise InputError(
            f"--allow-origin {given!r}: wildcards would let pages of any site drive the app; "
            "name the host the browser shows (e.g. proxy.example.org or proxy.example.org:8443)"
        )
    parsed = urlsplit(value if "://" in value else f"//{value}")
    try:
        host, port = parsed.hostname, parsed.port
    except ValueError:
        raise InputError(f"--allow-origin {given!r}: the port is not a number from 1 to 65535") from None
    if not host or parsed.path not in ("", "/") or not (_ip(host) or HOST_NAME.match(host)):
        raise InputError(f"--allow-origin {given!r}: expected HOST or HOST:PORT (e.g. proxy.example.org:8443)")
    host = url_host(str(_ip(host)) if _ip(host) else host.lower())
    return f"{host}:{port}" if port else host


@dataclass(frozen=True)
class Listening:
    """Where a server listens: ``bind`` for the socket, ``url`` to print, ``origins`` to allow."""

    bind: str
    url: str
    origins: tuple[str, ...]
    every_interface: str | None  # "IPv4" / "IPv6" when listening on all interfaces of that family


def listening(address: str, port: int, allow_origins: tuple[str, ...] | list[str] = ()) -> Listening:
    """The bind address, printed URL and allowed websocket origins of a server on ``address:port``."""
    if not 0 < port < 65536:
        raise InputError(f"--port {port}: expected a port number from 1 to 65535")
    bind = bind_address(address)
    every = ALL_INTERFACES.get(bind)
    ip = _ip(bind)
    local = bind == "localhost" or (ip is not None and ip.is_loopback)
    if every:  # others reach the app by this machine's names
        names = [socket.getfqdn(), socket.gethostname()]
        shown = names[0]
    else:
        names = [url_host(bind)]
        shown = bind
    hosts = list(dict.fromkeys([*names, *(LOOPBACK_NAMES if local or every else ())]))
    origins = [f"{host}:{port}" for host in hosts]
    origins += [origin_host(value) for value in allow_origins]
    return Listening(
        bind=bind, url=f"http://{url_host(shown)}:{port}/", origins=tuple(dict.fromkeys(origins)), every_interface=every
    )
