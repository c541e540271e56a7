#!/usr/bin/env python3
"""Helpers for the tests that send PROXY headers by hand.

The headers themselves come from the project's client, haproxy-connect
--print-header (make check names it in HAPROXY_CONNECT); a test only cuts,
delays or corrupts its bytes. The rest looks at the server side: what the
kernel still holds unread for Dovecot, which login processes run, the
events a log exporter wrote, and which login process holds a connection,
to stop it while that connection waits (waiting_process(), stopped()).
"""

import contextlib
import json
import os
import platform
import re
import signal
import socket
import subprocess
import time
from dataclasses import dataclass

from sandbox import (DOVECOT_IP, PROXY_IP, TIMEOUT, client_path, connect,
                     recv_all, sandbox_processes, wait_until)
# unread_bytes: for the tests that have always imported it from here.
from tcp import listener_inode, server_inode, unread_bytes  # noqa: F401


def header(*options):
    """The bytes of haproxy-connect --print-header OPTIONS."""
    return subprocess.run([client_path(), "--print-header", *options],
                          check=True, capture_output=True,
                          timeout=TIMEOUT).stdout


def escaped(data, shown=None):
    """Bytes from the wire as the plugin's log lines and fields show them
    (dovecot-haproxy(7)): printable ASCII as is, the rest and \\ and " as
    \\xNN; cut after shown bytes with "..." where the plugin cuts."""
    text = "".join(chr(b) if 0x20 <= b < 0x7f and b not in b'\\"'
                   else f"\\x{b:02x}" for b in data[:shown])
    return text + ("..." if shown is not None and len(data) > shown else "")


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


# Where a hand-made header says its client connected to: Dovecot's IMAP
# port, as a proxy in front of it would name it.
DST = f"{DOVECOT_IP}:143"

# The metric that exports every haproxy_header_finished event, for
# Dovecot23.exported(): header_finished() reads them.
HEADER_FINISHED = ("haproxy_finished", "event=haproxy_header_finished")


def cpu_seconds(pid):
    """utime + stime of process pid (stat(5)), or None once it has
    exited."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # Fields 14 and 15; the split begins at field 3.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def exported_event(dovecot, name, pattern=".*", since=0):
    """The first event called name exported to the log after offset
    since whose JSON matches regex pattern, waiting for it; as a dict.
    The Dovecot needs a metric of it in Dovecot23.exported()."""
    match = dovecot.wait_for_log(
        r'^.* stats: Info: (\{"event":"%s",%s\})$' % (name, pattern),
        since=since)
    return json.loads(match.group(1))


def header_finished(dovecot, port, since=0):
    """The fields of the haproxy_header_finished event of the connection
    from our port, waiting for it."""
    return exported_event(dovecot, "haproxy_header_finished",
                          rf'.*"remote_port":{port}[,}}].*', since)["fields"]


def tab_unescape(value):
    """Dovecot's tab-escaping undone (str_tabunescape)."""
    return re.sub("\x01(.)", lambda m: {"0": "\0", "1": "\x01", "t": "\t",
                                        "r": "\r", "n": "\n"}[m.group(1)],
                  value)


def auth_forward_fields(dovecot, since):
    """The forward fields of the first auth request after offset since, as
    a dict, from auth's debug line of it (auth_debug = yes); {} for a
    request without any."""
    line = dovecot.wait_for_log(r"client in: AUTH\t.*$", since=since).group(0)
    fields = [field.split("=", 1)[1] for field in line.split("\t")
              if field.startswith("forward_fields=")]
    assert len(fields) <= 1, line
    return dict(pair.split("=", 1) for field in fields
                for pair in tab_unescape(field).split("\t"))

# A login process whose timers run while it is busy: Dovecot's ioloop runs
# the timeouts that expired before the sockets that became ready in the
# same pass. A test makes a process that busy by stopping it (SIGSTOP) once
# it waits for a connection, sending bytes, sleeping past a timer and
# continuing it (SIGCONT).
#
# A process waits for a connection when it has the connection's fd in its
# epoll set and is blocked in epoll_wait: the plugin has then looked at
# what had arrived and armed its timers. /proc/PID/syscall shows the system
# call a blocked process is in, with its arguments; these are the x86_64
# numbers of epoll_wait and epoll_pwait, whose fourth argument is the
# timeout in milliseconds, and of epoll_pwait2.
EPOLL_WAIT, EPOLL_PWAIT, EPOLL_PWAIT2 = 232, 281, 441
#
# A stopped process is not quite a busy one: when its epoll_wait returns
# 100 ms or more after the timeout it asked for (1 s or more after a wait
# of 1 s or more, on 2.4), Dovecot takes that for the clock jumping
# forwards and moves every timer on by the difference (ioloop.c, "time
# moved forwards"). The timer that timeout was for is then due at once all
# the same, but a later one only as much later as it was. So the timer
# under test must be the one the process sleeps for when it is stopped
# (waiting_process(timer=) waits until the process sleeps for that timer,
# as far as the timeout it asked for tells; Dovecot rounds it up to a
# millisecond), and how late after it expired the process is continued
# does not matter: that timer runs first either way (test_busy.py pins it
# with a process continued late).
DEADLINE_SLACK = 0.001


