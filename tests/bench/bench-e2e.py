#!/usr/bin/env python3
"""End-to-end cost of a PROXY header, in one run: the same IMAP session
(connect, header, greeting, LOGOUT) against a Dovecot with the plugin,
a Dovecot with its built-in parser, and their plain listeners with no
header; and a peer in haproxy_direct_networks only, which the plugin
serves without a header on its haproxy listener, against the same peer
on the plain listener.

Both Dovecots keep one long-lived imap-login process, so what differs is
the header handling, not process creation. Modes take
turns round after round so that drift in machine speed hits them alike.
Prints medians and ratios; asserts nothing about speed."""

import os
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..",
                                "sandbox"))
from sandbox import (CLIENT_IP, PROXY_IP, Dovecot, Listener,  # noqa: E402
                     Sandbox, dovecot_under_test, plugin_dir)
from bench_sessions import headers, session  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "7"))
SESSIONS = int(os.environ.get("BENCH_SESSIONS", "200"))

def login_rss_kib(dovecot):
    """Resident and peak memory of the imap-login process of dovecot."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if not f.read().startswith(b"dovecot/imap-login"):
                    continue
            if not os.readlink(f"/proc/{pid}/root").startswith(dovecot.dir):
                continue
            with open(f"/proc/{pid}/status") as f:
                fields = dict(line.split(":", 1) for line in f)
        except OSError:
            continue
        return (int(fields["VmRSS"].split()[0]),
                int(fields["VmHWM"].split()[0]))
    raise RuntimeError("imap-login process not found")


def main():
    plugins = plugin_dir()
    if plugins is None:
        sys.exit("bench-e2e: HAPROXY_PLUGIN_DIR does not hold the plugin")
    sent = headers()
    long_lived = dovecot_under_test().long_lived(
        "imap-login", "process_min_avail = 1", "process_limit = 1")

    with Sandbox() as sb:
        ours = Dovecot(sb, [Listener("imap", "proxy", haproxy=True),
                            Listener("imap", "plain")],
                       plugin_dir=plugins, name="plugin",
                       extra_config=long_lived +
                       f"haproxy_direct_networks = {CLIENT_IP}\n")
        builtin = Dovecot(sb, [Listener("imap", "proxy", haproxy=True),
                               Listener("imap", "plain")],
                          extra_config=long_lived, name="builtin")
        # The plain listener of the plugin's Dovecot shows what the plugin
        # costs the listeners it does not own.
        modes = {"direct": (builtin.listener("plain"), b"", PROXY_IP),
                 "direct, plugin loaded": (ours.listener("plain"), b"",
                                           PROXY_IP),
                 "direct peer, plain": (ours.listener("plain"), b"",
                                        CLIENT_IP),
                 "direct peer, haproxy": (ours.listener("proxy"), b"",
                                          CLIENT_IP)}
        for name, data in sent.items():
            modes[f"plugin   {name}"] = (ours.listener("proxy"), data,
                                         PROXY_IP)
            modes[f"built-in {name}"] = (builtin.listener("proxy"), data,
                                         PROXY_IP)

        with ours, builtin:
            times = {mode: [] for mode in modes}
            order = list(modes)
            for _ in range(ROUNDS):
                for mode in order:
                    times[mode] += [session(*modes[mode])
                                    for _ in range(SESSIONS)]
                # Whoever goes first meets a cold machine: rotate.
                order = order[1:] + order[:1]
            memory = {"plugin": login_rss_kib(ours),
                      "built-in": login_rss_kib(builtin)}

    median = {mode: statistics.median(t) for mode, t in times.items()}
    direct = median["direct"]
    print(f"connect -> greeting, median of {ROUNDS} x {SESSIONS} sessions "
          "per mode (one long-lived imap-login each)")
    print(f"  {'direct':28} {direct:8.1f} us")
    loaded = median["direct, plugin loaded"]
    print(f"  {'direct, plugin loaded':28} {loaded:8.1f} us   "
          f"{'':17}x{loaded / direct:.3f} direct")
    for name in sent:
        ours_us = median[f"plugin   {name}"]
        theirs_us = median[f"built-in {name}"]
        print(f"  {'plugin   ' + name:28} {ours_us:8.1f} us   "
              f"x{ours_us / theirs_us:.3f} built-in   "
              f"x{ours_us / direct:.3f} direct")
        print(f"  {'built-in ' + name:28} {theirs_us:8.1f} us   "
              f"{'':17}x{theirs_us / direct:.3f} direct")
    plain, ours_direct = (median["direct peer, plain"],
                          median["direct peer, haproxy"])
    print(f"  {'direct peer, plain listener':28} {plain:8.1f} us")
    print(f"  {'direct peer, haproxy listener':28} {ours_direct:8.1f} us   "
          f"rate x{plain / ours_direct:.3f} of the plain listener's")
    print(f"imap-login memory after {ROUNDS * SESSIONS * (len(sent) + 1)}+ "
          "sessions each (RSS / peak, KiB):")
    for name, (rss, hwm) in memory.items():
        print(f"  {name:9} {rss:6d} / {hwm:6d}")
    print(f"  plugin / built-in peak: x{memory['plugin'][1] / memory['built-in'][1]:.3f}")


if __name__ == "__main__":
    main()
