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
import struct
import subprocess
import time
from dataclasses import dataclass

from sandbox import (PROXY_IP, TIMEOUT, client_path, connect,
                     sandbox_processes, wait_until)


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
    The Dovecot needs a json_log_exporter() (sandbox.Dovecot23)."""
    match = dovecot.wait_for_log(
        r'^.* stats: Info: (\{"event":"%s",%s\})$' % (name, pattern),
        since=since)
    return json.loads(match.group(1))


def header_finished(dovecot, port, since=0):
    """The fields of the haproxy_header_finished event of the connection
    from our port, waiting for it."""
    return exported_event(dovecot, "haproxy_header_finished",
                          rf'.*"remote_port":{port}[,}}].*', since)["fields"]


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
# moved forwards"). The timer that timeout was for is then due at once,
# but a later one only as much later as it was. So the timer under test
# must be the one the process sleeps for when it is stopped, and it had
# best be continued soon after that timer expired: waiting_process(timer=)
# waits until the process sleeps for that timer, as far as the timeout it
# asked for tells (Dovecot rounds it up to a millisecond).
DEADLINE_SLACK = 0.001


def can_see_epoll_wait():
    """Whether waiting_process() knows this machine's system call numbers."""
    return platform.machine() == "x86_64"


def _proc_net_endpoint(address, port):
    """An endpoint as /proc/net/tcp{,6} prints it: each 32-bit word of the
    address in host byte order."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    raw = socket.inet_pton(family, address)
    words = struct.unpack(f"={len(raw) // 4}I", raw)
    return "".join("%08X" % word for word in words) + ":%04X" % port


def _server_inode(endpoint, sock):
    """The inode of the server's end of sock's connection to endpoint; 0
    while it waits in the listen queue (no file has it yet)."""
    server = _proc_net_endpoint(endpoint.address, endpoint.port)
    client = _proc_net_endpoint(*sock.getsockname()[:2])
    with open("/proc/net/tcp6" if ":" in endpoint.address
              else "/proc/net/tcp") as f:
        next(f)
        for line in f:
            fields = line.split()
            if fields[1] == server and fields[2] == client:
                return int(fields[9])
    return 0


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
    not.

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
            inode = inode or _server_inode(endpoint, sock)
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
                    armed_by = armed_by or time.monotonic()
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
