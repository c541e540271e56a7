#!/usr/bin/env python3
"""Helpers for the tests that send PROXY headers by hand.

The headers themselves come from the project's client, haproxy-connect
--print-header (make check names it in HAPROXY_CONNECT); a test only cuts,
delays or corrupts its bytes. The rest looks at the server side: what the
kernel still holds unread for Dovecot, which login processes run, and the
events a log exporter wrote.
"""

import json
import socket
import subprocess

from sandbox import (PROXY_IP, TIMEOUT, client_path, connect,
                     sandbox_processes)



def header(*options):
    """The bytes of haproxy-connect --print-header OPTIONS."""
    return subprocess.run([client_path(), "--print-header", *options],
                          check=True, capture_output=True,
                          timeout=TIMEOUT).stdout


def run_client(endpoint, *options, data=b"", source=PROXY_IP):
    """haproxy-connect OPTIONS from source to endpoint with data as its
    input; the finished process, output in .stdout."""
    return subprocess.run(
        [client_path(), "--bind", source, "--timeout", str(TIMEOUT),
         *options, endpoint.address, str(endpoint.port)],
        input=data, capture_output=True, timeout=2 * TIMEOUT)


def proxy_connect(endpoint, source=PROXY_IP):
    """A raw socket from the trusted proxy address; TCP_NODELAY makes each
    send() a segment of its own."""
    sock = connect(endpoint, source)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _hex_endpoint(address, port):
    """An IPv4 address and port as /proc/net/tcp prints them."""
    return "%08X:%04X" % (int.from_bytes(socket.inet_aton(address),
                                         "little"), port)


def unread_bytes(endpoint, socks):
    """For each client socket connected to endpoint, the bytes the server
    side has not read yet (its receive queue), or None if the kernel shows
    no such connection. 0 means Dovecot has consumed all we sent."""
    server = _hex_endpoint(endpoint.address, endpoint.port)
    queues = {}
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            fields = line.split()
            if fields[1] == server and fields[3] == "01":  # ESTABLISHED
                queues[fields[2]] = int(fields[4].split(":")[1], 16)
    return [queues.get(_hex_endpoint(*s.getsockname())) for s in socks]


def login_pids(dovecot, service="imap-login"):
    """Pids of the login processes of this Dovecot."""
    pids = []
    for pid in sandbox_processes(dovecot.dir, dovecot.pid):
        try:
            with open(f"/proc/{pid}/comm") as f:
                if f.read().strip() == service:
                    pids.append(pid)
        except OSError:  # exited meanwhile
            pass
    return sorted(pids)


def exported_event(dovecot, name, pattern=".*", since=0):
    """The first event called name exported to the log after offset
    since whose JSON matches regex pattern, waiting for it; as a dict.
    The Dovecot needs a json_log_exporter() (sandbox.Dovecot23)."""
    match = dovecot.wait_for_log(
        r'^.* stats: Info: (\{"event":"%s",%s\})$' % (name, pattern),
        since=since)
    return json.loads(match.group(1))
