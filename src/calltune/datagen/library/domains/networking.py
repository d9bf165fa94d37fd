"""Networking: IPv4 addresses and CIDR blocks, subnet masks, well-known ports and URLs."""

from __future__ import annotations

import ipaddress
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ....tools import tool
from ._checks import not_empty

DOMAIN = "networking"


def _network(cidr: str) -> ipaddress.IPv4Network:
    try:
        return ipaddress.IPv4Network(cidr.strip(), strict=False)
    except ValueError as e:
        raise ValueError(f"not an IPv4 network in CIDR notation: {cidr!r} ({e})") from e


def _address(ip: str) -> ipaddress.IPv4Address:
    try:
        return ipaddress.IPv4Address(ip.strip())
    except ValueError as e:
        raise ValueError(f"not an IPv4 address: {ip!r}") from e


@tool
def cidr_block_details(cidr: str) -> dict:
    """Network address, broadcast address, mask and usable host range of an IPv4 CIDR block.

    Args:
        cidr: The block in CIDR notation (address/prefix length).
    """
    net = _network(cidr)
    hosts = net.num_addresses - 2 if net.prefixlen < 31 else net.num_addresses
    first = net.network_address + (1 if net.prefixlen < 31 else 0)
    last = net.broadcast_address - (1 if net.prefixlen < 31 else 0)
    return {
        "network": str(net.network_address),
        "broadcast": str(net.broadcast_address),
        "netmask": str(net.netmask),
        "prefix_length": net.prefixlen,
        "usable_hosts": hosts,
        "first_host": str(first),
        "last_host": str(last),
    }


@tool
def subnet_mask_for_prefix(prefix_length: int) -> dict:
    """Dotted subnet mask and wildcard mask for an IPv4 prefix length.

    Args:
        prefix_length: Prefix length from 0 to 32.
    """
    if not 0 <= prefix_length <= 32:
        raise ValueError(f"prefix_length must be between 0 and 32, got {prefix_length}")
    net = ipaddress.IPv4Network(f"0.0.0.0/{prefix_length}")
    return {"netmask": str(net.netmask), "wildcard": str(net.hostmask), "addresses": net.num_addresses}


@tool
def smallest_prefix_for_hosts(host_count: int) -> dict:
    """The longest IPv4 prefix (smallest subnet) that still has room for a number of hosts.

    Args:
        host_count: Usable host addresses needed.
    """
    if not 1 <= host_count <= 2**32 - 2:
        raise ValueError(f"host_count must be between 1 and {2**32 - 2}, got {host_count}")
    bits = max(2, (host_count + 1).bit_length())  # network and broadcast addresses are not usable
    prefix = 32 - bits
    return {
        "prefix_length": prefix,
        "netmask": str(ipaddress.IPv4Network(f"0.0.0.0/{prefix}").netmask),
        "usable_hosts": 2**bits - 2,
    }


@tool
def prefix_length_for_mask(netmask: str) -> dict:
    """The CIDR prefix length of a dotted IPv4 subnet mask.

    Args:
        netmask: The subnet mask in dotted-decimal form.
    """
    try:
        net = ipaddress.IPv4Network(f"0.0.0.0/{netmask.strip()}")
    except ValueError as e:
        raise ValueError(f"not a valid subnet mask: {netmask!r}") from e
    return {"prefix_length": net.prefixlen}


@tool
def ip_in_network(ip: str, cidr: str) -> dict:
    """Whether an IPv4 address lies inside a CIDR block.

    Args:
        ip: The IPv4 address.
        cidr: The block in CIDR notation.
    """
    return {"inside": _address(ip) in _network(cidr)}


@tool
def split_network_into_subnets(cidr: str, new_prefix: int, limit: int = 16) -> dict:
    """Divide an IPv4 block into equal subnets with a longer prefix.

    Args:
        cidr: The block to divide, in CIDR notation.
        new_prefix: Prefix length of each subnet; longer than the block's own.
        limit: Most subnets to list.
    """
    net = _network(cidr)
    if not net.prefixlen < new_prefix <= 32:
        raise ValueError(f"new_prefix must be between {net.prefixlen + 1} and 32, got {new_prefix}")
    count = 2 ** (new_prefix - net.prefixlen)
    subnets = []
    for sub in net.subnets(new_prefix=new_prefix):
        if len(subnets) >= limit:
            break
        subnets.append(str(sub))
    return {"subnet_count": count, "subnets": subnets}


