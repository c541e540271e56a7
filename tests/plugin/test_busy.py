#!/usr/bin/env python3
"""A busy login process: its timers must not decide for bytes that came in
time.

Dovecot's ioloop runs the timeouts that expired before the sockets that
became ready in the same pass. A login process kept busy (TLS handshakes,
a burst of clients) past haproxy_direct_wait or haproxy_timeout finds, on
its next pass, both the expired timer and the bytes that arrived while it
was busy: the bytes decide, not the timer.

Each case connects, waits until the login process that accepted the
connection waits for it (the plugin has armed its timers and the process
sleeps until the first of them that could decide expires; see
headers.waiting_process()), stops that process (SIGSTOP), sends what the
case sends, sleeps past the timer and continues the process (SIGCONT). The
case checks that the process was stopped before the timer could expire,
and what the haproxy_header_finished event exported: result, diagnosis of
what came instead of a header, and a duration from accept to decision.
A header that a health check sends arms haproxy_direct_wait once it is
read: the close that came while the process was stopped makes it a
health check, where silence would make it a client. The same close that
comes at once, while the process waits, is the case of an idle server; it
is here for the wait, which leaves the test more time than the default's
200 ms.

Who connects (Dovecot listens on DOVECOT_IP):
- PROXY_IP: only in haproxy_trusted_networks, must send a header;
- MESH_IP: in both lists, may send a header or connect directly.

Every case runs with a long-lived imap-login and with imap-login in its
default mode, one client per process (from Dovecot 2.4.2 on the master
accepts that client before the process is up).

README: "Kubernetes and direct clients" (a busy login process: both
timers read the socket before they decide).
"""

import itertools
import re
import socket
import time

from headers import (DST, HEADER_FINISHED, Waiting, can_see_epoll_wait,
                     context_switches, header, header_finished, proxy_connect,
                     stopped, waiting_process)
from sandbox import (MESH_IP, PROXY_IP, Dovecot, Listener, Sandbox,
                     assert_login, dovecot_under_test, plugin_dir, recv_all,
                     unmet_requirements)
from tap import Tap

# haproxy_direct_wait and haproxy_timeout, in seconds. A login process may
# arm a timer of its own at the accept, 1 s long (master_status_update()),
# which may expire a millisecond before the plugin's: then there is no
# time to stop the process between the two. So neither is 1 s.
DIRECT_WAIT = 0.7
HEADER_TIMEOUT = 2
# How long after its timer expired a stopped process is continued: past
# it for certain, whatever the clocks' rounding. A busy machine may
# continue it much later: LATE, past the 100 ms and 1 s after which
# Dovecot takes the stop for the clock jumping (see "A stopped process"
# in headers.py); the timer under test still runs first.
PAST = 0.05
LATE = 1.2
SRC_IP = "198.51.100.7"
LOGIN = b"a LOGIN alice secret\r\nb LOGOUT\r\n"
# A TLS handshake record's header and the start of a ClientHello: what a
# proxy without send-proxy-v2 passes through from an IMAPS client.
CLIENT_HELLO = bytes.fromhex("16030100c4010000c00303")
SRC_PORTS = itertools.count(40001)  # a header's source port: one per case


def settings(dut):
    return (f"haproxy_direct_networks = {MESH_IP}\n"
            f"haproxy_direct_wait = {int(DIRECT_WAIT * 1000)}ms\n"
            "log_debug = category=haproxy\n"
            # Plaintext LOGIN on these connections, whatever their state.
            + dut.cleartext_auth()
            + dut.exported(HEADER_FINISHED))


def stop_and_send(dc, sock, began, timer, before=b"", while_stopped=b"",
                  armed_by_before=False, finish=False, past=PAST):
    """Once the login process waits for sock's connection, until its first
    timer that could decide expires (timer seconds after it was armed, at
    the accept or, armed_by_before, once the process has read before),
    and has looked at before (sent first, if any): stops it, sends
    while_stopped and, if finish, a FIN, and continues it past seconds
    after that timer expired."""
    listener = dc.listener("imap-proxy")
    waiting = waiting_process(dc, listener, sock, began,
                              timer=None if armed_by_before else timer)
    if before:
        slept = context_switches(waiting.pid)
        if armed_by_before:
            waiting = Waiting(waiting.pid, waiting.fd, time.monotonic(),
                              None)
        sock.sendall(before)
        waiting = waiting_process(dc, listener, sock, began, timer=timer,
                                  again=waiting, slept_since=slept)
    with stopped(waiting.pid) as stopped_at:
        # Dovecot counts from the armed millisecond, cut short.
        late = stopped_at - waiting.armed_after
        assert late < timer - 0.001, (f"the process was stopped {late:.3f} s "
                                      f"after arming a {timer} s timer: too "
                                      "late")
        if while_stopped:
            sock.sendall(while_stopped)
        if finish:
            sock.shutdown(socket.SHUT_WR)
        time.sleep(max(0.0, waiting.armed_by + timer + past
                       - time.monotonic()))