def can_see_epoll_wait():
    """Whether waiting_process() knows this machine's system call numbers."""
    return platform.machine() == "x86_64"


def exchange(endpoint, data, source=PROXY_IP):
    """Sends data from source (a header and what follows it, or what comes
    instead); returns our port and all that the server sent until it
    closed."""
    with proxy_connect(endpoint, source) as sock:
        sock.sendall(data)
        return sock.getsockname()[1], recv_all(sock)


def holds_listener(pid, endpoint):
    """Whether process pid has the socket that listens on endpoint open
    (a login process closes it when told to stop taking connections)."""
    inode = listener_inode(endpoint)
    try:
        return inode != 0 and f"socket:[{inode}]" in _fd_links(pid).values()
    except OSError:  # exited
        return False


def _children(pid, comm):
    """The child processes of pid called comm."""
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        children = [int(child) for child in f.read().split()]
    named = []
    for child in children:
        try:
            with open(f"/proc/{child}/comm") as f:
                if f.read().rstrip("\n") == comm:
                    named.append(child)
        except OSError:  # exited meanwhile
            pass
    return named


def _fd_links(pid):
    """{fd: what it links to} of process pid."""
    links = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            links[int(fd)] = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:  # closed meanwhile
            pass
    return links


def _holder(inode, pids):
    """(pid, fd, {fd: link}) of the process among pids that has socket
    inode open, or None."""
    link = f"socket:[{inode}]"
    for pid in pids:
        try:
            links = _fd_links(pid)
        except OSError:  # exited meanwhile
            continue
        for fd, target in links.items():
            if target == link:
                return pid, fd, links
    return None


def _polled_fds(pid, links):
    """The fds in any epoll set of process pid, whose fds link to links."""
    fds = set()
    for fd, target in links.items():
        if target == "anon_inode:[eventpoll]":
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                fds.update(int(n) for n in
                           re.findall(r"^tfd:\s*(\d+) ", f.read(), re.M))
    return fds


def _epoll_wait_timeout(pid):
    """If pid sleeps in epoll_wait: the timeout it asked for, in seconds
    (-1: none; None: unknown, epoll_pwait2's is a pointer); else False
    ("running" while it runs, or is about to)."""
    with open(f"/proc/{pid}/syscall") as f:
        words = f.read().split()
    if not words[0].isdigit():
        return False
    number = int(words[0])
    if number in (EPOLL_WAIT, EPOLL_PWAIT):
        msecs = int(words[4], 16) & 0xffffffff
        return -1 if msecs >= 0x80000000 else msecs / 1000
    return None if number == EPOLL_PWAIT2 else False


def context_switches(pid):
    """How often pid has gone to sleep (voluntary context switches)."""
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"^voluntary_ctxt_switches:\s*(\d+)",
                             f.read(), re.M).group(1))


def asleep(pid):
    """Whether process pid sleeps in epoll_wait now: no fd it polls is
    ready and no timer of its has expired (beyond the millisecond it
    rounds a timeout up to), or the kernel would have woken it. False
    while it runs, is woken, is in another call or has exited."""
    try:
        # One sleep throughout: the count of sleeps the same around it.
        switches = context_switches(pid)
        return (_epoll_wait_timeout(pid) is not False and _state(pid) == "S"
                and context_switches(pid) == switches)
    except OSError:
        return False


def idle_after(pid, moment, timeout=TIMEOUT):
    """Waits until process pid sleeps in epoll_wait (asleep()) after
    moment (time.monotonic()): it has then run every timer of its that
    expired by moment, and looked at every fd of its that was readable.
    AssertionError after timeout."""
    # A timer is due up to a millisecond later than asked for.
    time.sleep(max(0.0, moment + 0.002 - time.monotonic()))
    assert wait_until(lambda: asleep(pid), timeout, interval=0.001), \
        f"process {pid} never slept in epoll_wait"


