#!/usr/bin/env python3
"""The sandbox fails a test whose Dovecot crashed, in one place: stopping
it (sandbox._Server.stop(), which `with dc:` and Sandbox.close() call)
raises when a process of it was killed by a signal, panicked, logged a
Fatal line or exited with an error, or when the master itself exits
badly; unless the test named that very line with Dovecot.provokes().

Every test script that starts a Dovecot relies on this; here each kind of
crash is made on purpose, and the stop must report it.

README: "Tests and measurements" (a crash fails the suite).
"""

import os
import signal

from headers import (DST, asleep, can_see_epoll_wait, exchange, header,
                     login_pids)
from sandbox import (PROXY_IP, Dovecot, Listener, Sandbox, connect,
                     dovecot_under_test, plugin_dir, unmet_requirements,
                     wait_until)
from tap import Tap

# The master's report of a login process that a signal killed, as the log
# process writes it; then the reason core dumps were not written, for the
# signals that dump core.
KILLED = (r"imap-login: Fatal: master: service\(imap-login\): child \d+ "
          r"killed with signal {}(?: \(.*\))?")
# The plugin's Fatal line for an invalid entry of the trusted networks.
INVALID = ("imap-login: Fatal: haproxy_trusted_networks: Invalid network "
           "'10\\.0\\.0\\.0/33'")


def long_lived(sb, name, **options):
    """A Dovecot whose imap-login processes are long-lived, and started
    only for a client: the master starts none of its own accord, which
    could race with its stop."""
    dut = dovecot_under_test()
    return Dovecot(sb, [Listener("imap", "imap-proxy", haproxy=True)],
                   plugin_dir=plugin_dir(), name=name,
                   extra_config=dut.long_lived("imap-login"), **options)


def stop_report(dc):
    """What dc.stop() raised, or None."""
    try:
        dc.stop()
    except AssertionError as e:
        return str(e)
    return None


def login_process(dc):
    """The pid of dc's imap-login process, once it has served a client
    and sleeps in its ioloop; the master starts one for the client."""
    _, reply = exchange(dc.listener("imap-proxy"), header() + b"a LOGOUT\r\n")
    assert b"\r\na OK " in reply, reply
    pids = wait_until(lambda: [pid for pid in login_pids(dc)
                               if asleep(pid)])
    assert len(pids) == 1, f"login processes: {login_pids(dc)}"
    return pids[0]


def kill_login(dc, signum):
    """Kills dc's login process with signum; returns once the master has
    reported it."""
    pid = login_process(dc)
    mark = dc.log_mark()
    os.kill(pid, signum)
    dc.wait_for_log("^.* " + KILLED.format(int(signum)), since=mark)


def killed(t, sb):
    # (name, the signal whose line provokes() names, the signal sent)
    for name, named, signum, what in (
            ("segv", None, signal.SIGSEGV, "a login process killed by "
             "SIGSEGV: the stop fails, naming the master's report"),
            ("segv-provoked", 11, signal.SIGSEGV, "the same, the line named "
             "with provokes(): the stop passes"),
            ("kill", 11, signal.SIGKILL, "provokes() names one line: "
             "SIGSEGV named, a login process killed by SIGKILL still fails "
             "the stop")):
        with t.check(what):
            dc = long_lived(sb, name)
            if named:
                dc.provokes(KILLED.format(named))
            with dc:
                kill_login(dc, signum)
                report = stop_report(dc)
            if named == signum:
                assert report is None, report
            else:
                assert report and \
                    f"killed with signal {int(signum)}" in report, report


def panicked(t, sb):
    """Dovecot's own parser asserts that a v1 line from a trusted peer
    starts with "PROXY " (master-service-haproxy.c, every version from
    2.3.16 to 2.4.5): "PROXYx" makes a real Panic."""
    with t.check("a login process that panics (Dovecot's own parser and "
                 "PROXYx): the stop fails, naming the Panic line"):
        dc = Dovecot(sb, [Listener("imap", "imap-builtin", haproxy=True)],
                     name="builtin")
        with dc:
            mark = dc.log_mark()
            line = header("-1", "--src", "127.0.0.9:4242",
                          "--dst", DST)
            exchange(dc.listener("imap-builtin"),
                     line.replace(b"PROXY ", b"PROXYx ", 1))
            dc.wait_for_log("^.* " + KILLED.format(6), since=mark)
            report = stop_report(dc)
        assert report and "imap-login: Panic: " in report, report


def fatal(t, sb):
    for name, provoked in (("fatal", False), ("fatal-provoked", True)):
        dc = long_lived(sb, name, haproxy_trusted_networks=(
            f"{PROXY_IP}/32, 10.0.0.0/33"))
        if provoked:
            dc.provokes(INVALID)
        with dc:
            # The master starts a login process for a client.
            with connect(dc.listener("imap-proxy"), PROXY_IP):
                dc.wait_for_log("^.* " + INVALID + "$")
            report = stop_report(dc)
        if provoked:
            t.ok(report is None, "the same, the line named with provokes(): "
                 "the stop passes", report)
        else:
            t.ok(report and "imap-login: Fatal: haproxy_trusted_networks" in
                 report, "a login process's Fatal line (an invalid "
                 "haproxy_trusted_networks): the stop fails, naming it",
                 report)


def master(t, sb):
    with t.check("a master killed by SIGKILL: the stop fails with its exit "
                 "status, and kills what it left"):
        dc = long_lived(sb, "master")
        with dc:
            login_process(dc)
            os.kill(dc.pid, signal.SIGKILL)
            report = stop_report(dc)
        assert report and f"exited with status {-signal.SIGKILL}" in \
            report, report


def since(t, sb):
    with t.check("crashes(since, until): only the lines between the "
                 "marks"):
        dc = long_lived(sb, "since")
        with dc:
            kill_login(dc, signal.SIGSEGV)
            mark = dc.log_mark()
            kill_login(dc, signal.SIGABRT)
            before, after = dc.crashes(0, mark), dc.crashes(mark)
            assert len(before) == len(after) == 1 and \
                "killed with signal 11" in before[0] and \
                "killed with signal 6" in after[0], (before, after)
            dc.provokes(KILLED.format(11), KILLED.format(6))


with Tap() as t:
    t.require(unmet_requirements(plugin=True, client=True))
    if not can_see_epoll_wait():
        t.skip_all("knows only x86_64's numbers of the epoll_wait calls")
    with Sandbox() as sb:
        killed(t, sb)
        panicked(t, sb)
        fatal(t, sb)
        master(t, sb)
        since(t, sb)
