#!/usr/bin/env python3
"""doveadm reload while connections wait for their PROXY header, on a
long-lived imap-login and on one client per process. The promises pinned
here (README: "everything else on the server behaves as before", "a
header not complete within haproxy_timeout is cut off"; the guide: no
crash, no leak, no fd left open):

- A reload leaves the waiting connections to the login process that
  accepted them, as Dovecot does with its clients: a header sent after
  the reload is still read and applied there, and login-common then has
  the header's client (its line names rip=<the header's source>). Whether
  that login succeeds is Dovecot's business: an old login process's auth
  requests outlive their auth process, for plain listeners too.
- A silent connection and one with half a header still end at
  haproxy_timeout after their accept, with the plugin's timeout line: the
  reload neither closes them early nor lets them hang.
- Once its connections are done, each old login process exits, with no
  Fatal line, Panic or signal in the log; connections after the reload go
  to a new process, whose header works as always.

README: "Configure" (a header not complete within haproxy_timeout is
cut off).
"""

import re
import time

from headers import (DEADLINE_SLACK, alive, can_see_epoll_wait, header,
                     holds_listener, proxy_connect, waiting_process)
from sandbox import (PASSWORD, Dovecot, Listener, Sandbox, TIMEOUT,
                     dovecot_under_test, plugin_dir, recv_all,
                     unmet_requirements, wait_until)
from tap import Tap

TIMEOUT_SECS = 3
SRC_IP = "198.51.100.7"
LATE_IP, NEW_IP = "198.51.100.8", "198.51.100.9"


def login_bytes(src):
    return (header("--src", f"{src}:40000")
            + f"a LOGIN alice {PASSWORD}\r\nb LOGOUT\r\n".encode())


def case(t, dc, mode):
    listener = dc.listener("imap-proxy")
    waiting = {}
    with t.check(f"{mode}: three connections wait in imap-login for their "
                 "header: one to send it late, one silent, one with half"):
        for name in ("late", "silent", "half"):
            since = time.monotonic()
            sock = proxy_connect(listener)
            if name == "half":
                sock.sendall(header("--src", f"{SRC_IP}:40000")[:20])
            waiting[name] = (sock, since, waiting_process(
                dc, listener, sock, since).pid)
    old_pids = {pid for _, _, pid in waiting.values()}

    mark = dc.log_mark()
    with t.check(f"{mode}: doveadm reload"):
        run = dc.tool("doveadm", "-c", dc.config_path, "reload")
        assert run.returncode == 0, run.stderr
        dc.wait_for_log(r"master: Warning: SIGHUP received - reloading "
                        r"configuration", since=mark)
        # The master tells the old processes to close their listeners.
        assert wait_until(lambda: not any(holds_listener(pid, listener)
                                          for pid in old_pids)), \
            "an old imap-login still listens"

    with t.check(f"{mode}: a connection after the reload is served by a "
                 "new process, its header applied"):
        new_mark = dc.log_mark()
        since = time.monotonic()
        with proxy_connect(listener) as sock:
            pid = waiting_process(dc, listener, sock, since).pid
            assert pid not in old_pids, f"{pid} accepted it before too"
            sock.sendall(login_bytes(NEW_IP))
            assert b"\r\na OK " in recv_all(sock)
        fields = dc.wait_for_login("alice", new_mark)
        assert fields["rip"] == NEW_IP, fields

    with t.check(f"{mode}: the header sent after the reload is applied by "
                 "the process that waited for it"):
        sock = waiting["late"][0]
        port = sock.getsockname()[1]
        late_mark = dc.log_mark()
        sock.sendall(login_bytes(LATE_IP))
        reply = recv_all(sock)
        sock.close()
        assert reply.startswith(b"* OK "), reply
        dc.wait_for_log(rf"imap-login: Debug: haproxy: PROXY v2: client "
                        rf"{re.escape(LATE_IP)}:40000, .*\(rip=[\d.]+, "
                        rf"rport={port},", since=late_mark)
        # Login or not: login-common's line for it names the client.
        dc.wait_for_log(rf"imap-login: Info: .* rip={re.escape(LATE_IP)}, "
                        rf"rport=40000, .*real_rport={port},",
                        since=late_mark)

    for name, what in (("silent", ": nothing came, .*"), ("half", " ")):
        sock, since, _ = waiting[name]
        with t.check(f"{mode}: the {name} connection ends at haproxy_timeout "
                     "after its accept, with the timeout line"):
            port = sock.getsockname()[1]
            assert recv_all(sock) == b""
            elapsed = time.monotonic() - since
            sock.close()
            # Dovecot's timers keep whole milliseconds of the time they
            # were armed at: one may run up to 1 ms early.
            assert elapsed >= TIMEOUT_SECS - DEADLINE_SLACK, \
                f"closed after {elapsed:.4f} s"
            dc.wait_for_log(
                rf"imap-login: Error: haproxy: Timed out after "
                rf"{TIMEOUT_SECS} secs waiting for the PROXY header"
                rf"{what}\(rip=[\d.]+, rport={port}, ", since=mark)

    with t.check(f"{mode}: then every old imap-login exits"):
        assert wait_until(lambda: not any(alive(p) for p in old_pids),
                          timeout=TIMEOUT), \
            f"still running: {[p for p in old_pids if alive(p)]}"
    t.eq(re.findall(r"^.*(?:Fatal|Panic|killed with signal).*$",
                    dc.log_text(), re.M), [],
         f"{mode}: no Fatal, Panic or killed process in the log")


def main(t):
    dut = dovecot_under_test()
    with Sandbox() as sb:
        for mode, lines in (("long-lived imap-login",
                             dut.long_lived("imap-login")),
                            ("one client per imap-login", "")):
            dc = Dovecot(sb, [Listener("imap", "imap-proxy", haproxy=True)],
                         plugin_dir=plugin_dir(),
                         haproxy_timeout=f"{TIMEOUT_SECS}s",
                         name="dovecot-" + mode.split()[0],
                         extra_config=(dut.cleartext_auth() + lines
                                       + "log_debug = category=haproxy\n"))
            with dc:
                case(t, dc, mode)


with Tap() as t:
    t.require(unmet_requirements(plugin=True, client=True))
    if not can_see_epoll_wait():
        t.skip_all("needs x86_64's system call numbers to see a login "
                   "process wait")
    main(t)
