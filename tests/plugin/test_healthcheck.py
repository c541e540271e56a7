#!/usr/bin/env python3
"""HAProxy health checks with check-send-proxy: v2 sends a LOCAL header,
v1 (HAProxy 2.6) a TCP4 line with the check connection's own addresses.
Either way the login process must see the connection's own addresses and
log no error, and the server must stay UP in HAProxy.

Each backend has a listener of its own, so the log tells the checks apart.
"imap-v2" and "imap-v1" are layer 4 checks (HAProxy closes after the
header); "imap-greeting" also expects IMAP's greeting after the header.

The login processes run in their default mode, one client each. From
Dovecot 2.4.2 on the master accepts that client itself before the process
is up, and a layer 4 check has reset the connection by then: the process
can no longer ask who the peer was, nor read the header, and the plugin
logs that at Info level instead.

A connection of the proxy's own that closes right after its header (v2
LOCAL, or v1 whose addresses are the connection's own) is a health check:
its haproxy_header_finished event says result=health_check, not accepted,
so that a metric tells clients from checks. Whether the close has arrived
when the plugin reads the header depends on timing, so the cases that
count on it make sure it has: HAProxy checks a long-lived login process
while that is stopped, and hand-made checks close while their login
process is stopped (headers.stopped()).

README: "Configure" (check-send-proxy health checks log no error),
"What Dovecot 2.4 does differently" (the master accepts; login clients
that never go away) and "Logs and events" (result health_check).
"""

import re
import socket
import struct
import time

from headers import (can_see_epoll_wait, header, header_finished,
                     login_pids, proxy_connect, stopped, waiting_process)
from sandbox import (CLIENT_IP, PASSWORD, PROXY_IP, Dovecot, HAProxy, IMAP,
                     Listener, Sandbox, assert_login, dovecot_under_test,
                     plugin_dir, unmet_requirements, wait_until)
from tap import Tap
from tcp import accept_queue

CHECK = "check check-send-proxy inter 200ms"
# The plugin's debug line for a check: LOCAL, or addresses that are the
# connection's own (rport is the client port of the header).
LOCAL = (r"PROXY v2 LOCAL: using the connection's own addresses "
         rf"\(rip={PROXY_IP}, rport=\d+")
V1 = (rf"PROXY v1: client {PROXY_IP}:(\d+), server [\d.]+:\d+ "
      rf"\(rip={PROXY_IP}, rport=\1")
# A layer 4 check has usually closed by the time its header is read: that
# makes it a health check, with a line of its own.
def closed(version):
    return (r"Health check: the proxy closed its connection after the "
            rf"PROXY {version} header \(rip={PROXY_IP}, rport=\d+")


# backend: (server options, backend lines, the check's debug line, the
# check status HAProxy must report)
BACKENDS = {
    "imap-v2": ("send-proxy-v2 " + CHECK, (),
                f"(?:{LOCAL}|{closed('v2 LOCAL')})", "L4OK"),
    "imap-v1": ("send-proxy " + CHECK, (), f"(?:{V1}|{closed('v1')})",
                "L4OK"),
    "imap-greeting": ("send-proxy-v2 " + CHECK,
                      ("option tcp-check", 'tcp-check expect string "* OK"'),
                      LOCAL, "L7OK"),
}
CHECKS = 5  # how many checks of each backend to wait for
RESET = r"Info: haproxy: Connection reset before its peer could be identified"


# Hand-made connections of the proxy go to a listener of their own.
HAND = "imap-hand"


def settings(dut):
    """The metric that tells checks from clients, per listener, and the
    events of hand-made connections exported."""
    return ("log_debug = category=haproxy\n"
            + dut.metric("haproxy_checks", "event=haproxy_header_finished",
                         group_by=("listener", "result"))
            + dut.exported(("haproxy_hand", "event=haproxy_header_finished "
                            f"AND listener={HAND}")))


def checks_while_stopped(t, sb):
    """HAProxy checks a long-lived login process that is stopped: every
    check has sent its header and closed when the process continues. Then
    the hand-made ones, on that process."""
    dut = dovecot_under_test()
    names = ("queued-v2", "queued-v1")
    dc = Dovecot(sb, [Listener("imap", name, haproxy=True)
                      for name in (*names, HAND)],
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
            assert wait_until(lambda: min(queued()) > CHECKS), queued()
            hap.stop()
            waiting = dict(zip(names, queued()))
        # Every queued connection ends in one event.
        for name in names:
            def settled():
                got = dc.metric_counts("haproxy_checks_")
                return got if sum(n for m, n in got.items() if m.startswith(
                    f"haproxy_checks_{name}_")) >= waiting[name] else None
            got = wait_until(settled) or dc.metric_counts("haproxy_checks_")
            got = {m[len("haproxy_checks_"):]: n for m, n in got.items()
                   if m.startswith(f"haproxy_checks_{name}_")}
            t.ok(got.get(f"{name}_health_check", 0) >= CHECKS and
                 f"{name}_accepted" not in got,
                 f"{name}: checks that closed after their header while the "
                 "login process was stopped: result=health_check, none "
                 "accepted", f"{waiting[name]} queued: {got}")
        if can_see_epoll_wait():
            hand_made(t, dc, "long-lived imap-login")


def hand_made(t, dc, mode):
    """Checks made by hand from the proxy's address, each closed while its
    login process is stopped, and a client that does the same."""
    listener = dc.listener(HAND)
    for what, own, reset, result in (
            ("v2 LOCAL, then FIN", None, False, "health_check"),
            ("v1 with the connection's own addresses, then RST", True, True,
             "health_check"),
            ("v1 with a client's addresses, then FIN", False, False,
             "accepted")):
        with t.check(f"{mode}: a hand-made connection from the proxy, "
                     f"{what}: result={result}"):
            mark = dc.log_mark()
            began = time.monotonic()
            sock = proxy_connect(listener)
            try:
                src = "%s:%d" % sock.getsockname()
                if own is None:
                    data = header("--local")
                elif own:
                    data = header("-1", "--src", src, "--dst",
                                  f"{listener.address}:{listener.port}")
                else:
                    data = header("-1", "--src", f"{CLIENT_IP}:40000",
                                  "--dst", f"{listener.address}:143")
                port = sock.getsockname()[1]
                waiting = waiting_process(dc, listener, sock, began)
                with stopped(waiting.pid):
                    sock.sendall(data)
                    if reset:
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                        struct.pack("ii", 1, 0))
                    sock.close()
            finally:
                sock.close()
            event = header_finished(dc, port, mark)
            assert event["result"] == result, event