@dataclass
class Waiting:
    """A login process waiting for a connection. The plugin armed its
    timers for the connection between armed_after and armed_by
    (time.monotonic())."""
    pid: int
    fd: int
    armed_after: float
    armed_by: float


def waiting_process(dovecot, endpoint, sock, since, timer=None, again=None,
                    slept_since=None, service="imap-login",
                    timeout=TIMEOUT):
    """The login process of dovecot that accepted sock's connection to
    endpoint, once it waits for that connection (see above); since:
    time.monotonic() before sock connected.

    timer: the seconds of the plugin's timer for the connection that is to
    expire first; then the process must sleep until that timer expires,
    not until an earlier one (see above).
    again: this connection's Waiting from before something was sent that
    the process must look at, slept_since its context_switches() before
    that: it must have gone to sleep again since, with the fd polled or
    not. With again.armed_by None, what was sent arms the timer: after
    again.armed_after, before the process sleeps again.

    Polls every millisecond; AssertionError after timeout, or at once when
    the timer can no longer be waited for."""
    deadline = time.monotonic() + timeout
    armed_after, armed_by = (again.armed_after, again.armed_by) if again \
        else (since, None)
    pids = [again.pid] if again else None
    inode = 0
    # The sleep seen last, (timeout, switches), and when it began: after
    # the previous look, if that did not see it, and before the first look
    # that did.
    sleep_seen, slept_after, slept_by, previous = None, since, None, since
    seen = "nothing"
    while True:
        began = time.monotonic()
        try:
            inode = inode or server_inode(endpoint, sock)
            holder = inode and _holder(inode, pids or _children(
                dovecot.pid, service))
            if holder:
                pid, fd, links = holder
                pids = [pid]
                # Once it has waited, the plugin may wait on as it likes.
                if again is None and fd not in _polled_fds(pid, links):
                    armed_after, sleep_seen = began, None
                    seen = f"process {pid} has fd {fd}, not polled yet"
                else:
                    # The fd may be polled before the timer is armed (a
                    # process preempted in between): only a process asleep
                    # since has armed it for certain, below.
                    sleep = _epoll_wait_timeout(pid)
                    switches = context_switches(pid)
                    seen_at = time.monotonic()
                    seen = (f"process {pid} polls fd {fd}, epoll_wait "
                            f"timeout {sleep}, {switches} switches")
                    if sleep is False:
                        sleep_seen, slept_after = None, began
                    elif (sleep, switches) != sleep_seen:
                        sleep_seen = sleep, switches
                        slept_after, slept_by = previous, seen_at
                    if sleep is not False and (slept_since is None or
                                               switches > slept_since):
                        armed_by = armed_by or seen_at
                        if timer is None:
                            return Waiting(pid, fd, armed_after, armed_by)
                        assert sleep is not None, \
                            "epoll_pwait2: its timeout cannot be seen"
                        # Bounds of when the sleep ends (the process
                        # rounds up to a millisecond) and the timer
                        # expires.
                        ends = (slept_after + sleep - 0.001, slept_by + sleep)
                        expires = (armed_after + timer - 0.001,
                                   armed_by + timer)
                        assert sleep >= 0 and \
                            ends[0] <= expires[1] + DEADLINE_SLACK, \
                            (f"{seen}: the {timer} s timer armed "
                             f"{seen_at - armed_after:.3f} s ago is no "
                             "longer pending")
                        if ends[1] >= expires[0] - DEADLINE_SLACK:
                            return Waiting(pid, fd, armed_after, armed_by)
        except OSError:  # the process exited meanwhile
            pass
        if began > deadline:
            raise AssertionError(
                f"no {service} process waits for the connection from "
                f"{sock.getsockname()}" + (
                    f" until its {timer} s timer" if timer else "")
                + f": saw {seen}")
        previous = began
        time.sleep(0.001)


def _state(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def alive(pid):
    """Whether process pid runs (an exited child stays as a zombie)."""
    try:
        return _state(pid) != "Z"
    except FileNotFoundError:
        return False


@contextlib.contextmanager
def stopped(pid):
    """Process pid stopped (SIGSTOP) for the block and continued (SIGCONT)
    after it, whatever happens in it. Yields time.monotonic() right after
    the stop was sent: a process that slept in epoll_wait then runs no
    more code of its own until continued. The block begins once the
    process is stopped."""
    os.kill(pid, signal.SIGSTOP)
    sent = time.monotonic()
    try:
        assert wait_until(lambda: _state(pid) == "T", interval=0.001), \
            f"process {pid} did not stop"
        yield sent
    finally:
        try:
            os.kill(pid, signal.SIGCONT)
        except ProcessLookupError:
            pass
