#!/usr/bin/env python3
"""HAProxy health checks with check-send-proxy: v2 sends a LOCAL header,
v1 (HAProxy 2.6) a TCP4 line with the check connection's own addresses,
and HAProxy resets the connection right after it. A connection that a
check would make (v2 LOCAL, or v1/v2 whose addresses are the connection's
own) and that closes or resets without sending a byte is a health check:
its haproxy_header_finished event says result=health_check and it gets no
login client, whether its close came before or after the login process
read its header. One that sends a byte, or waits for the greeting as
IMAP, POP3 and SMTP clients do, is a client: accepted, its greeting once
haproxy_direct_wait (200 ms by default) has passed in silence.

The checks run as every HAProxy setup has them, against an idle server:
every 100 ms, against a long-lived login process and against login
processes in their default mode, one client each (from Dovecot 2.4.2 on
the master accepts that client itself before the process is up, and a
layer 4 check has reset the connection by then). A metric grouped by
listener and result is read with doveadm stats dump while they come, as
a dashboard would: every one of at least CHECKS checks of each kind and
mode must be a health_check, none accepted. A layer 7 check
(tcp-check expect string "* OK") waits for the greeting as a client does,
gets it, and keeps its server UP.

Each backend has a listener of its own, so the metric and the log tell
the checks apart. Hand-made connections from the proxy's address test the
edges: a close while the login process was stopped (so that it has come
when the process reads the header), a client that waits for its greeting,
and one that sends its command and half-closes at once. test_busy has the
close that comes after the header was read, with a longer wait.

README: "Configure" (health checks: when a connection is counted as one),
"What Dovecot 2.4 does differently" (the master accepts) and "Logs and
events" (result health_check).
"""

import socket
import struct
import time

from headers import (can_see_epoll_wait, header, header_finished,
                     login_pids, proxy_connect, stopped, waiting_process)
from sandbox import (CLIENT_IP, PASSWORD, PROXY_IP, TIMEOUT, Dovecot,
                     HAProxy, IMAP, Listener, Sandbox, assert_login,
                     dovecot_under_test, plugin_dir, recv_all,
                     unmet_requirements, wait_until)
from tap import Tap
from tcp import accept_queue

INTER = 0.1  # seconds between two checks of a server
CHECK = f"check check-send-proxy inter {int(INTER * 1000)}ms"
CHECKS = 50  # layer 4 checks of each kind and mode to count at least
# haproxy_direct_wait's default: how long the proxy's own connection may
# stay silent after its header before it is served as a client.
WAIT = 0.2

# kind: (server options, backend lines, the check status HAProxy must
# report). Layer 4 checks close right after the header; the layer 7 one
# also expects IMAP's greeting.
KINDS = {
    "v2": ("send-proxy-v2 " + CHECK, (), "L4OK"),
    "v1": ("send-proxy " + CHECK, (), "L4OK"),
    "greeting": ("send-proxy-v2 " + CHECK,
                 ("option tcp-check", 'tcp-check expect string "* OK"'),
                 "L7OK"),
}
LAYER4 = [kind for kind, (_, _, status) in KINDS.items() if status == "L4OK"]
# Hand-made connections of the proxy go to a listener of their own.
HAND = "imap-hand"
LOGIN = b"a LOGIN alice secret\r\nb LOGOUT\r\n"


def settings(dut):
    """The metric that tells checks from clients, per listener, and the
    events of hand-made connections exported; plaintext LOGIN for the
    hand-made clients, whose connections are not proxied."""
    return ("log_debug = category=haproxy\n"
            + dut.cleartext_auth()
            + dut.metric("haproxy_checks", "event=haproxy_header_finished",
                         group_by=("listener", "result"))
            + dut.exported(("haproxy_hand", "event=haproxy_header_finished "
                            f"AND listener={HAND}")))


def listener_name(kind):
    return f"imap-{kind}"


