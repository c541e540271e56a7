#!/usr/bin/env python3
"""Memory of pending connections: PENDING trusted peers connect and send
nothing, as a proxy would before its header, to one long-lived imap-login
with the plugin and then to one with Dovecot's built-in parser. What each
connection costs is the growth of the process's resident memory, one
second after the last has been accepted, divided by PENDING. Prints both
and their ratio; asserts nothing."""

import os
import resource
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..",
                                "sandbox"))
from sandbox import (PROXY_IP, Dovecot, Listener, Sandbox,  # noqa: E402
                     connect, dovecot_under_test, plugin_dir,
                     sandbox_processes, wait_until)

PENDING = int(os.environ.get("BENCH_PENDING", "2000"))


def login_process(dovecot):
    for pid in sandbox_processes(dovecot.dir, dovecot.pid):
        try:
            with open(f"/proc/{pid}/comm") as f:
                if f.read().strip() == "imap-login":
                    return pid
        except OSError:
            pass
    return None


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        fields = dict(line.split(":", 1) for line in f)
    return int(fields["VmRSS"].split()[0])


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def pending_cost(dovecot):
    """Bytes of resident memory per silent pending connection."""
    with dovecot:
        pid = wait_until(lambda: login_process(dovecot))
        listener = dovecot.listener("proxy")
        # A few connections first, so that what a process allocates once
        # is not counted.
        for _ in range(3):
            with connect(listener, source=PROXY_IP):
                pass
        time.sleep(1)
        before, fds = rss_kib(pid), open_fds(pid)
        socks = [connect(listener, source=PROXY_IP) for _ in range(PENDING)]
        try:
            if not wait_until(lambda: open_fds(pid) >= fds + PENDING,
                              timeout=30):
                raise RuntimeError("the login process did not accept them")
            time.sleep(1)
            return (rss_kib(pid) - before) * 1024 / PENDING
        finally:
            for sock in socks:
                sock.close()


def main():
    if plugin_dir() is None:
        sys.exit("bench-pending: HAPROXY_PLUGIN_DIR does not hold the plugin")
    need = PENDING + 256
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, max(hard, need)))
    dut = dovecot_under_test()
    config = ("haproxy_timeout = 30s\n" + dut.long_lived(
        "imap-login", "process_min_avail = 1", "process_limit = 1",
        f"client_limit = {PENDING + 100}"))
    with Sandbox() as sb:
        costs = {}
        for name, plugins in (("plugin", plugin_dir()), ("built-in", None)):
            costs[name] = pending_cost(Dovecot(
                sb, [Listener("imap", "proxy", haproxy=True)],
                plugin_dir=plugins, extra_config=config, name=name))
    print(f"imap-login resident memory per silent pending connection, "
          f"{PENDING} connections (Dovecot {dut.version})")
    for name, cost in costs.items():
        print(f"  {name:9} {cost:8.0f} bytes")
    print(f"  plugin / built-in: x{costs['plugin'] / costs['built-in']:.3f}")


if __name__ == "__main__":
    main()
