#!/usr/bin/env python3
"""A peer that shuts down its sending side (a FIN, the socket half
closed) while part of a PROXY header waits in the socket.

A peer in both haproxy_trusted_networks and haproxy_direct_networks that
has sent part of a signature ("P", the first bytes of v2's) has those
bytes left in the socket: they may yet turn out to be a direct client's.
Linux reports a half-closed socket as readable on every poll, whatever
SO_RCVLOWAT says, and a peek returns the same bytes again: unless the
plugin notices the FIN itself, the login process spins until
haproxy_timeout. A trusted-only peer's bytes are taken as they come, so
its FIN is a plain end of file; it is here for comparison.

Each case waits until the login process that holds the connection has
looked at the partial header and sleeps, sends the FIN, and checks that
the server closes the connection within a fraction of a second, far
before haproxy_timeout, with the one error line and event of a
connection closed in the middle of its header, and that the login
process spent next to no CPU time on it (utime + stime from
/proc/PID/stat). On a busy machine haproxy_timeout may run before the
socket's io: a last case sends the FIN while the login process is
stopped (SIGSTOP) and continues it past the timeout. Every case runs with
a long-lived imap-login and with imap-login in its default mode, one
client per process.

README: "Kubernetes and direct clients" (a peer in both lists that has
sent part of a signature) and "Logs and events" (result disconnected).
"""

import re
import select
import socket
import time

from headers import (HEADER_FINISHED, can_see_epoll_wait, context_switches,
                     cpu_seconds, header_finished, proxy_connect, stopped,
                     waiting_process)
from sandbox import (PROXY_IP, Dovecot, Listener, Sandbox, recv_all,
                     dovecot_under_test, plugin_dir, unmet_requirements)
from tap import Tap

MESH_IP = "127.0.0.11"
HEADER_TIMEOUT = 4
# How soon after the FIN the server must have closed, in seconds: a
# fraction of haproxy_timeout, with room for a loaded machine.
CLOSED_WITHIN = 1.0
# The most CPU time the login process may spend meanwhile, in seconds; a
# spinning one spends about haproxy_timeout.
CPU_BOUND = 0.1
# How long after haproxy_timeout expired a stopped login process is
# continued (see "A stopped process" in headers.py).
PAST = 0.05
V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"


def looked_at(dc, listener, sock, began, sent, timer=None):
    """Sends sent once the login process waits for sock's connection, and
    returns its Waiting once it has looked at them and sleeps again (until
    timer, if given)."""
    waiting = waiting_process(dc, listener, sock, began)
    slept = context_switches(waiting.pid)
    sock.sendall(sent)
    return waiting_process(dc, listener, sock, began, timer=timer,
                           again=waiting, slept_since=slept)


def half_close(dc, source, sent):
    """Connects from source, sends sent once the login process waits for
    the connection, and shuts down our side once it has looked at them.
    Returns (our port, seconds from the FIN to the server's close, CPU
    seconds the login process spent from before the FIN to the close, as
    far as it lived)."""
    listener = dc.listener("imap-proxy")
    began = time.monotonic()
    with proxy_connect(listener, source) as sock:
        port = sock.getsockname()[1]
        waiting = looked_at(dc, listener, sock, began, sent)
        cpu_before = cpu_seconds(waiting.pid)
        cpu_after = cpu_before
        sock.shutdown(socket.SHUT_WR)
        fin = time.monotonic()
        deadline = fin + HEADER_TIMEOUT + 2
        # Sample the process's CPU time until the server closes: a login
        # process that serves one client exits right after.
        while time.monotonic() < deadline:
            cpu_after = cpu_seconds(waiting.pid) or cpu_after
            if select.select([sock], [], [], 0.01)[0]:
                try:
                    if sock.recv(4096) == b"":
                        break
                except ConnectionResetError:
                    break
        closed = time.monotonic()
        cpu_after = cpu_seconds(waiting.pid) or cpu_after
    return port, closed - fin, cpu_after - cpu_before