def results(dc, listener):
    """{result: count} of the listener's haproxy_header_finished events, as
    doveadm stats dump shows them."""
    prefix = f"haproxy_checks_{listener}_"
    return {metric[len(prefix):]: count for metric, count in
            dc.metric_counts("haproxy_checks_").items()
            if metric.startswith(prefix)}


def watch_checks(t, dcs):
    """Reads every Dovecot's metric while HAProxy checks, as a dashboard
    would, until each layer 4 listener has counted CHECKS results; every
    reading must show health checks only."""
    readings = {(mode, kind): [] for mode in dcs for kind in LAYER4}

    def counted():
        for mode, dc in dcs.items():
            for kind in LAYER4:
                readings[mode, kind].append(results(dc, listener_name(kind)))
        return all(sum(got[-1].values()) >= CHECKS
                   for got in readings.values())

    # HAProxy checks each server every INTER seconds at most.
    wait_until(counted, timeout=CHECKS * INTER * 4 + TIMEOUT, interval=0.5)
    for (mode, kind), got in readings.items():
        wrong = [reading for reading in got if set(reading) -
                 {"health_check"}]
        t.ok(got[-1].get("health_check", 0) >= CHECKS and not wrong,
             f"{mode}: {kind} checks against an idle server: at least "
             f"{CHECKS}, every one result=health_check, none accepted, in "
             f"each of {len(got)} readings of doveadm stats dump",
             f"last reading {got[-1]}; readings with other results: "
             f"{wrong[:3]}")
    # How long the checks took from the accept to their close.
    for mode, dc in dcs.items():
        for row in dc.stats_dump():
            for kind in LAYER4:
                if (row["metric_name"], row["field"]) == (
                        f"haproxy_checks_{listener_name(kind)}_health_check",
                        "duration"):
                    t.diag(f"{mode}: {kind}: {row['count']} health checks, "
                           f"{row['avg']} us on average from the accept to "
                           f"the close, at most {row['max']} us")


def check_servers(t, dc, mode, hap, fronts, context):
    """HAProxy has every server UP, and a login through each shows the
    client's address."""
    for kind, (_, _, status) in KINDS.items():
        backend = f"{mode}-{kind}"
        stat = hap.stats(backend, "s1")
        got = {k: stat[k] for k in ("status", "check_status", "chkfail")}
        # "* L7OK": the last check's status, another check under way.
        got["check_status"] = got["check_status"].lstrip("* ")
        t.eq(got, {"status": "UP", "check_status": status, "chkfail": "0"},
             f"{mode}: {kind}: HAProxy has the server UP, last check "
             f"{status}, no check failed")
        if status == "L7OK":
            # The greeting came once haproxy_direct_wait had passed.
            t.diag(f"{mode}: {kind}: the last check took "
                   f"{stat['check_duration']} ms")
        with t.check(f"{mode}: {kind}: a login through the checked server "
                     "shows the client's address"):
            mark = dc.log_mark()
            with IMAP(fronts[backend]) as imap:
                imap.starttls(context)
                imap.login("alice", PASSWORD)
            assert_login(dc.wait_for_login("alice", mark), rip=CLIENT_IP,
                         real_rip=PROXY_IP, listener=listener_name(kind))


def own_header(sock, listener, v1):
    """A header a health check sends on sock: v2 LOCAL, or v1 with the
    connection's own addresses."""
    if not v1:
        return header("--local")
    return header("-1", "--src", "%s:%d" % sock.getsockname(), "--dst",
                  f"{listener.address}:{listener.port}")