@tool
def summarize_address_range(first_ip: str, last_ip: str) -> dict:
    """The smallest list of CIDR blocks that covers exactly a range of IPv4 addresses.

    Args:
        first_ip: First address of the range.
        last_ip: Last address of the range.
    """
    first, last = _address(first_ip), _address(last_ip)
    if last < first:
        raise ValueError("last_ip comes before first_ip")
    return {"blocks": [str(n) for n in ipaddress.summarize_address_range(first, last)]}


@tool
def ipv4_address_facts(ip: str) -> dict:
    """Facts about one IPv4 address: integer and binary forms, and whether it is private, loopback or multicast.

    Args:
        ip: The IPv4 address.
    """
    a = _address(ip)
    return {
        "integer": int(a),
        "binary": ".".join(f"{b:08b}" for b in a.packed),
        "private": a.is_private,
        "loopback": a.is_loopback,
        "multicast": a.is_multicast,
        "reserved": a.is_reserved,
    }


# a small fixed table of well-known ports (IANA assignments)
_PORTS = {
    ("tcp", 20): "ftp-data", ("tcp", 21): "ftp", ("tcp", 22): "ssh", ("tcp", 23): "telnet",
    ("tcp", 25): "smtp", ("udp", 53): "dns", ("tcp", 53): "dns", ("udp", 67): "dhcp",
    ("tcp", 80): "http", ("tcp", 110): "pop3", ("udp", 123): "ntp", ("tcp", 143): "imap",
    ("udp", 161): "snmp", ("tcp", 443): "https", ("tcp", 465): "smtps", ("tcp", 587): "submission",
    ("tcp", 993): "imaps", ("tcp", 3306): "mysql", ("tcp", 3389): "rdp", ("tcp", 5432): "postgresql",
    ("tcp", 6379): "redis", ("tcp", 8080): "http-alt", ("tcp", 27017): "mongodb",
}  # fmt: skip


@tool
def service_for_port(port: int, protocol: Literal["tcp", "udp"] = "tcp") -> dict:
    """The well-known service on a port number (from a small fixed offline table).

    Args:
        port: Port number.
        protocol: Transport protocol.
    """
    if not 0 <= port <= 65535:
        raise ValueError(f"port must be between 0 and 65535, got {port}")
    name = _PORTS.get((protocol, port))
    if name is None:
        raise ValueError(f"no well-known service for {protocol} port {port} in the table")
    return {"service": name, "port": port, "protocol": protocol}


@tool
def ports_for_service(service: str) -> dict:
    """The port numbers and protocols a well-known service uses (from a small fixed offline table).

    Args:
        service: Service name.
    """
    wanted = service.strip().lower()
    hits = [
        {"port": p, "protocol": proto}
        for (proto, p), name in sorted(_PORTS.items(), key=lambda kv: (kv[0][1], kv[0][0]))
        if name == wanted
    ]
    if not hits:
        raise ValueError(f"unknown service {service!r}; known: {', '.join(sorted(set(_PORTS.values())))}")
    return {"service": wanted, "ports": hits}


@tool
def parse_url_components(url: str) -> dict:
    """Split a URL into scheme, host, port, path, query parameters and fragment.

    Args:
        url: The absolute URL.
    """
    parts = urlsplit(url.strip())
    if not parts.scheme or not parts.netloc:
        raise ValueError(f"not an absolute URL: {url!r}")
    try:
        port = parts.port
    except ValueError as e:
        raise ValueError(f"bad port in {url!r}") from e
    return {
        "scheme": parts.scheme,
        "host": parts.hostname,
        "port": port,
        "path": parts.path or "/",
        "query": dict(parse_qsl(parts.query)),
        "fragment": parts.fragment,
    }


@tool
def add_query_parameters(url: str, params: dict[str, str], replace_existing: bool = True) -> str:
    """Add query parameters to a URL, encoding them properly.

    Args:
        url: The absolute URL.
        params: Parameter names and values to add.
        replace_existing: Overwrite parameters the URL already has with the same name.
    """
    not_empty(params=params)
    parts = urlsplit(url.strip())
    if not parts.scheme or not parts.netloc:
        raise ValueError(f"not an absolute URL: {url!r}")
    query = parse_qsl(parts.query)
    if replace_existing:
        query = [(k, v) for k, v in query if k not in params]
    query += list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


TOOLS = [
    cidr_block_details,
    subnet_mask_for_prefix,
    smallest_prefix_for_hosts,
    prefix_length_for_mask,
    ip_in_network,
    split_network_into_subnets,
    summarize_address_range,
    ipv4_address_facts,
    service_for_port,
    ports_for_service,
    parse_url_components,
    add_query_parameters,
]
