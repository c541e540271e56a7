#!/usr/bin/env python3
"""The sandbox fails a test whose Dovecot crashed, in one place: stopping
it (sandbox._Server.stop(), which `with dc:` and Sandbox.close() call)
raises when a process of it was killed by a signal, panicked, logged a
Fatal line or exited with an error, or when the master itself exits
badly; unless the test named that very line with Dovecot.provokes().

Every test script that starts a Dovecot relies on this; here each kind of
crash is made on purpose, and the stop must report it.
"""

import os
import signal

from headers import asleep, can_see_epoll_wait, header, login_pids
from sandbox import (PROXY_IP, Dovecot, Listener, Sandbox, connect,
                     dovecot_under_test, plugin_dir, recv_all,
                     unmet_requirements, wait_until)
from tap import Tap

# The master's report of a login process that a signal killed, as the log
# process writes it; then the reason core dumps were not written, for the
# signals that dump core.
KILLED = (r"imap-login: Fatal: master: service\(imap-login\): child \d+ "
          r"killed with signal {}(?: \(.*\))?")
# The plugin's Fatal line for an invalid entry of the trusted networks.
INVALID = ("imap-login: Fatal: haproxy_trusted_networks: Invalid network "
           "'10\\.0\\.0\\.0/33'")


def login_processes(sb, name, count=1, **options):
    """A Dovecot with count long-lived imap-login processes started at
    once."""
    dut = dovecot_under_test()
    return Dovecot(sb, [Listener("imap", "imap-proxy", haproxy=True)],
                   plugin_dir=plugin_dir(), name=name,
                   extra_config=dut.long_lived(
                       "imap-login", f"process_min_avail = {count}"),
                   **options)


def stop_report(dc):
    """What dc.stop() raised, or None."""
    try:
        dc.stop()
    except AssertionError as e:
        return str(e)
    return None


def kill_login(dc, signum, count=1):
    """Kills a login process of dc with signum; returns once the master
    has reported it and the count that it keeps are up again, each asleep
    in its ioloop: one still starting when Dovecot stops fails to read its
    configuration, a crash of its own."""
    pids = wait_until(lambda: login_pids(dc))
    assert pids, "no login process"
    victim = pids[0]
    mark = dc.log_mark()
    os.kill(victim, signum)
    dc.wait_for_log("^.* " + KILLED.format(int(signum)), since=mark)

    def settled():
        pids = login_pids(dc)
        return len(pids) == count and victim not in pids and \
            all(asleep(pid) for pid in pids)
    assert wait_until(settled), f"login processes: {login_pids(dc)}"


def killed(t, sb):
    with t.check("a login process killed by SIGSEGV: the stop fails, "
                 "naming the master's report"):
        dc = login_processes(sb, "segv")
        with dc:
            kill_login(dc, signal.SIGSEGV)
            report = stop_report(dc)
        assert report and "killed with signal 11" in report, report

    with t.check("the same, the line named with provokes(): the stop "
                 "passes"):
        dc = login_processes(sb, "segv-provoked")
        dc.provokes(KILLED.format(11))
        with dc:
            kill_login(dc, signal.SIGSEGV)
            report = stop_report(dc)
        assert report is None, report

    with t.check("provokes() names one line: SIGSEGV named, a login process "
                 "killed by SIGKILL still fails the stop"):
        dc = login_processes(sb, "kill")
        dc.provokes(KILLED.format(11))
        with dc:
            kill_login(dc, signal.SIGKILL)
            report = stop_report(dc)
        assert report and "killed with signal 9" in report, report


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
                          "--dst", "127.0.0.3:143")
            with connect(dc.listener("imap-builtin"), PROXY_IP) as sock:
                sock.sendall(line.replace(b"PROXY ", b"PROXYx ", 1))
                recv_all(sock)
            dc.wait_for_log("^.* " + KILLED.format(6), since=mark)
            report = stop_report(dc)
        assert report and "imap-login: Panic: " in report, report


def fatal(t, sb):
    for name, provoked in (("fatal", False), ("fatal-provoked", True)):
        dc = login_processes(sb, name, haproxy_trusted_networks=(
            f"{PROXY_IP}/32, 10.0.0.0/33"))
        if provoked:
            dc.provokes(INVALID)
        with dc:
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
        dc = login_processes(sb, "master")
        with dc:
            pids = wait_until(lambda: login_pids(dc))
            assert pids, "no login process"
            os.kill(dc.pid, signal.SIGKILL)
            report = stop_report(dc)
        assert report and f"exited with status {-signal.SIGKILL}" in \
            report, report


def since(t, sb):
    with t.check("crashes(since): only the lines after the mark"):
        dc = login_processes(sb, "since", count=2)
        dc.provokes(KILLED.format(11))
        with dc:
            kill_login(dc, signal.SIGSEGV, count=2)
            assert dc.crashes() == [], dc.crashes()
            mark = dc.log_mark()
            kill_login(dc, signal.SIGABRT, count=2)
            before, after = dc.crashes(), dc.crashes(mark)
            assert len(before) == len(after) == 1 and \
                "killed with signal 6" in after[0], (before, after)
            dc.provokes(KILLED.format(6))


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