def closed_in_the_middle(dc, source, port, sent, mark):
    """The one error line and event of a connection closed in the middle
    of its header."""
    event = header_finished(dc, port, mark)
    assert (event["result"], event["error_code"]) == \
        ("disconnected", "disconnected"), event
    dc.wait_for_log(
        r"imap-login: Error: haproxy: Connection closed in the middle of "
        rf"the PROXY header \(rip={re.escape(source)}, rport={port}, "
        rf"listener=imap-proxy, received={len(sent)} bytes\)$", since=mark)


def fin_while_stopped(dc, source, sent):
    """The FIN comes while the login process is stopped, and the process
    is continued once haproxy_timeout has expired: the timer, which runs
    before the socket's io, finds the FIN, not an incomplete header."""
    listener = dc.listener("imap-proxy")
    mark = dc.log_mark()
    began = time.monotonic()
    with proxy_connect(listener, source) as sock:
        port = sock.getsockname()[1]
        waiting = looked_at(dc, listener, sock, began, sent,
                            timer=HEADER_TIMEOUT)
        with stopped(waiting.pid):
            sock.shutdown(socket.SHUT_WR)
            time.sleep(max(0.0, waiting.armed_by + HEADER_TIMEOUT + PAST
                           - time.monotonic()))
        assert recv_all(sock) == b""
    closed_in_the_middle(dc, source, port, sent, mark)


def closed_early(dc, source, sent):
    """The FIN after sent ends the connection at once, as closed in the
    middle of the header, at no CPU cost."""
    mark = dc.log_mark()
    port, seconds, cpu = half_close(dc, source, sent)
    assert seconds < CLOSED_WITHIN and cpu < CPU_BOUND, \
        f"closed {seconds:.3f} s after the FIN (haproxy_timeout " \
        f"{HEADER_TIMEOUT} s), the login process spent {cpu:.2f} s of CPU"
    closed_in_the_middle(dc, source, port, sent, mark)
    return seconds, cpu


def cases(t, dc, mode):
    for what, source, sent in (
            ("a peer in both lists that sent 'P'", MESH_IP, b"P"),
            ("a peer in both lists that sent 'PROXY'", MESH_IP, b"PROXY"),
            ("a peer in both lists that sent 5 bytes of the v2 signature",
             MESH_IP, V2_SIGNATURE[:5]),
            ("a peer in both lists that sent 11 bytes of the v2 signature",
             MESH_IP, V2_SIGNATURE[:11]),
            ("a trusted-only peer that sent 'PROXY TCP4 '", PROXY_IP,
             b"PROXY TCP4 ")):
        with t.check(f"{mode}: {what}, then a FIN: closed at once, in the "
                     "middle of the header, no CPU spent"):
            seconds, cpu = closed_early(dc, source, sent)
            t.diag(f"closed {seconds * 1000:.0f} ms after the FIN, "
                   f"{cpu:.2f} s of CPU")
    with t.check(f"{mode}: a peer in both lists that sent 'P', then a FIN "
                 "while its login process was stopped past haproxy_timeout: "
                 "closed in the middle of the header, not timed out"):
        fin_while_stopped(dc, MESH_IP, b"P")


def main(t):
    dut = dovecot_under_test()
    with Sandbox() as sb:
        for name, mode, lines in dut.process_modes("imap-login"):
            dc = Dovecot(sb, [Listener("imap", "imap-proxy", haproxy=True)],
                         plugin_dir=plugin_dir(), name=name,
                         haproxy_trusted_networks=f"{PROXY_IP} {MESH_IP}",
                         haproxy_timeout=f"{HEADER_TIMEOUT}s",
                         extra_config=f"haproxy_direct_networks = {MESH_IP}\n"
                         "haproxy_direct_wait = 3s\n"
                         "log_debug = category=haproxy\n"
                         + dut.exported(HEADER_FINISHED) + lines)
            with dc:
                cases(t, dc, mode)


with Tap() as t:
    t.require(unmet_requirements(plugin=True))
    if not can_see_epoll_wait():
        t.skip_all("knows only x86_64's numbers of the epoll_wait calls")
    main(t)