def reset(sock):
    """Close sock with a RST, as HAProxy closes its checks."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                    struct.pack("ii", 1, 0))
    sock.close()


def closed_while_stopped(dc, data, rst):
    """data from the proxy, and its close or reset, while the login process
    that waits for the connection is stopped: the close is there when the
    process reads the header. The event, once the debug line of a health
    check is checked."""
    listener = dc.listener(HAND)
    mark = dc.log_mark()
    began = time.monotonic()
    sock = proxy_connect(listener)
    try:
        port = sock.getsockname()[1]
        waiting = waiting_process(dc, listener, sock, began)
        with stopped(waiting.pid):
            sock.sendall(data(sock))
            if rst:
                reset(sock)
            sock.close()
    finally:
        sock.close()
    event = header_finished(dc, port, mark)
    if event["result"] == "health_check":
        dc.wait_for_log(
            r"Debug: haproxy: Health check: the proxy closed its "
            rf"connection after the PROXY v{event['version']}"
            rf"{' LOCAL' if event['command'] == 'local' else ''} header "
            rf"\(rip={PROXY_IP}, rport={port}, listener={HAND}\)$",
            since=mark)
    return event


def waits_for_greeting(dc, v1):
    """A client from the proxy's address that sends the proxy's own header,
    then waits for the greeting, then logs in: accepted once
    haproxy_direct_wait has passed."""
    listener = dc.listener(HAND)
    mark = dc.log_mark()
    with proxy_connect(listener) as sock:
        port = sock.getsockname()[1]
        sock.sendall(own_header(sock, listener, v1))
        greeting = sock.recv(4096)
        assert greeting.startswith(b"* OK "), greeting
        sock.sendall(LOGIN)
        reply = greeting + recv_all(sock)
    assert b"\r\na OK " in reply, reply
    event = header_finished(dc, port, mark)
    assert event["result"] == "accepted", event
    # Exported in microseconds: from the accept to the decision, which
    # came after the wait (Dovecot's timers may run a millisecond early).
    assert event["duration"] >= (WAIT - 0.001) * 1e6, event
    assert_login(dc.wait_for_login("alice", mark), rip=PROXY_IP, rport=port,
                 real_rip=PROXY_IP, listener=HAND)


def half_closed_client(dc):
    """A client from the proxy's address that sends the LOCAL header and a
    command in one segment, then half-closes: a client, served at once.
    A login process just started may not have its auth connection yet:
    imap-login then greets with "Waiting for authentication process" and,
    the client having closed its side, drops the command unanswered, on
    any listener; otherwise the command is answered."""
    listener = dc.listener(HAND)
    mark = dc.log_mark()
    with proxy_connect(listener) as sock:
        port = sock.getsockname()[1]
        sock.sendall(header("--local") + b"a CAPABILITY\r\n")
        sock.shutdown(socket.SHUT_WR)
        reply = recv_all(sock)
    assert reply.startswith(b"* OK "), reply
    if b"Waiting for authentication process" not in reply.split(b"\r\n")[0]:
        assert b"\r\na OK " in reply, reply
    event = header_finished(dc, port, mark)
    assert event["result"] == "accepted", event


def hand_made(t, dc, mode):
    """Connections made by hand from the proxy's address."""
    for v1, rst, what in ((False, False, "v2 LOCAL, then FIN"),
                          (True, True, "v1 with the connection's own "
                           "addresses, then RST")):
        with t.check(f"{mode}: a hand-made check, {what} while the login "
                     "process is stopped: result=health_check"):
            event = closed_while_stopped(
                dc, lambda sock, v1=v1: own_header(sock, dc.listener(HAND),
                                                   v1), rst)
            assert (event["result"], event["version"],
                    event["command"]) == ("health_check", 1 if v1 else 2,
                                          "proxy" if v1 else "local"), event
    with t.check(f"{mode}: a hand-made connection from the proxy, v1 with a "
                 "client's addresses, then FIN: result=accepted"):
        event = closed_while_stopped(dc, lambda sock: header(
            "-1", "--src", f"{CLIENT_IP}:40000", "--dst",
            f"{dc.listener(HAND).address}:143"), False)
        assert event["result"] == "accepted", event
    for v1, what in ((False, "v2 LOCAL"),
                     (True, "v1 with the connection's own addresses")):
        with t.check(f"{mode}: a client from the proxy's address, {what}, "
                     "waits for the greeting: it comes after "
                     "haproxy_direct_wait, and the client logs in"):
            waits_for_greeting(dc, v1)
    with t.check(f"{mode}: a client from the proxy's address, v2 LOCAL and a "
                 "command, then FIN: result=accepted, the command answered"):
        half_closed_client(dc)