with Tap() as t:
    t.require(unmet_requirements(plugin=True, client=True))
    dut = dovecot_under_test()
    with Sandbox() as sb:
        context = sb.certs.context()
        dc = Dovecot(sb, [Listener("imap", name, haproxy=True)
                          for name in (*BACKENDS, HAND)],
                     plugin_dir=plugin_dir(), extra_config=settings(dut))
        hap = HAProxy(sb)
        fronts = {}
        for name, (options, lines, _, _) in BACKENDS.items():
            hap.backend(name, [(dc.listener(name), options)], *lines)
            fronts[name] = hap.frontend(name, name)

        with dc, hap:
            for name, (_, _, debug_line, status) in BACKENDS.items():
                reached = rf"Debug: haproxy: {debug_line}, listener={name}\)"
                # From 2.4.2 on the master accepts a layer 4 check, which
                # has mostly reset the connection by the time its login
                # process looks at it: then only the line says so.
                # hand_made() has this mode read such a check's header.
                resets = status == "L4OK" and dc.under_test.master_accepts
                if resets:
                    reached = (rf"(?:{reached}|{RESET} "
                               rf"\(listener={name}\))")
                with t.check(f"{name}: {CHECKS} checks reach the plugin, "
                             "which keeps the connection's own addresses" +
                             (" where the check has not reset it yet"
                              if resets else "") + ", and logs no other "
                             "line of them"):
                    # The checks begin when HAProxy starts: count from there.
                    dc.wait_for_log(rf"(?s)(?:{reached}.*?){{{CHECKS}}}")
                    lines = re.findall(rf"^.* haproxy: .*listener={name}\)$",
                                       dc.log_text(), re.M)
                    other = [line for line in lines
                             if not re.search(reached + "$", line)]
                    assert not other, other
                stat = hap.stats(name, "s1")
                got = {k: stat[k] for k in ("status", "check_status",
                                            "chkfail")}
                # "* L7OK": the last check's status, another check under way.
                got["check_status"] = got["check_status"].lstrip("* ")
                t.eq(got, {"status": "UP", "check_status": status,
                           "chkfail": "0"}, f"{name}: HAProxy has the "
                     f"server UP, last check {status}, no check failed")
                with t.check(f"{name}: a login through the checked server "
                             "shows the client's address"):
                    mark = dc.log_mark()
                    with IMAP(fronts[name]) as imap:
                        imap.starttls(context)
                        imap.login("alice", PASSWORD)
                    assert_login(dc.wait_for_login("alice", mark),
                                 rip=CLIENT_IP, real_rip=PROXY_IP,
                                 listener=name)

            # A check is no client: health_check, not accepted. From 2.4.2
            # on, a layer 4 check may also end in disconnected (reset
            # before the process could identify the peer).
            for name, (_, _, _, status) in BACKENDS.items():
                if status != "L4OK":
                    continue
                ends = ["health_check"] + (
                    ["disconnected"] if dut.master_accepts else [])

                def checked(name=name, ends=ends):
                    return sum(dc.metric_counts("haproxy_checks_").get(
                        f"haproxy_checks_{name}_{end}", 0) for end in ends)
                t.ok(wait_until(lambda: checked() >= CHECKS),
                     f"{name}: the metric counts its checks as "
                     + " or ".join(f"result={end}" for end in ends),
                     dc.metric_counts("haproxy_checks_"))

            default = "one client per imap-login" + (
                ", accepted by the master" if dut.master_accepts else "")
            if can_see_epoll_wait():
                hand_made(t, dc, default)
            else:
                t.skip("hand-made checks", "cannot stop a waiting process "
                       "on this machine")

            # Before stopping: the master warns that it was killed. (A
            # crash fails the stop.)
            problems = re.findall(r"^.*: (?:Error|Warning): .*$",
                                  dc.log_text(), re.MULTILINE)
            t.eq(problems, [], "Dovecot logged no error or warning")

        checks_while_stopped(t, sb)
