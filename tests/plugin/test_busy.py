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

Who connects (Dovecot listens on DOVECOT_IP):
- PROXY_IP: only in haproxy_trusted_networks, must send a header;
- MESH_IP: in both lists, may send a header or connect directly.

Every case runs with a long-lived imap-login and with imap-login in its
default mode, one client per process (from Dovecot 2.4.2 on the master
accepts that client before the process is up).
"""

import itertools
import re
import time

from headers import (can_see_epoll_wait, context_switches, header,
                     header_finished, proxy_connect, stopped,
                     waiting_process)
from sandbox import (PROXY_IP, Dovecot, Listener, Sandbox, assert_login,
                     dovecot_under_test, plugin_dir, recv_all,
                     unmet_requirements)
from tap import Tap

MESH_IP = "127.0.0.11"
# haproxy_direct_wait and haproxy_timeout, in seconds. A login process may
# arm a timer of its own at the accept, 1 s long (master_status_update()),
# which may expire a millisecond before the plugin's: then there is no
# time to stop the process between the two. So neither is 1 s.
DIRECT_WAIT = 0.7
HEADER_TIMEOUT = 2
# How long after its timer expired a stopped process is continued: past
# it for certain, and soon enough for Dovecot not to take the stop for the
# clock jumping (see "A stopped process" in headers.py).
PAST = 0.05
SRC_IP, DST = "198.51.100.7", "127.0.0.3:143"
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
            + dut.metric("haproxy_finished", "event=haproxy_header_finished",
                         exporter="json_log")
            + dut.json_log_exporter("json_log"))


def stop_and_send(dc, sock, began, timer, before=b"", while_stopped=b""):
    """Once the login process waits for sock's connection, until its first
    timer that could decide expires (timer seconds after it was armed),
    and has looked at before (sent first, if any): stops it, sends
    while_stopped, and continues it PAST seconds after that timer
    expired."""
    listener = dc.listener("imap-proxy")
    waiting = waiting_process(dc, listener, sock, began, timer=timer)
    if before:
        slept = context_switches(waiting.pid)
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
        time.sleep(max(0.0, waiting.armed_by + timer + PAST
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


def header_applied(dc, source, timer, version, split=None):
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
        stop_and_send(dc, sock, began, timer, before, after)
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