def session(sock):
    """Once the server has spoken (the plugin has decided: a peer's bytes
    sent now would come after the timer), a login and a logout; what the
    server sent, or the error (a connection the plugin closed may be
    reset)."""
    try:
        reply = sock.recv(4096)
        if reply:
            sock.sendall(LOGIN)
            reply += recv_all(sock)
        return reply
    except OSError as e:
        return e


def header_applied(dc, source, timer, version, split=None, past=PAST):
    """A header from source that arrives while the process is stopped (all
    of it, or from split on) is applied after the timer: its login has the
    header's address."""
    src_port = next(SRC_PORTS)
    data = header(*(["-1"] if version == "v1" else []),
                  "--src", f"{SRC_IP}:{src_port}", "--dst", DST)
    before, after = (b"", data) if split is None else \
        (data[:split], data[split:])
    mark = dc.log_mark()
    began = time.monotonic()
    with proxy_connect(dc.listener("imap-proxy"), source) as sock:
        port = sock.getsockname()[1]
        stop_and_send(dc, sock, began, timer, before, after, past=past)
        reply = session(sock)
    event = header_finished(dc, port, mark)
    assert event["result"] == "accepted", event
    dc.wait_for_log(
        rf"imap-login: Debug: haproxy: PROXY {version}: client "
        rf"{re.escape(SRC_IP)}:{src_port}, server {re.escape(DST)} "
        rf"\(rip={re.escape(source)}, rport={port}, listener=imap-proxy\)$",
        since=mark)
    assert b"\r\na OK " in reply, reply
    assert_login(dc.wait_for_login("alice", mark), rip=SRC_IP,
                 rport=src_port, real_rport=port)


def timed_out(dc):
    """A trusted-only peer silent past haproxy_timeout is cut off."""
    mark = dc.log_mark()
    began = time.monotonic()
    with proxy_connect(dc.listener("imap-proxy"), PROXY_IP) as sock:
        port = sock.getsockname()[1]
        stop_and_send(dc, sock, began, HEADER_TIMEOUT)
        reply = recv_all(sock)
    assert reply == b"", reply
    event = header_finished(dc, port, mark)
    assert (event["result"], event.get("diagnosis")) == \
        ("timeout", "silent"), event
    # Exported in microseconds: from the accept to the decision, which
    # came after the timer.
    assert event["duration"] >= HEADER_TIMEOUT * 1e6, event
    dc.wait_for_log(
        rf"imap-login: Error: haproxy: Timed out after {HEADER_TIMEOUT} "
        r"secs waiting for the PROXY header: nothing came, as from a proxy "
        r"that sends no PROXY header \(send-proxy-v2 on its server line\) "
        rf"\(rip={re.escape(PROXY_IP)}, "
        rf"rport={port}, listener=imap-proxy, received=0 bytes\)$",
        since=mark)


def rejected_late(dc):
    """A trusted-only peer whose ClientHello came while its login process
    was stopped past haproxy_timeout is rejected for what it sent, not
    timed out as if nothing had come."""
    mark = dc.log_mark()
    began = time.monotonic()
    with proxy_connect(dc.listener("imap-proxy"), PROXY_IP) as sock:
        port = sock.getsockname()[1]
        stop_and_send(dc, sock, began, HEADER_TIMEOUT,
                      while_stopped=CLIENT_HELLO)
        reply = session(sock)
    assert reply == b"" or isinstance(reply, ConnectionResetError), reply
    event = header_finished(dc, port, mark)
    assert (event["result"], event.get("error_code"),
            event.get("diagnosis")) == \
        ("rejected", "not_proxy", "tls_client_hello"), event
    assert event["duration"] >= HEADER_TIMEOUT * 1e6, event
    dc.wait_for_log(
        r"imap-login: Error: haproxy: Invalid PROXY header: a TLS "
        r"ClientHello came instead: the proxy sends no PROXY header "
        r"\(send-proxy-v2 on its server line\), or this client belongs in "
        rf"haproxy_direct_networks \(rip={re.escape(PROXY_IP)}, "
        rf'rport={port}, listener=imap-proxy, '
        rf'header="{CLIENT_HELLO.hex()}"\)$', since=mark)


def no_header(dc):
    """A peer in both lists silent past haproxy_direct_wait is a direct
    client."""
    mark = dc.log_mark()
    began = time.monotonic()
    with proxy_connect(dc.listener("imap-proxy"), MESH_IP) as sock:
        port = sock.getsockname()[1]
        stop_and_send(dc, sock, began, DIRECT_WAIT)
        reply = session(sock)
    event = header_finished(dc, port, mark)
    assert (event["result"], event.get("direct_reason")) == \
        ("direct", "no_header"), event
    dc.wait_for_log(
        r"imap-login: Debug: haproxy: Direct client: nothing sent within "
        rf"haproxy_direct_wait \(rip={re.escape(MESH_IP)}, rport={port}, "
        r"listener=imap-proxy\)$", since=mark)
    assert b"\r\na OK " in reply, reply
    assert_login(dc.wait_for_login("alice", mark), rip=MESH_IP, rport=port)