def checks_while_stopped(t, sb, dut):
    """HAProxy checks a long-lived login process that is stopped: every
    check has sent its header and closed when the process continues."""
    names = ("queued-v2", "queued-v1")
    dc = Dovecot(sb, [Listener("imap", name, haproxy=True)
                      for name in names],
                 plugin_dir=plugin_dir(), name="dovecot-stopped",
                 extra_config=settings(dut) + dut.long_lived(
                     "imap-login", "process_min_avail = 1"))
    hap = HAProxy(sb, name="haproxy-stopped")
    for name, option in zip(names, ("send-proxy-v2", "send-proxy")):
        hap.backend(name, [(dc.listener(name), f"{option} {CHECK}")])
        hap.frontend(name, name)
    with dc:
        pids = wait_until(lambda: login_pids(dc))
        assert len(pids) == 1, pids
        with stopped(pids[0]):
            hap.start()
            # A check that HAProxy has under way when it stops may not have
            # sent its header: one more than needed.
            def queued():
                return [accept_queue(dc.listener(name)) for name in names]
            assert wait_until(lambda: min(queued()) > 5), queued()
            hap.stop()
            waiting = dict(zip(names, queued()))
        # Every queued connection ends in one event.
        for name in names:
            got = wait_until(lambda name=name: (lambda got: got if sum(
                got.values()) >= waiting[name] else None)(results(dc, name))
            ) or results(dc, name)
            t.ok(got.get("health_check", 0) >= 5 and "accepted" not in got,
                 f"{name}: checks that closed after their header while the "
                 "login process was stopped: result=health_check, none "
                 "accepted", f"{waiting[name]} queued: {got}")


def main(t):
    dut = dovecot_under_test()
    default = "one client per imap-login" + (
        ", accepted by the master" if dut.master_accepts else "")
    modes = {"long-lived": dut.long_lived("imap-login",
                                          "process_min_avail = 1"),
             "default": ""}
    with Sandbox() as sb:
        context = sb.certs.context()
        dcs = {mode: Dovecot(sb, [Listener("imap", listener_name(kind),
                                           haproxy=True)
                                  for kind in KINDS] +
                             [Listener("imap", HAND, haproxy=True)],
                             plugin_dir=plugin_dir(), name=f"dovecot-{mode}",
                             extra_config=settings(dut) + lines)
               for mode, lines in modes.items()}
        hap = HAProxy(sb)
        fronts = {}
        for mode, dc in dcs.items():
            for kind, (options, lines, _) in KINDS.items():
                backend = f"{mode}-{kind}"
                hap.backend(backend, [(dc.listener(listener_name(kind)),
                                       options)], *lines)
                fronts[backend] = hap.frontend(backend, backend)

        with dcs["long-lived"], dcs["default"]:
            with hap:
                watch_checks(t, dcs)
                for mode, dc in dcs.items():
                    check_servers(t, dc, mode, hap, fronts, context)
            for mode, dc in dcs.items():
                name = "long-lived imap-login" if mode == "long-lived" \
                    else default
                if can_see_epoll_wait():
                    hand_made(t, dc, name)
                else:
                    t.skip(f"{name}: hand-made checks", "cannot stop a "
                           "waiting process on this machine")
            for mode, dc in dcs.items():
                # Before stopping: the master warns that it was killed. (A
                # crash fails the stop.)
                problems = [line for line in dc.log_text().splitlines()
                            if any(f": {level}: " in line for level in
                                   ("Error", "Warning"))]
                t.eq(problems, [], f"{mode}: Dovecot logged no error or "
                     "warning")

        checks_while_stopped(t, sb, dut)


with Tap() as t:
    t.require(unmet_requirements(plugin=True, client=True))
    main(t)
