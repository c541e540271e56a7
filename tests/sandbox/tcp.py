#!/usr/bin/env python3
"""What the kernel shows of the machine's TCP sockets, from /proc/net/tcp
and /proc/net/tcp6: which endpoints listen, how many connections wait in a
listener's accept queue, how many bytes the server side of a connection
has not read yet, and the inode that tells which process holds it.
Reading the tables leaves no trace in the servers' logs, as connecting
would.

Endpoints are (address, port) pairs or anything with .address and .port
(sandbox.Endpoint, Listener); a client socket stands for the connection
it made.
"""

import socket
import struct
from dataclasses import dataclass

LISTEN, ESTABLISHED = "0A", "01"   # the tables' st column


@dataclass(frozen=True)
class TcpSocket:
    local: tuple      # (address, port), the address as inet_ntop writes it
    remote: tuple
    state: str        # LISTEN, ESTABLISHED, ...: the kernel's code in hex
    # Bytes received and not read yet; for a listening socket, the
    # connections that wait to be accepted.
    rx_queue: int
    inode: int        # 0 while no file has it (a connection not accepted)


def _address(hexaddr, family):
    """An address as the tables print it: each 32-bit word in host byte
    order."""
    words = len(hexaddr) // 8
    raw = struct.pack(f"={words}I", *(int(hexaddr[i:i + 8], 16)
                                      for i in range(0, 8 * words, 8)))
    return socket.inet_ntop(family, raw)


def _endpoint(text, family):
    hexaddr, hexport = text.split(":")
    return _address(hexaddr, family), int(hexport, 16)


def sockets():
    """Every TCP socket of this network namespace."""
    found = []
    for table, family in (("tcp", socket.AF_INET), ("tcp6", socket.AF_INET6)):
        with open("/proc/net/" + table) as f:
            next(f)
            for line in f:
                fields = line.split()
                found.append(TcpSocket(
                    _endpoint(fields[1], family), _endpoint(fields[2], family),
                    fields[3], int(fields[4].split(":")[1], 16),
                    int(fields[9])))
    return found


def endpoint(where):
    """(address, port) of where, the address written as the tables are
    decoded."""
    if isinstance(where, tuple):
        address, port = where[:2]
    elif isinstance(where, socket.socket):
        address, port = where.getsockname()[:2]
    else:
        address, port = where.address, where.port
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    return socket.inet_ntop(family, socket.inet_pton(family, address)), port


def listening():
    """Every (address, port) that listens."""
    return {s.local for s in sockets() if s.state == LISTEN}


def _listener(where):
    """The TcpSocket that listens on where, or None."""
    local = endpoint(where)
    for s in sockets():
        if s.local == local and s.state == LISTEN:
            return s
    return None


def listener_inode(listener):
    """The inode of the socket that listens on listener; 0 if none does."""
    side = _listener(listener)
    return side.inode if side else 0


def accept_queue(listener):
    """How many connections to listener wait to be accepted."""
    side = _listener(listener)
    assert side is not None, f"{listener} does not listen"
    return side.rx_queue


def _server_sides(server, closing=False):
    """{client endpoint: TcpSocket} of the established connections to
    server, seen from the server's side; with closing, also of those that
    a side has begun to close."""
    local = endpoint(server)
    return {s.remote: s for s in sockets()
            if s.local == local and s.state != LISTEN
            and (closing or s.state == ESTABLISHED)}


def unread_bytes(server, socks):
    """For each client socket connected to server, the bytes the server
    side has not read yet (its receive queue), or None if the kernel shows
    no such connection. 0 means the server has consumed all we sent."""
    sides = _server_sides(server)
    return [getattr(sides.get(endpoint(s)), "rx_queue", None) for s in socks]


def unread_from(server, address):
    """The receive queues of the connections from address to server that
    the server side has not read yet, accepted or not."""
    address = endpoint((address, 0))[0]
    return [s.rx_queue for client, s in _server_sides(server).items()
            if client[0] == address]


def server_inode(server, sock):
    """The inode of the server's end of sock's connection to server; 0
    while it waits in the listen queue (no file has it yet)."""
    side = _server_sides(server, closing=True).get(endpoint(sock))
    return side.inode if side else 0