def check_closed(dc, version, busy):
    """A trusted-only peer's header of a health check (v2 LOCAL, v1 with the
    connection's own addresses), read while the peer was still connected,
    then its FIN: a health check, not a client waiting for its greeting.
    busy: the FIN comes while the login process is stopped past
    haproxy_direct_wait, whose timer must read the socket first; else once
    the process waits again after reading the header, as on an idle
    server."""
    listener = dc.listener("imap-proxy")
    mark = dc.log_mark()
    began = time.monotonic()
    with proxy_connect(listener, PROXY_IP) as sock:
        port = sock.getsockname()[1]
        data = header("--local") if version == "v2" else header(
            "-1", "--src", f"{PROXY_IP}:{port}",
            "--dst", f"{listener.address}:{listener.port}")
        if busy:
            stop_and_send(dc, sock, began, DIRECT_WAIT, before=data,
                          armed_by_before=True, finish=True)
        else:
            waiting = waiting_process(dc, listener, sock, began)
            slept = context_switches(waiting.pid)
            sock.sendall(data)
            waiting_process(dc, listener, sock, began, again=waiting,
                            slept_since=slept)
            sock.shutdown(socket.SHUT_WR)
        reply = recv_all(sock)
    assert reply == b"", reply
    event = header_finished(dc, port, mark)
    assert event["result"] == "health_check", event
    if busy:
        # Decided by the timer, which read the socket first.
        assert event["duration"] >= DIRECT_WAIT * 1e6, event


def cases(t, dc, mode):
    for version in ("v1", "v2"):
        with t.check(f"{mode}: a peer in both lists whose {version} header "
                     "came while its login process was stopped past "
                     "haproxy_direct_wait: the header is applied, not a "
                     "direct client"):
            header_applied(dc, MESH_IP, DIRECT_WAIT, version)
    with t.check(f"{mode}: a trusted-only peer whose header came while its "
                 "login process was stopped past haproxy_timeout: accepted, "
                 "not timed out"):
        header_applied(dc, PROXY_IP, HEADER_TIMEOUT, "v2")
    for who, source, timer, setting in (
            ("a peer in both lists", MESH_IP, DIRECT_WAIT,
             "haproxy_direct_wait"),
            ("a trusted-only peer", PROXY_IP, HEADER_TIMEOUT,
             "haproxy_timeout")):
        with t.check(f"{mode}: {who} whose header came while its login "
                     f"process was stopped past {setting}, continued "
                     f"{LATE} s late (Dovecot sees the clock jump): the "
                     "header is applied all the same"):
            header_applied(dc, source, timer, "v2", past=LATE)
    with t.check(f"{mode}: a trusted-only peer that sent part of its header, "
                 "and the rest while its login process was stopped past "
                 "haproxy_timeout: accepted"):
        header_applied(dc, PROXY_IP, HEADER_TIMEOUT, "v1", split=20)
    with t.check(f"{mode}: a trusted-only peer silent while its login "
                 "process was stopped past haproxy_timeout: timed out, "
                 "diagnosis silent, duration past the timer"):
        timed_out(dc)
    with t.check(f"{mode}: a trusted-only peer whose TLS ClientHello came "
                 "while its login process was stopped past haproxy_timeout: "
                 "rejected, diagnosis tls_client_hello, not a timeout"):
        rejected_late(dc)
    with t.check(f"{mode}: a peer in both lists silent while its login "
                 "process was stopped past haproxy_direct_wait: a direct "
                 "client, no_header"):
        no_header(dc)
    for version in ("v2", "v1"):
        with t.check(f"{mode}: a trusted-only peer's {version} header of a "
                     "health check, read, then its FIN: health_check, no "
                     "greeting"):
            check_closed(dc, version, busy=False)
        with t.check(f"{mode}: a trusted-only peer's {version} header of a "
                     "health check, read, then its FIN while its login "
                     "process was stopped past haproxy_direct_wait: "
                     "health_check, no greeting"):
            check_closed(dc, version, busy=True)


def main(t):
    dut = dovecot_under_test()
    with Sandbox() as sb:
        for name, mode, lines in dut.process_modes("imap-login"):
            dc = Dovecot(sb, [Listener("imap", "imap-proxy", haproxy=True)],
                         plugin_dir=plugin_dir(), name=name,
                         haproxy_trusted_networks=f"{PROXY_IP} {MESH_IP}",
                         haproxy_timeout=f"{HEADER_TIMEOUT}s",
                         extra_config=settings(dut) + lines)
            with dc:
                cases(t, dc, mode)


with Tap() as t:
    t.require(unmet_requirements(plugin=True, client=True))
    if not can_see_epoll_wait():
        t.skip_all("knows only x86_64's numbers of the epoll_wait calls")
    main(t)
